"""The server's long-lived keys, created once at init and kept in the data directory.

- ``signing.pem``  Ed25519: signs every paper package; clients pin its public key.
- ``box.pem``      X25519: clients encrypt to it (offline answer files, photos).
- ``storage.key``  32 random bytes: wraps paper keys and answer keys at rest in the
  database, so a copy of the database alone (e.g. a PostgreSQL dump) reveals neither a
  paper before its start nor its answers.

Files are written with mode 0600 before any secret byte goes into them.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SIGNING_FILE = "signing.pem"
BOX_FILE = "box.pem"
STORAGE_FILE = "storage.key"


@dataclass(frozen=True)
class ServerKeys:
    signing: Ed25519PrivateKey
    box: X25519PrivateKey
    storage: bytes

    @property
    def signing_public(self) -> Ed25519PublicKey:
        return self.signing.public_key()

    def signing_public_raw(self) -> bytes:
        return self.signing.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def box_public_raw(self) -> bytes:
        return self.box.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def seal(self, data: bytes, *, context: str) -> bytes:
        """Encrypt a secret for the database; *context* (e.g. "paper-key:<exam>") binds it
        to its place so that a sealed value copied to another row does not decrypt."""
        nonce = os.urandom(12)
        return nonce + AESGCM(self.storage).encrypt(nonce, data, context.encode())

    def unseal(self, sealed: bytes, *, context: str) -> bytes:
        return AESGCM(self.storage).decrypt(sealed[:12], sealed[12:], context.encode())


def ensure_keys(data_dir: Path) -> ServerKeys:
    """Load the keys, creating whichever is missing (an existing key is never replaced)."""
    if not data_dir.exists():
        # The database beside the keys holds password hashes: keep the folder private.
        data_dir.mkdir(parents=True, mode=0o700)
    signing_path = data_dir / SIGNING_FILE
    if not signing_path.exists():
        _write_private(signing_path, _pem(Ed25519PrivateKey.generate()))
    box_path = data_dir / BOX_FILE
    if not box_path.exists():
        _write_private(box_path, _pem(X25519PrivateKey.generate()))
    storage_path = data_dir / STORAGE_FILE
    if not storage_path.exists():
        _write_private(storage_path, base64.b64encode(os.urandom(32)) + b"\n")
    return load_keys(data_dir)


def load_keys(data_dir: Path) -> ServerKeys:
    signing = serialization.load_pem_private_key((data_dir / SIGNING_FILE).read_bytes(), None)
    box = serialization.load_pem_private_key((data_dir / BOX_FILE).read_bytes(), None)
    if not isinstance(signing, Ed25519PrivateKey) or not isinstance(box, X25519PrivateKey):
        raise ValueError(f"unexpected key types in {data_dir}")
    storage = base64.b64decode((data_dir / STORAGE_FILE).read_bytes().strip())
    if len(storage) != 32:
        raise ValueError(f"{data_dir / STORAGE_FILE} must hold 32 bytes")
    return ServerKeys(signing=signing, box=box, storage=storage)


def _pem(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    # O_EXCL + 0600 at creation: the secret never exists with wider permissions.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
