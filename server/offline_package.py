"""Per-exam material for exams with no network: proctor secret, start code, header part.

Made once per exam at import and kept sealed in the database (``exam_secrets``), like the
paper key. The package header gets what the candidates' PCs need offline
(client/session/offline_header.py): login verifiers of every registered candidate, the
second-login code digests, and the paper key wrapped under the start code. Adding
candidates therefore rebuilds the package (papers.refresh_package).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from client.session.authorization import CodeVerifiers, exam_windows, new_proctor_secret
from client.session.codes import random_code
from client.session.offline_header import (
    START_CODE_LENGTH,
    ExamFacts,
    OfflineCandidate,
    build_offline_extra,
    wrap_paper_key,
)
from server.db import Database, ExamSecrets
from server.keys import ServerKeys


@dataclass(frozen=True)
class OfflineCodes:
    """What the chief examiner holds for an exam (printed by ``exam-server offline-codes``)."""

    proctor_secret: str  # makes second-login authorization codes
    start_code: str  # opens the paper on a PC with no network


def _proctor_context(exam_id: str) -> str:
    return f"proctor-secret:{exam_id}"


def _start_context(exam_id: str) -> str:
    return f"start-code:{exam_id}"


def ensure_exam_secrets(db: Database, keys: ServerKeys, exam_id: str) -> OfflineCodes:
    """The exam's codes, made on first use and never changed afterwards."""
    found = db.get_exam_secrets(exam_id)
    if found is None:
        codes = OfflineCodes(new_proctor_secret(), random_code(START_CODE_LENGTH))
        db.put_exam_secrets(ExamSecrets(
            exam_id=exam_id,
            proctor_secret_sealed=keys.seal(codes.proctor_secret.encode(),
                                            context=_proctor_context(exam_id)),
            start_code_sealed=keys.seal(codes.start_code.encode(), context=_start_context(exam_id)),
            start_code_wrap=None,
            wrap_key_sha256=None,
        ))
        return codes
    return _unseal(keys, found)


def exam_codes(db: Database, keys: ServerKeys, exam_id: str) -> OfflineCodes | None:
    found = db.get_exam_secrets(exam_id)
    return None if found is None else _unseal(keys, found)


def _unseal(keys: ServerKeys, found: ExamSecrets) -> OfflineCodes:
    return OfflineCodes(
        proctor_secret=keys.unseal(found.proctor_secret_sealed,
                                   context=_proctor_context(found.exam_id)).decode(),
        start_code=keys.unseal(found.start_code_sealed,
                               context=_start_context(found.exam_id)).decode(),
    )


def _start_code_wrap(db: Database, keys: ServerKeys, *, exam_id: str,
                     paper_key: bytes) -> dict[str, object]:
    """The paper key under the start code; recomputed only when the paper key changed."""
    codes = ensure_exam_secrets(db, keys, exam_id)
    found = db.get_exam_secrets(exam_id)
    assert found is not None
    fingerprint = hashlib.sha256(paper_key).hexdigest()
    if found.start_code_wrap is not None and found.wrap_key_sha256 == fingerprint:
        return found.start_code_wrap
    wrap = wrap_paper_key(paper_key, start_code=codes.start_code, exam_id=exam_id)
    db.put_exam_secrets(ExamSecrets(
        exam_id=exam_id,
        proctor_secret_sealed=found.proctor_secret_sealed,
        start_code_sealed=found.start_code_sealed,
        start_code_wrap=wrap,
        wrap_key_sha256=fingerprint,
    ))
    return wrap


def code_verifiers_for(*, proctor_secret: str, exam_id: str, candidate_id: int,
                       student_no: str, start_ms: int, end_ms: int) -> CodeVerifiers:
    return CodeVerifiers.build(proctor_secret=proctor_secret, exam_id=exam_id,
                               candidate_id=str(candidate_id), student_no=student_no,
                               windows=exam_windows(start_ms=start_ms, end_ms=end_ms))


def offline_extra(*, db: Database, keys: ServerKeys, exam_id: str, title: str, start_ms: int,
                  end_ms: int, paper_key: bytes) -> dict[str, object]:
    """The ``offline`` entry of the package header for the exam as registered now."""
    codes = ensure_exam_secrets(db, keys, exam_id)
    wrap = _start_code_wrap(db, keys, exam_id=exam_id, paper_key=paper_key)
    people = db.registered_candidates(exam_id)
    verifiers = {
        str(c.id): code_verifiers_for(proctor_secret=codes.proctor_secret, exam_id=exam_id,
                                      candidate_id=c.id, student_no=c.student_no,
                                      start_ms=start_ms, end_ms=end_ms)
        for c in people
    }
    return build_offline_extra(
        exam=ExamFacts(exam_id=exam_id, title=title, start_ms=start_ms, end_ms=end_ms),
        candidates=[OfflineCandidate(candidate_id=str(c.id), student_no=c.student_no,
                                     id_number=c.id_number, name=c.name,
                                     password_hash=c.password_hash) for c in people],
        code_verifiers=verifiers,
        start_code_wrap=wrap,
    )
