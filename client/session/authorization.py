"""Second-login authorization codes (二次登录授权码): short, typeable, expiring, per candidate.

A candidate who logs in again on another PC (or on the same PC without its saved login)
is held until a proctor or the chief examiner authorizes it (docs/offline.md). One way is
a code the proctor types on the candidate's PC:

    key    = HMAC-SHA256(b"exam-authz/1 key", proctor_secret)        one per exam
    code   = base32(HMAC-SHA256(key, exam_id \\0 student_no \\0 window))[:8]
    window = floor(server_time_ms / 10 min)

The proctor secret (16 characters, 80 bits) is made by the server per exam and kept by the
chief examiner; ``exam-server authorization-code EXAM CANDIDATE`` prints the code of the
current window, and any PC holding the secret can compute it too (``authorization_code``).
A code is accepted in its own window and the next one: it lives 10 to 20 minutes.

The server checks a code with the secret. A candidate's PC must be able to check it with
no network and without the secret, so the package header carries, per candidate and per
window of the exam, a memory-hard digest of that window's code:

    digest = argon2id(code, salt = SHA-256("exam-authz/1 salt" exam candidate window)[:16],
                      4 MiB, 2 passes)[:16]

Guessing a code from a digest costs ~4 ms per try and there are 32^8 = 2^40 codes: about a
hundred core-years for one candidate and one window, which expires after 20 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from client.session.codes import (
    CodeFormatError,
    encode_bits,
    format_code,
    normalize_code,
    random_code,
)
from client.session.kdf import Argon2Params, argon2id

WINDOW_MS = 10 * 60 * 1000
CODE_LENGTH = 8
PROCTOR_SECRET_LENGTH = 16
DIGEST_BYTES = 16
DIGEST_KDF = Argon2Params(time_cost=2, memory_kib=4 * 1024)
_KEY_LABEL = b"exam-authz/1 key"
_SALT_LABEL = b"exam-authz/1 salt"


def window_of(server_ms: int) -> int:
    return server_ms // WINDOW_MS


def accepted_windows(now_ms: int) -> tuple[int, int]:
    """The windows whose codes are good at *now_ms*: the current one and the one before."""
    current = window_of(now_ms)
    return current, current - 1


def valid_until_ms(window: int) -> int:
    """When a code of *window* stops being accepted."""
    return (window + 2) * WINDOW_MS


def exam_windows(*, start_ms: int, end_ms: int) -> range:
    """The windows a second login can need a code in: from the start to the end.

    Before the start a new login needs no authorization (nothing answered yet, the paper
    still locked), and after the end nobody logs in to answer.
    """
    return range(window_of(start_ms), window_of(end_ms) + 1)


def new_proctor_secret() -> str:
    return random_code(PROCTOR_SECRET_LENGTH)


def _secret_key(proctor_secret: str) -> bytes:
    return hmac.new(_KEY_LABEL, normalize_code(proctor_secret).encode(), hashlib.sha256).digest()


def authorization_code(*, proctor_secret: str, exam_id: str, student_no: str,
                       window: int) -> str:
    """The code (8 characters, unformatted) for this candidate in this window."""
    message = "\0".join((exam_id, student_no.strip(), str(window))).encode("utf-8")
    mac = hmac.new(_secret_key(proctor_secret), message, hashlib.sha256).digest()
    return encode_bits(mac, CODE_LENGTH)


def current_code(*, proctor_secret: str, exam_id: str, student_no: str,
                 now_ms: int) -> tuple[str, int]:
    """For a proctor's tool: (the code to type, shown "ABCD-EFGH"; when it expires)."""
    window = window_of(now_ms)
    code = authorization_code(proctor_secret=proctor_secret, exam_id=exam_id,
                              student_no=student_no, window=window)
    return format_code(code), valid_until_ms(window)


def code_digest(code: str, *, exam_id: str, candidate_id: str, window: int,
                params: Argon2Params = DIGEST_KDF) -> bytes:
    salt = hashlib.sha256(_SALT_LABEL + "\0".join(
        (exam_id, candidate_id, str(window))).encode("utf-8")).digest()[:16]
    return argon2id(code.encode("ascii"), salt=salt, params=params, length=DIGEST_BYTES)


def check_with_secret(code: str, *, proctor_secret: str, exam_id: str, student_no: str,
                      now_ms: int) -> int | None:
    """Server side: the window the typed *code* belongs to, or None (wrong or expired)."""
    try:
        typed = normalize_code(code)
    except CodeFormatError:
        return None
    for window in accepted_windows(now_ms):
        expected = authorization_code(proctor_secret=proctor_secret, exam_id=exam_id,
                                      student_no=student_no, window=window)
        if hmac.compare_digest(typed, expected):
            return window
    return None


@dataclass(frozen=True)
class CodeVerifiers:
    """One candidate's code digests for every window of the exam (checkable offline)."""

    exam_id: str
    candidate_id: str
    first_window: int
    digests: tuple[bytes, ...]
    params: Argon2Params = DIGEST_KDF

    @classmethod
    def build(cls, *, proctor_secret: str, exam_id: str, candidate_id: str, student_no: str,
              windows: range, params: Argon2Params = DIGEST_KDF) -> CodeVerifiers:
        digests = tuple(
            code_digest(authorization_code(proctor_secret=proctor_secret, exam_id=exam_id,
                                           student_no=student_no, window=window),
                        exam_id=exam_id, candidate_id=candidate_id, window=window,
                        params=params)
            for window in windows)
        return cls(exam_id=exam_id, candidate_id=candidate_id, first_window=windows.start,
                   digests=digests, params=params)

    def to_json(self) -> dict[str, object]:
        return {"first_window": self.first_window, "kdf": self.params.to_json(),
                "digests": [base64.b64encode(d).decode("ascii") for d in self.digests]}

    @classmethod
    def from_json(cls, doc: Mapping[str, object], *, exam_id: str,
                  candidate_id: str) -> CodeVerifiers:
        first, kdf, digests = doc.get("first_window"), doc.get("kdf"), doc.get("digests")
        if not (isinstance(first, int) and isinstance(kdf, dict) and isinstance(digests, list)):
            raise ValueError("malformed authorization verifiers")
        decoded = tuple(base64.b64decode(str(d), validate=True) for d in digests)
        if any(len(d) != DIGEST_BYTES for d in decoded):
            raise ValueError("authorization digest of the wrong size")
        return cls(exam_id=exam_id, candidate_id=candidate_id, first_window=first,
                   digests=decoded, params=Argon2Params.from_json(kdf))

    def windows(self) -> range:
        return range(self.first_window, self.first_window + len(self.digests))

    def check(self, code: str, *, now_ms: int | None) -> int | None:
        """The window *code* is good for at *now_ms*, or None. Blocking (argon2, ms each).

        *now_ms* None (this PC has never learned the server's time): every window of the
        exam is tried, so the code is still bound to this candidate and this exam but its
        expiry cannot be checked here (docs/offline.md).
        """
        try:
            typed = normalize_code(code)
        except CodeFormatError:
            return None
        if len(typed) != CODE_LENGTH:
            return None
        candidates: Iterable[int] = (self.windows() if now_ms is None
                                     else accepted_windows(now_ms))
        for window in candidates:
            if window not in self.windows():
                continue
            expected = self.digests[window - self.first_window]
            digest = code_digest(typed, exam_id=self.exam_id, candidate_id=self.candidate_id,
                                 window=window, params=self.params)
            if hmac.compare_digest(digest, expected):
                return window
        return None
