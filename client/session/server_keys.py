"""The server's public keys, pinned on this PC.

The signing key verifies paper packages and rules files; the box key encrypts offline
answer files and the store's recovery wrap. An admin can pin the signing key in user.ini
([server] signing_public_key); otherwise it is pinned on first contact (trust on first use)
and a later different key is refused, so a rogue server on the center LAN cannot swap it.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from client.errors import UserFacingError
from client.i18n import _

PIN_FILE = "server-keys.json"


@dataclass(frozen=True)
class ServerKeys:
    signing_public_key: bytes  # raw Ed25519
    box_public_key: bytes      # raw X25519

    @property
    def signing_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.signing_public_key)

    def to_json(self) -> str:
        return json.dumps({"signing_public_key": base64.b64encode(self.signing_public_key).decode(),
                           "box_public_key": base64.b64encode(self.box_public_key).decode()})

    @classmethod
    def from_json(cls, text: str) -> ServerKeys:
        data = json.loads(text)
        return cls(base64.b64decode(data["signing_public_key"]),
                   base64.b64decode(data["box_public_key"]))


def load_pinned(data_dir: Path) -> ServerKeys | None:
    path = data_dir / PIN_FILE
    if not path.exists():
        return None
    return ServerKeys.from_json(path.read_text(encoding="utf-8"))


def pin(data_dir: Path, offered: ServerKeys, *, configured_signing_key: str) -> ServerKeys:
    """Accept *offered* if it matches the configured or previously pinned key."""
    if configured_signing_key:
        expected = base64.b64decode(configured_signing_key)
        if offered.signing_public_key != expected:
            raise UserFacingError("keys.mismatch", _(
                "服务器身份与 user.ini 中配置的签名公钥不一致，请联系考点管理员"))
    pinned = load_pinned(data_dir)
    if pinned is not None and pinned.signing_public_key != offered.signing_public_key:
        raise UserFacingError("keys.mismatch", _(
            "服务器身份与本机记录的不一致，可能连接到了错误的服务器，请联系考点管理员"))
    if pinned is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / (PIN_FILE + ".tmp")
        tmp.write_text(offered.to_json(), encoding="utf-8")
        os.replace(tmp, data_dir / PIN_FILE)
    return offered
