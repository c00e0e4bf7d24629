"""The key envelope: the store's data key wrapped several ways, never the key itself.

The data key (32 random bytes) encrypts the store. The sidecar file (answers.keys) holds
it wrapped with AES-256-GCM under up to three key-encryption keys:

- keyring:     a random key kept in the OS credential store (Windows Credential Manager);
- credentials: argon2id(username, password, salt), so a candidate who logs in again gets
               the answers back even after restore software wiped the credential store;
- server:      ECIES to the exam server's X25519 box key (ephemeral X25519 + HKDF-SHA256 +
               AES-GCM), so the exam owner can always open a store (recover_store_key).

Every wrap's associated data binds it to the exam, the candidate, the store id and its
kind, so a wrap copied from another candidate's sidecar never opens this store.

Why argon2id (argon2-cffi) and not scrypt: argon2id is the first choice of RFC 9106 and
OWASP, memory-hard with side-channel resistance, and its time and memory costs are
separate parameters (scrypt ties both to N). It is already a dependency.
Parameters: 64 MiB, 3 passes, 1 lane: ~0.15 s on the development machine, ~0.3-0.5 s on
an old lab PC; 64 MiB is harmless on a 4 GB PC. They are stored per wrap, so they can
change later without breaking old sidecars.
"""

from __future__ import annotations

import base64
import json
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SIDECAR_FORMAT = 1
DATA_KEY_BYTES = 32
STORE_ID_BYTES = 16
SALT_BYTES = 16
NONCE_BYTES = 12
HKDF_INFO = b"ExamClient store key wrap v1"
AAD_PREFIX = b"ExamClient/store-key/v1\0"


@dataclass(frozen=True)
class KdfParams:
    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 1


DEFAULT_KDF = KdfParams()


@dataclass(frozen=True)
class Wrap:
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class CredentialWrap:
    salt: bytes
    kdf: KdfParams
    wrap: Wrap


@dataclass(frozen=True)
class ServerWrap:
    recipient: bytes  # the server's raw X25519 public key this wrap is for
    ephemeral: bytes  # our one-time raw X25519 public key
    wrap: Wrap


@dataclass(frozen=True)
class Envelope:
    store_id: bytes
    credentials: CredentialWrap | None = None
    keyring: Wrap | None = None
    server: ServerWrap | None = None
    # Set once the store file was created: from then on a missing store is a loss to
    # report (client/store/recovery.py), never a first login.
    store_made: bool = False

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {"format": SIDECAR_FORMAT, "store_id": _b64(self.store_id)}
        if self.credentials is not None:
            doc["credentials"] = {
                "kdf": "argon2id",
                "time_cost": self.credentials.kdf.time_cost,
                "memory_kib": self.credentials.kdf.memory_kib,
                "parallelism": self.credentials.kdf.parallelism,
                "salt": _b64(self.credentials.salt),
                **_wrap_doc(self.credentials.wrap),
            }
        if self.keyring is not None:
            doc["keyring"] = _wrap_doc(self.keyring)
        if self.server is not None:
            doc["server"] = {
                "recipient": _b64(self.server.recipient),
                "ephemeral": _b64(self.server.ephemeral),
                **_wrap_doc(self.server.wrap),
            }
        if self.store_made:
            doc["store_made"] = True
        return json.dumps(doc, indent=1, sort_keys=True).encode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        """Parse a sidecar; raises ValueError for anything malformed."""
        try:
            doc = json.loads(data.decode("ascii"))
            if doc.get("format") != SIDECAR_FORMAT:
                raise ValueError(f"unsupported key file format {doc.get('format')!r}")
            store_id = _unb64(doc["store_id"], STORE_ID_BYTES)
            credentials = keyring = server = None
            if "credentials" in doc:
                c = doc["credentials"]
                if c["kdf"] != "argon2id":
                    raise ValueError(f"unsupported kdf {c['kdf']!r}")
                params = KdfParams(int(c["time_cost"]), int(c["memory_kib"]),
                                   int(c["parallelism"]))
                credentials = CredentialWrap(_unb64(c["salt"], SALT_BYTES), params, _wrap(c))
            if "keyring" in doc:
                keyring = _wrap(doc["keyring"])
            if "server" in doc:
                s = doc["server"]
                server = ServerWrap(_unb64(s["recipient"], 32), _unb64(s["ephemeral"], 32),
                                    _wrap(s))
        except (KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise ValueError(f"malformed key file: {exc!r}") from exc
        return cls(store_id=store_id, credentials=credentials, keyring=keyring, server=server,
                   store_made=doc.get("store_made") is True)


def new_data_key() -> bytes:
    return os.urandom(DATA_KEY_BYTES)


def new_store_id() -> bytes:
    return os.urandom(STORE_ID_BYTES)


def associated_data(kind: str, *, exam_id: str, candidate_id: str, store_id: bytes) -> bytes:
    body = {"kind": kind, "exam_id": exam_id, "candidate_id": candidate_id,
            "store_id": store_id.hex()}
    return AAD_PREFIX + json.dumps(body, sort_keys=True, ensure_ascii=False).encode()


def seal(kek: bytes, data_key: bytes, aad: bytes) -> Wrap:
    nonce = os.urandom(NONCE_BYTES)
    return Wrap(nonce, AESGCM(kek).encrypt(nonce, data_key, aad))


def unseal(kek: bytes, wrap: Wrap, aad: bytes) -> bytes:
    """Raises cryptography.exceptions.InvalidTag for a wrong key or tampered wrap."""
    return AESGCM(kek).decrypt(wrap.nonce, wrap.ciphertext, aad)


def normalize_username(username: str) -> str:
    # Student and ID numbers: the trailing X is stored upper-case (docs: domain.md), and a
    # candidate may type it either way; the password is taken exactly as typed.
    return unicodedata.normalize("NFC", username.strip()).upper()


def credential_kek(*, username: str, password: str, salt: bytes, kdf: KdfParams) -> bytes:
    secret = (
        normalize_username(username) + "\0" + unicodedata.normalize("NFC", password)
    ).encode("utf-8")
    return hash_secret_raw(
        secret,
        salt,
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_kib,
        parallelism=kdf.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def wrap_for_server(data_key: bytes, *, server_public_key: bytes, aad: bytes) -> ServerWrap:
    recipient = X25519PublicKey.from_public_bytes(server_public_key)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = _raw_public(ephemeral.public_key())
    kek = _server_kek(ephemeral.exchange(recipient), ephemeral_public, server_public_key)
    return ServerWrap(server_public_key, ephemeral_public, seal(kek, data_key, aad))


def unwrap_with_server_key(wrap: ServerWrap, *, private_key: X25519PrivateKey,
                           aad: bytes) -> bytes:
    shared = private_key.exchange(X25519PublicKey.from_public_bytes(wrap.ephemeral))
    kek = _server_kek(shared, wrap.ephemeral, _raw_public(private_key.public_key()))
    return unseal(kek, wrap.wrap, aad)


def recover_store_key(sidecar: bytes, *, server_box_private_key: X25519PrivateKey,
                      exam_id: str, candidate_id: str) -> bytes:
    """For the exam owner: the data key of a store from its sidecar and the server's key.

    Raises ValueError (no server wrap, malformed file) or InvalidTag (other server key,
    other exam or candidate).
    """
    envelope = Envelope.from_bytes(sidecar)
    if envelope.server is None:
        raise ValueError("this key file has no wrap for the server key")
    aad = associated_data("server", exam_id=exam_id, candidate_id=candidate_id,
                          store_id=envelope.store_id)
    return unwrap_with_server_key(envelope.server, private_key=server_box_private_key, aad=aad)


def _server_kek(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public + recipient_public,
                info=HKDF_INFO)
    return hkdf.derive(shared)


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _wrap_doc(wrap: Wrap) -> dict[str, str]:
    return {"nonce": _b64(wrap.nonce), "ciphertext": _b64(wrap.ciphertext)}


def _wrap(doc: dict[str, Any]) -> Wrap:
    # AES-GCM of a 32-byte key: 32 bytes of ciphertext + a 16-byte tag.
    return Wrap(_unb64(doc["nonce"], NONCE_BYTES), _unb64(doc["ciphertext"], 48))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, length: int) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    data = base64.b64decode(text, validate=True)
    if len(data) != length:
        raise ValueError(f"expected {length} bytes, got {len(data)}")
    return data
