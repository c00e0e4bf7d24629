"""What a package carries for an exam with no network: ``header.extra["offline"]``.

Written by the server (server/offline_package.py) into the signed package header, read by
the client (client/session/offline_login.py). The header is signed but NOT encrypted:
anyone holding the package file reads it. So nothing in it is a password, a code or a key;
everything is either public exam facts or the output of a memory-hard function
(docs/offline.md, "What the package header gives away"):

``exam``           title, start_ms, end_ms (the offline session's timetable)
``login``          per username (student number and ID number of every registered
                   candidate): lookup id = HKDF(argon2id(username, exam salt, 8 MiB)),
                   and a profile (candidate id, name, student number, the server's argon2id
                   password hash) encrypted under a key from the same argon2id output
``authorization``  per candidate, digests of the second-login codes of each window
                   (client/session/authorization.py)
``start_code``     the paper key wrapped with AES-GCM under argon2id(start code, 16 MiB):
                   the proctor's start code opens the paper with no network
"""

from __future__ import annotations

import base64
import json
import os
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from client.errors import UserFacingError
from client.i18n import _
from client.session.authorization import CodeVerifiers
from client.session.codes import CodeFormatError, normalize_code
from client.session.kdf import Argon2Params, argon2id

OFFLINE_EXTRA_KEY = "offline"
FORMAT_VERSION = 1
LOOKUP_KDF = Argon2Params(time_cost=2, memory_kib=8 * 1024)
START_CODE_KDF = Argon2Params(time_cost=2, memory_kib=16 * 1024)
START_CODE_LENGTH = 12  # 60 bits: the start code guards the paper before the start
_PROFILE_AAD = b"exam-offline-login/1\0"
_START_AAD = b"exam-start-code/1\0"

_password_hasher = PasswordHasher()
_decoy_lock = threading.Lock()
_decoy_hash: str | None = None


@dataclass(frozen=True)
class ExamFacts:
    exam_id: str
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class OfflineCandidate:
    """Server side: one registered candidate as the header builder needs them."""

    candidate_id: str
    student_no: str
    id_number: str
    name: str
    password_hash: str  # the server's argon2id PHC string, never the password


@dataclass(frozen=True)
class OfflineProfile:
    """Client side: who logged in offline."""

    candidate_id: str
    name: str
    student_no: str


def normalize_username(username: str) -> str:
    # As the server matches: student number as typed, ID number upper-case (trailing X),
    # full-width characters from a Chinese input method folded by NFKC.
    return unicodedata.normalize("NFKC", username).strip().upper()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(value, validate=True)


def _lookup(username: str, *, exam_id: str, salt: bytes,
            params: Argon2Params) -> tuple[str, bytes]:
    """(lookup id, profile key) of a typed username."""
    seed = argon2id(normalize_username(username).encode("utf-8"), salt=salt, params=params,
                    length=32)

    def expand(label: bytes, length: int) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                    info=b"exam-offline-login/1 " + label + b"\0" + exam_id.encode()
                    ).derive(seed)

    return _b64(expand(b"lookup", 16)), expand(b"profile", 32)


# -- server side: building ----------------------------------------------------------------

def wrap_paper_key(paper_key: bytes, *, start_code: str, exam_id: str,
                   params: Argon2Params = START_CODE_KDF) -> dict[str, object]:
    salt, nonce = os.urandom(16), os.urandom(12)
    kek = argon2id(normalize_code(start_code).encode("ascii"), salt=salt, params=params,
                   length=32)
    sealed = AESGCM(kek).encrypt(nonce, paper_key, _START_AAD + exam_id.encode())
    return {"kdf": params.to_json(), "salt": _b64(salt), "nonce": _b64(nonce),
            "ciphertext": _b64(sealed)}


def build_offline_extra(*, exam: ExamFacts, candidates: Sequence[OfflineCandidate],
                        code_verifiers: Mapping[str, CodeVerifiers],
                        start_code_wrap: Mapping[str, object],
                        lookup_params: Argon2Params = LOOKUP_KDF) -> dict[str, object]:
    """The ``offline`` entry of the package's extra header."""
    salt = os.urandom(16)
    entries: dict[str, str] = {}
    for person in candidates:
        profile = json.dumps({"candidate_id": person.candidate_id, "name": person.name,
                              "student_no": person.student_no,
                              "password_hash": person.password_hash},
                             ensure_ascii=False).encode("utf-8")
        for username in {normalize_username(person.student_no),
                         normalize_username(person.id_number)}:
            lookup_id, key = _lookup(username, exam_id=exam.exam_id, salt=salt,
                                     params=lookup_params)
            nonce = os.urandom(12)
            sealed = AESGCM(key).encrypt(nonce, profile,
                                         _PROFILE_AAD + lookup_id.encode("ascii"))
            entries[lookup_id] = _b64(nonce + sealed)
    return {
        "version": FORMAT_VERSION,
        "exam": {"title": exam.title, "start_ms": exam.start_ms, "end_ms": exam.end_ms},
        "login": {"kdf": lookup_params.to_json(), "salt": _b64(salt), "entries": entries},
        "authorization": {cid: v.to_json() for cid, v in code_verifiers.items()},
        "start_code": dict(start_code_wrap),
    }


# -- client side: reading -----------------------------------------------------------------

def _invalid(reason: str) -> UserFacingError:
    return UserFacingError("offline.header_invalid", _(
        "试卷包中的离线考试数据无法读取，不能离线登录。请联系考点管理员重新生成试卷包"),
        reason=reason)


def _decoy() -> str:
    """A real hash to check when the username is unknown: same cost, nothing learned."""
    global _decoy_hash
    with _decoy_lock:
        if _decoy_hash is None:
            _decoy_hash = _password_hasher.hash(os.urandom(16).hex())
        return _decoy_hash


@dataclass(frozen=True)
class OfflineEntry:
    profile: OfflineProfile
    password_hash: str


def verify_password(entry: OfflineEntry | None, password: str) -> bool:
    """*Blocking* (~0.1 s). With no entry a decoy hash is checked: the same cost, so the
    time taken does not tell whether a username exists."""
    try:
        return _password_hasher.verify(
            entry.password_hash if entry is not None else _decoy(), password
        ) and entry is not None
    except (VerificationError, InvalidHashError):
        return False


class OfflineMaterial:
    """The ``offline`` entry of a verified package header."""

    def __init__(self, *, exam: ExamFacts, login: Mapping[str, object],
                 authorization: Mapping[str, object], start_code: Mapping[str, object]) -> None:
        self.exam = exam
        self._login = login
        self._authorization = authorization
        self._start_code = start_code

    @classmethod
    def from_extra(cls, extra: Mapping[str, object], *, exam_id: str) -> OfflineMaterial | None:
        """None when the package carries no offline data (an older server)."""
        doc = extra.get(OFFLINE_EXTRA_KEY)
        if doc is None:
            return None
        if not isinstance(doc, dict) or doc.get("version") != FORMAT_VERSION:
            raise _invalid("version")
        exam, login = doc.get("exam"), doc.get("login")
        authorization, start = doc.get("authorization"), doc.get("start_code")
        if not (isinstance(exam, dict) and isinstance(login, dict)
                and isinstance(authorization, dict) and isinstance(start, dict)):
            raise _invalid("structure")
        try:
            facts = ExamFacts(exam_id=exam_id, title=str(exam["title"]),
                              start_ms=int(exam["start_ms"]), end_ms=int(exam["end_ms"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise _invalid("exam") from exc
        return cls(exam=facts, login=login, authorization=authorization, start_code=start)

    def lookup(self, username: str) -> OfflineEntry | None:
        """*Blocking* (argon2, ~10 ms): the entry of a typed username, password unchecked."""
        try:
            params = Argon2Params.from_json(self._login["kdf"])  # type: ignore[arg-type]
            salt = _unb64(self._login["salt"])
            entries = self._login["entries"]
        except (KeyError, TypeError, ValueError) as exc:
            raise _invalid("login") from exc
        if not isinstance(entries, dict):
            raise _invalid("login")
        lookup_id, key = _lookup(username, exam_id=self.exam.exam_id, salt=salt, params=params)
        profile = self._open_profile(entries.get(lookup_id), lookup_id=lookup_id, key=key)
        if profile is None:
            return None
        try:
            return OfflineEntry(
                profile=OfflineProfile(candidate_id=str(profile["candidate_id"]),
                                       name=str(profile["name"]),
                                       student_no=str(profile["student_no"])),
                password_hash=str(profile["password_hash"]))
        except KeyError as exc:
            raise _invalid("profile") from exc

    def find_login(self, username: str, password: str) -> OfflineProfile | None:
        """*Blocking* (argon2, ~0.2 s): the candidate these credentials belong to, or None."""
        entry = self.lookup(username)
        if not verify_password(entry, password):
            return None
        assert entry is not None
        return entry.profile

    @staticmethod
    def _open_profile(sealed: object, *, lookup_id: str, key: bytes) -> dict[str, object] | None:
        if sealed is None:
            return None
        try:
            raw = _unb64(sealed)
            plain = AESGCM(key).decrypt(raw[:12], raw[12:],
                                        _PROFILE_AAD + lookup_id.encode("ascii"))
            profile = json.loads(plain.decode("utf-8"))
        except (ValueError, InvalidTag) as exc:
            raise _invalid("profile") from exc
        return profile if isinstance(profile, dict) else None

    def code_verifiers(self, candidate_id: str) -> CodeVerifiers | None:
        doc = self._authorization.get(candidate_id)
        if not isinstance(doc, dict):
            return None
        try:
            return CodeVerifiers.from_json(doc, exam_id=self.exam.exam_id,
                                           candidate_id=candidate_id)
        except ValueError as exc:
            raise _invalid("authorization") from exc

    def open_paper_key(self, start_code: str) -> bytes | None:
        """*Blocking* (argon2, ~0.2 s): the paper key, or None for a wrong start code."""
        try:
            typed = normalize_code(start_code)
        except CodeFormatError:
            return None
        try:
            params = Argon2Params.from_json(self._start_code["kdf"])  # type: ignore[arg-type]
            salt = _unb64(self._start_code["salt"])
            nonce = _unb64(self._start_code["nonce"])
            sealed = _unb64(self._start_code["ciphertext"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _invalid("start_code") from exc
        kek = argon2id(typed.encode("ascii"), salt=salt, params=params, length=32)
        try:
            return AESGCM(kek).decrypt(nonce, sealed, _START_AAD + self.exam.exam_id.encode())
        except InvalidTag:
            return None
