"""The per-session signing key that tells the server an offline file came from this client.

At login the client makes a fresh Ed25519 key, keeps the private half in the answer store
(SQLCipher-encrypted meta ``offline_session_key``) and registers the public half with the
server (``POST /api/v1/attempt/session-key``, bearer token of the login). The registration
carries a signature by the key itself over the exam, candidate and client ids (proof of
possession), so nobody can register somebody else's public key under their own attempt.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from client.export.offline_file import raw_public_bytes

SESSION_KEY_META = "offline_session_key"
REGISTRATION_CONTEXT = b"exam-session-key/1 registration\x00"
REGISTRATION_PATH = "/attempt/session-key"


def generate_session_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def session_key_to_text(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode("ascii")


def session_key_from_text(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text))


def registration_message(*, exam_id: str, candidate_id: str, client_id: str,
                         public_key: bytes) -> bytes:
    """What the key signs to prove possession; the server rebuilds it from its own facts."""
    fields = (exam_id, candidate_id, client_id)
    return REGISTRATION_CONTEXT + b"\x00".join(f.encode("utf-8") for f in fields) + public_key


def registration_body(key: Ed25519PrivateKey, *, exam_id: str, candidate_id: str,
                      client_id: str) -> dict[str, str]:
    """JSON body for POST /api/v1/attempt/session-key."""
    public = raw_public_bytes(key.public_key())
    proof = key.sign(registration_message(exam_id=exam_id, candidate_id=candidate_id,
                                          client_id=client_id, public_key=public))
    return {
        "public_key": base64.b64encode(public).decode("ascii"),
        "client_id": client_id,
        "proof": base64.b64encode(proof).decode("ascii"),
    }


def public_key_of(key: Ed25519PrivateKey) -> Ed25519PublicKey:
    return key.public_key()
