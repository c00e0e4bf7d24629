"""Back into a running exam after a crash, without the password: the resume ticket.

While an exam runs on this PC the session keeps one ticket in ``<data>/resume/ticket.json``:
the candidate's login (username, password, a proctor's authorization code) sealed with
AES-256-GCM under a random per-attempt secret. The secret itself is kept only in the OS
credential store of this PC (Windows Credential Manager, DPAPI-protected, with local-machine
persistence so it never roams with a domain profile). ``--resume`` opens the ticket and logs
in with it the usual way (the same PC presents its saved token, so no proctor is needed).

Threat model (docs/durability.md, "Resume after a crash"):
- a ticket copied to another PC (or a data folder restored elsewhere) does not open: the
  secret is not in that PC's credential store;
- a ticket never serves another candidate or exam: the exam id, candidate id, end time and
  this installation's id are bound as associated data, so an edited file fails to open;
- it only exists while the exam runs: issued when the paper opens, deleted (file and
  secret) at sealing (the end time or the candidate's submission), at submission, when the
  attempt is taken over by another PC, when the candidate leaves, and at any typed login;
  a ticket found after its end time is refused and deleted;
- not covered: someone who can run code as the candidate's Windows account on this PC can
  read the secret, as they could read the store key's keyring wrap (docs/durability.md).

Like the store, the keyring is optional: without one no ticket is issued (logged), and a
restart lands on the login page with the answers intact.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from client.errors import UserFacingError
from client.i18n import _
from client.store.fsutil import atomic_write_bytes

log = logging.getLogger(__name__)

KEYRING_SERVICE = "ExamClient"
TICKET_FORMAT = 1
SECRET_BYTES = 32
NONCE_BYTES = 12
AAD_PREFIX = b"ExamClient/resume-ticket/v1\0"


def ticket_path(data_dir: Path) -> Path:
    return data_dir / "resume" / "ticket.json"


def keyring_entry_name(*, exam_id: str, candidate_id: str) -> str:
    return f"resume:{exam_id}:{candidate_id}"


@dataclass(frozen=True)
class ResumeLogin:
    """What the session needs to log in again (the sealed part of a ticket)."""

    username: str
    password: str = field(repr=False)
    authorization_code: str = field(default="", repr=False)


@dataclass(frozen=True)
class ResumeTicket:
    exam_id: str
    candidate_id: str
    end_ms: int
    client_id: str
    nonce: bytes
    sealed: bytes

    def associated_data(self) -> bytes:
        facts = {"exam_id": self.exam_id, "candidate_id": self.candidate_id,
                 "end_ms": self.end_ms, "client_id": self.client_id}
        return AAD_PREFIX + json.dumps(facts, sort_keys=True).encode()

    def to_bytes(self) -> bytes:
        return json.dumps({
            "format": TICKET_FORMAT, "exam_id": self.exam_id,
            "candidate_id": self.candidate_id, "end_ms": self.end_ms,
            "client_id": self.client_id,
            "nonce": base64.b64encode(self.nonce).decode("ascii"),
            "sealed": base64.b64encode(self.sealed).decode("ascii"),
        }).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> ResumeTicket:
        try:
            doc = json.loads(data)
            if doc.get("format") != TICKET_FORMAT:
                raise ValueError(f"unknown ticket format {doc.get('format')!r}")
            end_ms = doc["end_ms"]
            if not isinstance(end_ms, int):
                raise ValueError("end_ms must be an integer")
            return cls(exam_id=str(doc["exam_id"]), candidate_id=str(doc["candidate_id"]),
                       end_ms=end_ms, client_id=str(doc["client_id"]),
                       nonce=base64.b64decode(doc["nonce"], validate=True),
                       sealed=base64.b64decode(doc["sealed"], validate=True))
        except (KeyError, TypeError, AttributeError, binascii.Error,
                json.JSONDecodeError) as exc:
            raise ValueError(f"resume ticket unreadable: {exc}") from exc


def issue_ticket(data_dir: Path, *, exam_id: str, candidate_id: str, end_ms: int,
                 client_id: str, login: ResumeLogin, keyring_backend: Any = None) -> bool:
    """Write this attempt's ticket (replacing any other); False when there is no usable
    keyring (then there is no ticket: a restart asks for the password)."""
    backend = _machine_bound(keyring_backend)
    if backend is None:
        return False
    secret = os.urandom(SECRET_BYTES)
    entry = keyring_entry_name(exam_id=exam_id, candidate_id=candidate_id)
    try:
        backend.set_password(KEYRING_SERVICE, entry, base64.b64encode(secret).decode("ascii"))
    except Exception as exc:  # no backend / locked / broken: no ticket, never a failed exam
        log.warning("no resume ticket: keyring refused the secret (%s): %s",
                    type(exc).__name__, exc)
        discard_ticket(data_dir, keyring_backend=keyring_backend)
        return False
    nonce = os.urandom(NONCE_BYTES)
    unsealed = ResumeTicket(exam_id=exam_id, candidate_id=candidate_id, end_ms=end_ms,
                            client_id=client_id, nonce=nonce, sealed=b"")
    plaintext = json.dumps({"username": login.username, "password": login.password,
                            "authorization_code": login.authorization_code}).encode()
    ticket = ResumeTicket(exam_id=exam_id, candidate_id=candidate_id, end_ms=end_ms,
                          client_id=client_id, nonce=nonce,
                          sealed=AESGCM(secret).encrypt(nonce, plaintext,
                                                        unsealed.associated_data()))
    path = ticket_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = _read(path)
    atomic_write_bytes(path, ticket.to_bytes())
    if previous is not None and (previous.exam_id, previous.candidate_id) != (
            exam_id, candidate_id):
        _forget_secret(backend, previous)
    log.info("resume ticket issued for %s of %s", candidate_id, exam_id)
    return True


def open_ticket(data_dir: Path, *, client_id: str, now_ms: int | None,
                keyring_backend: Any = None) -> tuple[ResumeTicket, ResumeLogin]:
    """The ticket on this PC and the login it seals.

    Raises UserFacingError ``resume.none`` (no ticket), ``resume.ended`` (its end time has
    passed by the best server time known), ``resume.unavailable`` (damaged, edited, from
    another installation, or its secret is not in this PC's credential store). A refused
    ticket is deleted; the answer store is never touched.
    """
    path = ticket_path(data_dir)
    try:
        ticket = ResumeTicket.from_bytes(path.read_bytes())
    except FileNotFoundError:
        raise nothing_to_resume() from None
    except (OSError, ValueError) as exc:
        log.error("resume ticket %s unusable: %s", path, exc)
        discard_ticket(data_dir, keyring_backend=keyring_backend)
        raise _unavailable(reason="damaged") from exc
    if now_ms is not None and now_ms >= ticket.end_ms:
        log.warning("resume ticket of %s refused: its exam ended", ticket.exam_id)
        discard_ticket(data_dir, keyring_backend=keyring_backend)
        raise exam_over()
    if ticket.client_id != client_id:
        log.error("resume ticket was made by installation %s, this is %s",
                  ticket.client_id, client_id)
        discard_ticket(data_dir, keyring_backend=keyring_backend)
        raise _unavailable(reason="other_installation")
    secret = _secret_of(_machine_bound(keyring_backend), ticket)
    if secret is None:
        discard_ticket(data_dir, keyring_backend=keyring_backend)
        raise _unavailable(reason="no_secret")
    try:
        doc = json.loads(AESGCM(secret).decrypt(ticket.nonce, ticket.sealed,
                                                ticket.associated_data()))
        login = ResumeLogin(username=str(doc["username"]), password=str(doc["password"]),
                            authorization_code=str(doc.get("authorization_code", "")))
    except (InvalidTag, ValueError, KeyError, TypeError) as exc:
        log.error("resume ticket does not open with this PC's secret: %s",
                  type(exc).__name__)
        discard_ticket(data_dir, keyring_backend=keyring_backend)
        raise _unavailable(reason="does_not_open") from exc
    return ticket, login


def discard_ticket(data_dir: Path, *, keyring_backend: Any = None) -> None:
    """Delete the ticket and its secret (nothing to do when there is none)."""
    path = ticket_path(data_dir)
    ticket = _read(path)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if ticket is not None:
        backend = _machine_bound(keyring_backend)
        if backend is not None:
            _forget_secret(backend, ticket)
        log.info("resume ticket of %s for %s discarded", ticket.candidate_id, ticket.exam_id)


def has_ticket(data_dir: Path) -> bool:
    return ticket_path(data_dir).is_file()


def nothing_to_resume() -> UserFacingError:
    return UserFacingError("resume.none", _(
        "没有可以自动恢复的考试，请输入用户名和密码登录"))


def exam_over() -> UserFacingError:
    return UserFacingError("resume.ended", _(
        "考试已结束或已交卷，不能自动回到考试。如需查看结果，请重新登录"))


def _unavailable(*, reason: str) -> UserFacingError:
    return UserFacingError("resume.unavailable", _(
        "无法在本机自动回到考试（本机没有该考试的恢复密钥），请重新输入密码登录。"
        "本机保存的答案不会丢失"), reason=reason)


def _read(path: Path) -> ResumeTicket | None:
    try:
        return ResumeTicket.from_bytes(path.read_bytes())
    except (OSError, ValueError):
        return None


def _secret_of(backend: Any, ticket: ResumeTicket) -> bytes | None:
    if backend is None:
        return None
    entry = keyring_entry_name(exam_id=ticket.exam_id, candidate_id=ticket.candidate_id)
    try:
        stored = backend.get_password(KEYRING_SERVICE, entry)
    except Exception as exc:  # any backend failure: no secret
        log.warning("keyring unavailable for the resume secret (%s): %s",
                    type(exc).__name__, exc)
        return None
    if not stored:
        log.warning("resume secret %s is not in this PC's credential store", entry)
        return None
    try:
        secret = base64.b64decode(stored, validate=True)
    except binascii.Error:
        return None
    return secret if len(secret) == SECRET_BYTES else None


def _forget_secret(backend: Any, ticket: ResumeTicket) -> None:
    entry = keyring_entry_name(exam_id=ticket.exam_id, candidate_id=ticket.candidate_id)
    try:
        backend.delete_password(KEYRING_SERVICE, entry)
    except Exception as exc:  # already gone, or no backend: nothing left to protect
        log.debug("resume secret %s not deleted: %s", entry, exc)


def _machine_bound(backend: Any) -> Any:
    """The keyring to keep the secret in: *backend* or the system's. WORKAROUND: keyring's
    Windows backend persists credentials as CRED_PERSIST_ENTERPRISE, which roam with a
    domain profile to other PCs; the resume secret must stay on this one."""
    if backend is None:
        try:
            import keyring  # imported here: it loads backends and is slow (~60 ms)

            backend = keyring.get_keyring()
        except Exception as exc:
            log.warning("no keyring backend for the resume secret: %s", exc)
            return None
    if hasattr(type(backend), "persist"):
        local = type(backend)()
        local.persist = "local_machine"
        return local
    return backend
