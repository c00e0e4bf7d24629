"""An independent writer of the package format, straight from docs/contracts.md.

The tests use it to make packages that ``build_package`` would never make (other versions,
hostile zips, inconsistent headers) and, by round-tripping with it, to check that
client/paper/package.py implements the documented layout and not just agrees with itself.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import struct
import zipfile
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"EXAMPKG\x01"


def zip_of(members: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def forge_package(*, body_zip: bytes, exam_id: str, paper_id: str, paper_key: bytes,
                  signing_key: Ed25519PrivateKey, magic: bytes = MAGIC,
                  header_changes: Mapping[str, Any] | None = None) -> bytes:
    nonce = os.urandom(12)
    header: dict[str, Any] = {
        "format_version": 1,
        "exam_id": exam_id,
        "paper_id": paper_id,
        "created_at_ms": 1_700_000_000_000,
        "nonce": base64.b64encode(nonce).decode(),
        "body_sha256": hashlib.sha256(body_zip).hexdigest(),
        "body_size": len(body_zip) + 16,
        "extra": {},
    }
    header.update(header_changes or {})
    header_bytes = json.dumps(header).encode("utf-8")
    prefix = magic + struct.pack(">I", len(header_bytes)) + header_bytes
    signed = prefix + AESGCM(paper_key).encrypt(nonce, body_zip, prefix)
    return signed + signing_key.sign(signed)


def read_package(data: bytes, *, paper_key: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Decode a package by the documented layout (no checks): header and zip members."""
    assert data[:8] == MAGIC
    (hlen,) = struct.unpack(">I", data[8:12])
    prefix = data[: 12 + hlen]
    header = json.loads(data[12: 12 + hlen])
    plain = AESGCM(paper_key).decrypt(base64.b64decode(header["nonce"]),
                                      data[12 + hlen: -64], prefix)
    with zipfile.ZipFile(io.BytesIO(plain)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return header, members
