"""The certificate that rides in an offline file made by a PC whose key the server never saw.

A PC that logged in offline and opened the paper with the start code never reached the
server, so it could not register its session key; after the end the server refuses new
registrations. Its files carry instead a certificate the server can check by itself
(docs/formats.md, "Offline files from a PC that never reached the server"):

    message = exam id ‖ candidate id ‖ client id ‖ session public key
    paper_mac = HMAC-SHA256(paper key, CONTEXT ‖ message)
    sealed = HPKE(server box key, info = CONTEXT ‖ SHA-256(message),
                  {"password": the candidate's password, "paper_mac": paper_mac})

Only the server's box key opens it; the server then checks the password against the
candidate's hash (someone who knew the candidate's password) and the MAC against the
paper key (on a PC where the paper was opened: the start code or the server's release).
The HPKE info binds it to the ids and the key: moved to another file it does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from client.export.offline_file import OfflineFileError
from client.i18n import _

CERTIFICATE_META = "offline_key_certificate"
CONTEXT = b"exam-session-key/1 offline certificate\x00"
MAX_CERTIFICATE_CHARS = 4_000
_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)


@dataclass(frozen=True)
class CertificateClaim:
    """What the server reads out of a certificate, still to be checked against its data."""

    password: str
    paper_mac: bytes


def certificate_message(*, exam_id: str, candidate_id: str, client_id: str,
                        session_public_key: bytes) -> bytes:
    fields = (exam_id, candidate_id, client_id)
    return b"\x00".join(f.encode("utf-8") for f in fields) + b"\x00" + session_public_key


def paper_mac(paper_key: bytes, message: bytes) -> bytes:
    return hmac.new(paper_key, CONTEXT + message, hashlib.sha256).digest()


def build_certificate(*, message: bytes, password: str, paper_key: bytes,
                      server_box_key: X25519PublicKey) -> str:
    """Client side, when the paper opens (the password is in memory then)."""
    plaintext = json.dumps({"password": password,
                            "paper_mac": base64.b64encode(paper_mac(paper_key, message))
                            .decode("ascii")}, sort_keys=True).encode("utf-8")
    sealed = _SUITE.encrypt(plaintext, server_box_key, info=_info(message))
    return base64.b64encode(sealed).decode("ascii")


def open_certificate(text: str, *, message: bytes,
                     server_box_key: X25519PrivateKey) -> CertificateClaim:
    """Server side; raises OfflineFileError ``offline.bad_certificate``."""
    try:
        if len(text) > MAX_CERTIFICATE_CHARS:
            raise ValueError("too long")
        sealed = base64.b64decode(text, validate=True)
        raw = json.loads(_SUITE.decrypt(sealed, server_box_key, info=_info(message)))
        password, mac = raw["password"], base64.b64decode(raw["paper_mac"], validate=True)
        if not isinstance(password, str) or len(mac) != 32:
            raise ValueError("fields")
    except Exception:  # any malformed or foreign certificate is one and the same refusal
        raise bad_certificate() from None
    return CertificateClaim(password=password, paper_mac=mac)


def mac_matches(claim: CertificateClaim, *, paper_key: bytes, message: bytes) -> bool:
    return hmac.compare_digest(claim.paper_mac, paper_mac(paper_key, message))


def bad_certificate() -> OfflineFileError:
    return OfflineFileError("offline.bad_certificate", _(
        "离线答卷文件的密钥证明无效：文件不是由登录了该考生并打开了试卷的电脑导出的"))


def _info(message: bytes) -> bytes:
    return CONTEXT + hashlib.sha256(message).digest()
