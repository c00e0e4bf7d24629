"""Import offline answer files (离线答卷): verify, decrypt, merge answer by answer, re-score.

    exam-server import-offline FILE... [--exam EXAM] [--center CENTER]

and the admin upload page (server/admin_web) both call :func:`import_offline_file`. The
order of checks matters: nothing is written until the file has passed all of them, and
each refusal has its own code (docs/formats.md, "Offline answer file"):

1. structure (offline.not_a_file / truncated / unsupported_version / corrupt)
2. the signing key must be a registered client session key (offline.unknown_client_key),
   or the file carries a certificate that proves it (offline.bad_certificate otherwise;
   client/export/key_certificate.py): a PC that never reached the server
3. the signature (offline.signature_invalid: any changed byte)
4. the name it arrived under (offline.renamed)
5. the header's exam/candidate must be those the key was registered for
   (offline.wrong_exam / offline.wrong_candidate), and in the importer's scope
   (offline.wrong_exam for ``--exam``, offline.other_center for a center admin)
6. decryption with the server's box key (offline.wrong_server_key / corrupt / count_mismatch)

Then :func:`server.merge.merge_revisions` merges per answer by revision (newer replaces
older, older never overwrites newer, replay is a no-op, revisions made after the end are
rejected one by one) and a submitted attempt is scored again.

Client session keys live in ``client_keys`` (registered by ``POST
/api/v1/attempt/session-key`` right after login); every first import of a file is kept in
``offline_imports`` with the proctor log it carried. ``api_router`` also takes the proctor
log when the client is online (``POST /api/v1/attempt/proctor-events``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
    select,
)

from client.errors import UserFacingError
from client.export.key_certificate import (
    bad_certificate,
    certificate_message,
    mac_matches,
    open_certificate,
)
from client.export.offline_file import (
    Envelope,
    OfflineFileError,
    check_file_name,
    key_id,
    open_payload,
    parse_header,
    read_envelope,
    verify_signature,
)
from client.export.session_key import registration_message
from client.i18n import _
from client.timefmt import staff_datetime
from server import attempt_time
from server import schema as t
from server.api_attempt import answers_close_ms, record_late_revisions
from server.auth import CandidateAuth, Context
from server.context import ServerContext
from server.db import IN_PROGRESS, Database, Exam
from server.errors import ApiError
from server.lazy_tables import create_once
from server.merge import (
    IncomingRevision,
    MergeReport,
    Outcome,
    RevisionOutcome,
    lock_attempt,
    merge_locked,
)
from server.offline_marks import MarksOutcome, judge_marks, keep_marks, latest_marks
from server.passwords import verify_password
from server.take_over import seat_lost_ms

log = logging.getLogger(__name__)

MAX_KEYS_PER_ATTEMPT = 20
MAX_FILE_BYTES = 64 * 1024 * 1024

# -- tables (on the server's metadata; created by init_schema or ensure_tables) ---------

client_keys = Table(
    "client_keys",
    t.metadata,
    # Raw Ed25519 public key of one client session; a candidate who moves to another PC
    # has one per PC, all valid for the same attempt.
    Column("public_key", LargeBinary(32), primary_key=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id"), nullable=False, index=True),
    Column("client_id", String(200), nullable=False),
    Column("registered_at_ms", BigInteger, nullable=False),
)

offline_imports = Table(
    "offline_imports",
    t.metadata,
    Column("file_sha256", String(64), primary_key=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id"), nullable=False, index=True),
    Column("file_name", String(255), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("export_seq", Integer, nullable=False),
    Column("imported_at_ms", BigInteger, nullable=False),
    Column("imported_by", String(100), nullable=False),
    Column("summary", JSON, nullable=False),
)


def ensure_tables(db: Database) -> None:
    """Create this module's tables if the database predates them (idempotent, cached).

    ``Database.init_schema`` already creates them whenever this module was imported first
    (they live on the server's metadata); this covers a database initialised without it.
    """
    create_once(db, tables=[client_keys, offline_imports])


# -- client session keys ---------------------------------------------------------------

@dataclass(frozen=True)
class ClientKey:
    public_key: bytes
    key_id: str
    attempt_id: int
    client_id: str
    registered_at_ms: int


def find_client_key(db: Database, public_key: bytes) -> ClientKey | None:
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(
            select(client_keys).where(client_keys.c.public_key == public_key)
        ).first()
    if row is None:
        return None
    return ClientKey(bytes(row.public_key), row.key_id, int(row.attempt_id), row.client_id,
                     int(row.registered_at_ms))


def register_client_key(db: Database, *, attempt_id: int, public_key: bytes, client_id: str,
                        now_ms: int) -> ClientKey:
    """Store a session key for an attempt; idempotent; raises ApiError on a conflict."""
    ensure_tables(db)
    with db.write() as conn:
        row = conn.execute(
            select(client_keys).where(client_keys.c.public_key == public_key)
        ).first()
        if row is not None:
            if row.attempt_id != attempt_id:
                raise ApiError(409, "key_in_use")
            return ClientKey(bytes(row.public_key), row.key_id, int(row.attempt_id),
                             row.client_id, int(row.registered_at_ms))
        count = conn.execute(
            select(func.count()).select_from(client_keys)
            .where(client_keys.c.attempt_id == attempt_id)
        ).scalar_one()
        if count >= MAX_KEYS_PER_ATTEMPT:
            raise ApiError(409, "too_many_keys", limit=MAX_KEYS_PER_ATTEMPT)
        key = ClientKey(public_key, key_id(public_key), attempt_id, client_id, now_ms)
        conn.execute(client_keys.insert().values(
            public_key=key.public_key, key_id=key.key_id, attempt_id=attempt_id,
            client_id=client_id, registered_at_ms=now_ms))
    return key


class SessionKeyIn(BaseModel):
    public_key: str = Field(min_length=40, max_length=60)
    client_id: str = Field(default="", max_length=200)
    proof: str = Field(min_length=80, max_length=100)


api_router = APIRouter(prefix="/attempt")


@api_router.post("/session-key")
def post_session_key(body: SessionKeyIn, session: CandidateAuth,
                     ctx: Context) -> dict[str, Any]:
    """Register the client session's offline-file signing key (docs/formats.md)."""
    session.require_writer()
    now = ctx.clock.now_ms()
    end_ms = attempt_time.end_ms_for(ctx.db, exam=session.exam,
                                     candidate_id=session.candidate.id, now_ms=now)
    if now >= end_ms:
        # A key born after the end could only sign answers nobody saw being given.
        raise ApiError(409, "exam_ended", end_ms=end_ms)
    try:
        public = base64.b64decode(body.public_key, validate=True)
        proof = base64.b64decode(body.proof, validate=True)
        key = Ed25519PublicKey.from_public_bytes(public)
        key.verify(proof, registration_message(
            exam_id=session.exam.id, candidate_id=str(session.candidate.id),
            client_id=body.client_id, public_key=public))
    except (binascii.Error, ValueError, InvalidSignature):
        raise ApiError(400, "bad_key_proof") from None
    registered = register_client_key(ctx.db, attempt_id=session.attempt.id, public_key=public,
                                     client_id=body.client_id, now_ms=now)
    return {"key_id": registered.key_id, "registered_at_ms": registered.registered_at_ms}


class ProctorEventIn(BaseModel):
    seq: int = Field(ge=1)
    kind: str = Field(min_length=1, max_length=40, pattern=r"^proctor\.[a-z_]+$")
    proctor_id: str | None = Field(default=None, max_length=100)
    wall_time_ms: int
    server_time_ms: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class ProctorEventsIn(BaseModel):
    client_id: str = Field(default="", max_length=200)
    events: list[ProctorEventIn] = Field(max_length=500)


PROCTOR_EVENT_KIND = "proctor_log"
_proctor_events_lock = threading.Lock()


@api_router.post("/proctor-events")
def post_proctor_events(body: ProctorEventsIn, session: CandidateAuth,
                        ctx: Context) -> dict[str, Any]:
    """The client's proctor log (client/proctor/store_sink.py): each action once (also
    when it came in an offline file before), into the console's audit with its original
    time (server/console/pc_actions.py) and into the attempt's events. Acked up to the
    batch's last sequence number whatever was recorded, so the PC does not send it again."""
    from server.console import pc_actions

    now = ctx.clock.now_ms()
    ordered = sorted(body.events, key=lambda e: e.seq)
    with _proctor_events_lock:
        recorded = pc_actions.record(
            ctx.db, exam=session.exam, attempt_id=session.attempt.id,
            candidate_id=session.candidate.id, client_id=body.client_id, source="sync",
            arrived_ms=now, actions=[pc_actions.from_payload(e.model_dump()) for e in ordered])
        for event, new in zip(ordered, recorded.recorded, strict=True):
            if new:
                ctx.db.add_event(attempt_id=session.attempt.id, kind=PROCTOR_EVENT_KIND,
                                 payload={"client_id": body.client_id, **event.model_dump()},
                                 at_ms=now)
    acked = max((e.seq for e in body.events), default=0)
    return {"acked_up_to": acked, "epoch_ms": now}


# -- import ----------------------------------------------------------------------------

class ImportStatus(StrEnum):
    MERGED = "merged"        # at least one answer (or the submission) changed
    UNCHANGED = "unchanged"  # valid file, the server already had everything in it
    REFUSED = "refused"      # nothing changed; ``code`` says why


@dataclass(frozen=True)
class ImportScope:
    """What the importing admin may touch: one center (None: all) and optionally one exam."""

    center_id: str | None = None
    exam_id: str | None = None
    imported_by: str = "cli"


@dataclass(frozen=True)
class QuestionChange:
    question_id: str
    before_revision: int | None
    after_revision: int | None
    outcome: Outcome            # per question: applied if any of its revisions applied
    rejected_after_end: int     # how many of its revisions came after the end
    refused_after_take_over: int = 0  # made on this PC after another PC took over
    held_during_pause: int = 0  # made while the candidate's clock was paused


@dataclass(frozen=True)
class ImportReport:
    file_name: str
    status: ImportStatus
    code: str
    message: str
    file_sha256: str = ""
    exam_id: str | None = None
    candidate_no: str | None = None
    candidate_name: str | None = None
    attempt_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    questions: tuple[QuestionChange, ...] = ()
    submitted_by_import: bool = False
    score_before: float | None = None
    score_after: float | None = None
    previously_imported_at_ms: int | None = None
    # The file's PC lost the attempt to another PC at this server time: its later
    # revisions (and a submission it recorded later) were not merged (server/take_over.py).
    seat_lost_at_ms: int | None = None
    refused_submission: bool = False
    # The candidate's marks (标记) in the file: kept or why not (server/offline_marks.py).
    marks: MarksOutcome = MarksOutcome.ABSENT
    marked: tuple[str, ...] = ()

    @property
    def changed_questions(self) -> tuple[QuestionChange, ...]:
        return tuple(q for q in self.questions if q.outcome is Outcome.APPLIED)


def _refused(file_name: str, sha: str, error: UserFacingError) -> ImportReport:
    log.warning("offline file %s refused: %s %s", file_name, error.code, error.detail)
    return ImportReport(file_name=file_name, status=ImportStatus.REFUSED, code=error.code,
                        message=error.message, file_sha256=sha)


def _refusal(code: str, message: str, **detail: object) -> OfflineFileError:
    return OfflineFileError(code, message, **detail)


def import_offline_file(ctx: ServerContext, *, data: bytes, file_name: str,
                        scope: ImportScope) -> ImportReport:
    """Verify, decrypt and merge one file. Never raises for a bad file: it reports."""
    sha = hashlib.sha256(data).hexdigest()
    try:
        return _import(ctx, data=data, file_name=file_name, scope=scope, sha=sha)
    except UserFacingError as exc:
        return _refused(file_name, sha, exc)
    except Exception as exc:  # one broken file (or a busy database) must not stop the rest
        log.exception("importing offline file %s failed", file_name)
        # The merge is one transaction: a failure inside it left nothing half-written.
        return _refused(file_name, sha, UserFacingError(
            "offline.internal_error", _("服务器处理该文件时出错，未做任何修改，请稍后重试"),
            error=repr(exc)))


def _import(ctx: ServerContext, *, data: bytes, file_name: str, scope: ImportScope,
            sha: str) -> ImportReport:
    db = ctx.db
    if len(data) > MAX_FILE_BYTES:
        raise _refusal("offline.too_large", _("离线答卷文件过大"), size=len(data))
    envelope = read_envelope(data)
    key = find_client_key(db, envelope.session_public_key)
    if key is None:
        # A PC that never reached the server: its key rides in the file, certified.
        key = _certified_key(ctx, envelope, file_name=file_name, scope=scope)
    verify_signature(envelope,
                     session_public_key=Ed25519PublicKey.from_public_bytes(key.public_key))
    header = parse_header(envelope)
    check_file_name(header, actual_name=file_name)
    attempt = db.get_attempt(key.attempt_id)
    # The exam row at most a few seconds old, as for answer uploads: one file after
    # another of the same exam need not each read it.
    exam = db.cached_exam(attempt.exam_id) if attempt else None
    candidate = db.get_candidate(attempt.candidate_id) if attempt else None
    if attempt is None or exam is None or candidate is None:
        raise _refusal("offline.unknown_attempt", _("服务器上找不到该文件对应的考试记录"))
    if header.identity.exam_id != exam.id:
        raise _refusal("offline.wrong_exam", _("离线答卷文件属于另一场考试"),
                       file_exam=header.identity.exam_id, key_exam=exam.id)
    if header.identity.candidate_id != str(candidate.id):
        raise _refusal("offline.wrong_candidate", _("离线答卷文件属于另一名考生"),
                       file_candidate=header.identity.candidate_id)
    if scope.exam_id is not None and scope.exam_id != exam.id:
        raise _refusal("offline.wrong_exam",
                       _("离线答卷文件属于考试 {exam}，不是本次导入的考试").format(exam=exam.id),
                       file_exam=exam.id, expected_exam=scope.exam_id)
    if scope.center_id is not None and candidate.center_id != scope.center_id:
        raise _refusal("offline.other_center", _("该考生不属于您管理的考点"),
                       candidate_center=candidate.center_id)
    payload = open_payload(envelope, header, server_box_key=ctx.keys.box)
    _check_answers(ctx, exam, payload.revisions,
                   marked=payload.marks.question_ids if payload.marks else ())

    now = ctx.clock.now_ms()
    incoming = [
        # The trusted time of a revision is the client's server-clock estimate at save
        # (docs/formats.md); the PC wall clock in the file is informational only.
        IncomingRevision(r.question_id, r.revision, r.value, r.server_time_ms)
        for r in payload.revisions
    ]
    lost_ms = seat_lost_ms(db, attempt_id=attempt.id, client_id=key.client_id)
    incoming, after_take_over = _split_at_take_over(incoming, lost_ms=lost_ms)
    claimed = payload.submission.submitted_server_ms
    file_submits = payload.submission.state != "answering"
    if file_submits and lost_ms is not None and (claimed is None or claimed > lost_ms):
        file_submits = False  # pressed on a PC that no longer held the attempt
    refused_submission = payload.submission.state != "answering" and not file_submits
    ensure_tables(db)
    # One transaction per file: the merge, the submission it records and the import
    # record commit together (the audit event and scoring follow, outside it).
    with db.write() as conn:
        status_before = lock_attempt(conn, attempt.id)
        # The candidate's own end (extra time, pauses): a file written after the exam's
        # end but within the candidate's extra time merges.
        clock = attempt_time.read_clock(conn, exam=exam, candidate_id=attempt.candidate_id)
        end_ms = clock.end_ms(now_ms=now)
        # Answers saved while the clock was paused are held, not merged (server/merge.py).
        pauses = attempt_time.pauses_for(conn, exam_id=exam.id,
                                         candidate_id=attempt.candidate_id, clock=clock)
        merge = merge_locked(
            db, conn, attempt_id=attempt.id, attempt_status=status_before, revisions=incoming,
            source="offline_file", exam_end_ms=answers_close_ms(attempt, end_ms=end_ms),
            received_at_ms=now, pauses=pauses,
        )
        submitted_by_import = False
        if file_submits and status_before == IN_PROGRESS:
            at_ms = min(claimed if claimed is not None else now, end_ms, now)
            submitted_by_import = conn.execute(
                t.attempts.update()
                .where((t.attempts.c.id == attempt.id)
                       & (t.attempts.c.status == IN_PROGRESS))
                .values(status=payload.submission.state, submitted_at_ms=at_ms,
                        score=None, max_score=None, scored_at_ms=None)
            ).rowcount > 0
        marks = judge_marks(payload.marks, server=latest_marks(conn, attempt.id),
                            lost_ms=lost_ms, close_ms=answers_close_ms(attempt, end_ms=end_ms))
        if marks is MarksOutcome.APPLIED and payload.marks is not None:
            keep_marks(conn, attempt_id=attempt.id, marks=payload.marks,
                       client_id=key.client_id, file_name=file_name, now_ms=now)
        outcomes = replace(merge, outcomes=merge.outcomes + tuple(
            RevisionOutcome(r.question_id, r.revision, Outcome.REFUSED_AFTER_TAKE_OVER)
            for r in after_take_over))
        counts = {o.value: outcomes.count(o) for o in Outcome}
        previously = _record_import(
            db, conn, sha=sha, attempt_id=attempt.id, file_name=file_name, key=key,
            export_seq=header.export_seq, scope=scope, now=now, counts=counts,
            proctor_log=[{"kind": e.kind, **e.to_payload()} for e in payload.proctor_log])
    record_late_revisions(db, attempt=attempt, report=merge, source="offline_file",
                          client_id=key.client_id, at_ms=now)
    # The proctor's actions on that PC reach the console with their original time (once,
    # also if the PC synced them before: server/console/pc_actions.py).
    from server.console import pc_actions

    pc_actions.record(db, exam=exam, attempt_id=attempt.id, candidate_id=candidate.id,
                      client_id=key.client_id, source="offline_file", arrived_ms=now,
                      actions=[pc_actions.PcAction(
                          kind=e.kind, proctor_id=e.proctor_id, wall_time_ms=e.wall_time_ms,
                          server_time_ms=e.server_time_ms, detail=dict(e.detail))
                          for e in payload.proctor_log if e.kind.startswith("proctor.")])
    if after_take_over or refused_submission or marks is MarksOutcome.AFTER_TAKE_OVER:
        db.add_event(attempt_id=attempt.id, kind="offline_after_take_over", payload={
            "client_id": key.client_id, "seat_lost_ms": lost_ms, "file_name": file_name,
            "refused": [[r.question_id, r.revision] for r in after_take_over],
            "refused_submission": refused_submission,
            "refused_marks": marks is MarksOutcome.AFTER_TAKE_OVER}, at_ms=now)
    score_after = attempt.score
    # Only a submitted attempt is scored: answers merged into one still open change nothing
    # to grade (its submission scores it), so that costs no further reads.
    if (merge.changed_answers and status_before != IN_PROGRESS) or submitted_by_import:
        ctx.grader.grade(attempt.id)
        scored = db.get_attempt(attempt.id)
        score_after = scored.score if scored else None
    status, code, message = _verdict(
        changed=merge.changed_answers or submitted_by_import,
        marks_changed=marks is MarksOutcome.APPLIED, counts=counts, lost_ms=lost_ms,
        refused_on_lost_pc=refused_submission or marks is MarksOutcome.AFTER_TAKE_OVER)
    log.info("offline file %s for attempt %d: %s %s", file_name, attempt.id, status, counts)
    return ImportReport(
        file_name=file_name,
        status=status,
        code=code,
        message=message,
        file_sha256=sha,
        exam_id=exam.id,
        candidate_no=candidate.student_no,
        candidate_name=candidate.name,
        attempt_id=attempt.id,
        counts=counts,
        questions=_question_changes(outcomes),
        submitted_by_import=submitted_by_import,
        score_before=attempt.score,
        score_after=score_after,
        previously_imported_at_ms=previously,
        seat_lost_at_ms=lost_ms,
        refused_submission=refused_submission,
        marks=marks,
        marked=tuple(sorted(set(payload.marks.question_ids))) if payload.marks else (),
    )


def _split_at_take_over(incoming: list[IncomingRevision], *, lost_ms: int | None
                        ) -> tuple[list[IncomingRevision], list[IncomingRevision]]:
    """(merged, refused): a PC that lost the attempt keeps only what it saved before it
    lost it; a revision without a server time cannot show that it was, so it is refused."""
    if lost_ms is None:
        return incoming, []
    kept = [r for r in incoming if r.client_time_ms is not None and r.client_time_ms <= lost_ms]
    refused = [r for r in incoming
               if r.client_time_ms is None or r.client_time_ms > lost_ms]
    return kept, refused


def _verdict(*, changed: bool, marks_changed: bool, counts: dict[str, int],
             lost_ms: int | None, refused_on_lost_pc: bool) -> tuple[ImportStatus, str, str]:
    """Status, code and message of a file that passed every check."""
    if marks_changed and not changed:
        return (ImportStatus.MERGED, "offline.merged",
                _("已合并：答案没有变化，考生的标记已更新"))
    if changed:
        return (ImportStatus.MERGED, "offline.merged",
                _("已合并：{applied} 个答案更新").format(applied=counts[Outcome.APPLIED]))
    if lost_ms is not None and (counts[Outcome.REFUSED_AFTER_TAKE_OVER] or refused_on_lost_pc):
        # Nothing this PC did before it lost the attempt is missing on the server; what
        # it did afterwards is not the candidate's (they were at the other PC).
        return (ImportStatus.REFUSED, "offline.after_take_over",
                _("考生已于 {time} 换到其他电脑作答；本文件中此后在这台电脑上的修改不是该考生"
                  "在本场考试中的作答，未合并").format(time=staff_datetime(lost_ms)))
    return (ImportStatus.UNCHANGED, "offline.unchanged",
            _("没有变化：服务器已有该文件中的全部答案（重复导入不会改变任何内容）"))


def _certified_key(ctx: ServerContext, envelope: Envelope, *, file_name: str,
                   scope: ImportScope) -> ClientKey:
    """Register the key of a file whose certificate proves it (client/export/key_certificate.py).

    Refused as ``offline.unknown_client_key`` without a certificate, as
    ``offline.bad_certificate`` when it does not hold: wrong password, a MAC not made with
    this exam's paper key, or ids and key other than those it was sealed for.
    """
    unknown = _refusal("offline.unknown_client_key",
                       _("离线答卷文件来自本服务器不认识的客户端会话（签名密钥未登记）"),
                       key_id=envelope.session_key_id)
    try:
        verify_signature(envelope, session_public_key=Ed25519PublicKey.from_public_bytes(
            envelope.session_public_key))
        header = parse_header(envelope)
    except (OfflineFileError, ValueError):
        raise unknown from None
    if not header.key_certificate:
        raise unknown
    check_file_name(header, actual_name=file_name)
    ids = header.identity
    db = ctx.db
    exam = db.get_exam(ids.exam_id)
    candidate = db.get_candidate(int(ids.candidate_id)) if ids.candidate_id.isdigit() else None
    if exam is None or candidate is None or candidate.id not in {
            c.id for c in db.registered_candidates(exam.id)}:
        raise _refusal("offline.unknown_attempt", _("服务器上找不到该文件对应的考试记录"))
    if scope.exam_id is not None and scope.exam_id != exam.id:
        raise _refusal("offline.wrong_exam",
                       _("离线答卷文件属于考试 {exam}，不是本次导入的考试").format(exam=exam.id),
                       file_exam=exam.id, expected_exam=scope.exam_id)
    if scope.center_id is not None and candidate.center_id != scope.center_id:
        raise _refusal("offline.other_center", _("该考生不属于您管理的考点"),
                       candidate_center=candidate.center_id)
    message = certificate_message(exam_id=exam.id, candidate_id=str(candidate.id),
                                  client_id=ids.client_id,
                                  session_public_key=envelope.session_public_key)
    claim = open_certificate(header.key_certificate, message=message,
                             server_box_key=ctx.keys.box)
    if not verify_password(candidate.password_hash, claim.password) or not mac_matches(
            claim, paper_key=ctx.papers.paper_key(exam), message=message):
        raise bad_certificate()
    now = ctx.clock.now_ms()
    attempt = db.find_attempt(exam_id=exam.id, candidate_id=candidate.id) or db.open_attempt(
        exam_id=exam.id, candidate_id=candidate.id, now_ms=now)
    registered = register_client_key(db, attempt_id=attempt.id,
                                     public_key=envelope.session_public_key,
                                     client_id=ids.client_id, now_ms=now)
    db.add_event(attempt_id=attempt.id, kind="key_certified",
                 payload={"key_id": registered.key_id, "client_id": ids.client_id,
                          "file_name": file_name}, at_ms=now)
    return registered


def _check_answers(ctx: ServerContext, exam: Exam, revisions: Sequence[Any], *,
                   marked: Sequence[str] = ()) -> None:
    """The same limits as answer sync: questions of this paper, values of bounded size.
    A signed file from a real client never breaks them, so one that does is refused whole."""
    from server.api_attempt import value_within_limit

    known = ctx.papers.question_ids(exam)
    unknown = sorted(({r.question_id for r in revisions} | set(marked)) - known)
    if unknown:
        raise _refusal("offline.unknown_question", _("离线答卷文件含有本试卷没有的题目"),
                       question_ids=unknown[:20])
    for r in revisions:
        if not value_within_limit(r.value):
            raise _refusal("offline.value_too_large", _("离线答卷文件中的答案超过允许的大小"),
                           question_id=r.question_id, revision=r.revision)


def _question_changes(merge: MergeReport) -> tuple[QuestionChange, ...]:
    before, after = merge.revisions_before, merge.revisions_after
    rejected: dict[str, int] = {}
    taken_over: dict[str, int] = {}
    held: dict[str, int] = {}
    for o in merge.outcomes:
        if o.outcome is Outcome.HELD_DURING_PAUSE:
            held[o.question_id] = held.get(o.question_id, 0) + 1
        if o.outcome is Outcome.REJECTED_AFTER_END:
            rejected[o.question_id] = rejected.get(o.question_id, 0) + 1
        if o.outcome is Outcome.REFUSED_AFTER_TAKE_OVER:
            taken_over[o.question_id] = taken_over.get(o.question_id, 0) + 1
    return tuple(
        QuestionChange(question_id=qid, before_revision=before.get(qid),
                       after_revision=after.get(qid), outcome=outcome,
                       rejected_after_end=rejected.get(qid, 0),
                       refused_after_take_over=taken_over.get(qid, 0),
                       held_during_pause=held.get(qid, 0))
        for qid, outcome in sorted(merge.per_question().items())
    )


def _record_import(db: Database, conn: Connection, *, sha: str, attempt_id: int,
                   file_name: str, key: ClientKey, export_seq: int, scope: ImportScope, now: int,
                   counts: dict[str, int], proctor_log: list[dict[str, object]]) -> int | None:
    """Keep the first import of each file (with its proctor log); return an earlier
    import's time if this exact file was imported before. Inside the file's transaction,
    which holds the attempt: a concurrent import of the same file waits for it."""
    # Insert first, look only when it was there: one statement for a new file.
    inserted = conn.execute(
        db.dialect_insert()(offline_imports).values(
            file_sha256=sha, attempt_id=attempt_id, file_name=file_name, key_id=key.key_id,
            export_seq=export_seq, imported_at_ms=now, imported_by=scope.imported_by,
            summary={"counts": counts, "proctor_log": proctor_log})
        .on_conflict_do_nothing(index_elements=[offline_imports.c.file_sha256])
        .returning(offline_imports.c.file_sha256)).first()
    if inserted is not None:
        return None
    return int(conn.execute(select(offline_imports.c.imported_at_ms)
                            .where(offline_imports.c.file_sha256 == sha)).scalar_one())


def import_paths(ctx: ServerContext, paths: Sequence[Path], *,
                 scope: ImportScope) -> list[ImportReport]:
    reports = []
    for path in paths:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:  # refuse before reading it into memory
                reports.append(_refused(path.name, "", UserFacingError(
                    "offline.too_large", _("离线答卷文件过大"), size=path.stat().st_size)))
                continue
            with path.open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            reports.append(_refused(path.name, "", UserFacingError(
                "offline.unreadable", _("无法读取文件：{error}").format(error=exc.strerror or exc),
                path=str(path))))
            continue
        reports.append(import_offline_file(ctx, data=data, file_name=path.name, scope=scope))
    return reports


# -- command line ----------------------------------------------------------------------

def take_over_notes(report: ImportReport) -> list[str]:
    """What was not merged because the file's PC had lost the attempt (CLI and page)."""
    if report.seat_lost_at_ms is None:
        return []
    notes = []
    refused = report.counts.get(Outcome.REFUSED_AFTER_TAKE_OVER.value, 0)
    when = staff_datetime(report.seat_lost_at_ms)
    if refused:
        notes.append(_("考生于 {time} 换到其他电脑；这台电脑此后的 {n} 个修改未合并").format(
            time=when, n=refused))
    if report.refused_submission:
        notes.append(_("这台电脑在考生换到其他电脑之后记录的交卷未采用（{time}）").format(time=when))
    if report.marks is MarksOutcome.AFTER_TAKE_OVER:
        notes.append(_("这台电脑在考生换到其他电脑之后的标记未采用（{time}）").format(time=when))
    return notes


def marks_note(report: ImportReport) -> list[str]:
    """What became of the candidate's marks (标记) in the file (CLI and page)."""
    marked = ", ".join(report.marked) or "-"
    if report.marks is MarksOutcome.APPLIED:
        return [_("考生的标记已更新：{marked}").format(marked=marked)]
    if report.marks is MarksOutcome.OLDER:
        return [_("文件中的标记比服务器上的旧，未采用")]
    if report.marks is MarksOutcome.AFTER_CLOSE:
        return [_("文件中的标记是交卷或考试结束后改的，未采用")]
    return []


def format_report(report: ImportReport) -> list[str]:
    """Lines for the terminal (and the plain-text part of the upload page)."""
    if report.status is ImportStatus.REFUSED:
        return [_("[拒绝] {file}：{message}（{code}）").format(
            file=report.file_name, message=report.message, code=report.code),
            *("  " + note for note in take_over_notes(report))]
    head = _("[{status}] {file}：考生 {no} {name}，考试 {exam}").format(
        status=_("已合并") if report.status is ImportStatus.MERGED else _("无变化"),
        file=report.file_name, no=report.candidate_no, name=report.candidate_name,
        exam=report.exam_id)
    lines = [head, "  " + report.message]
    summary = _("新答案 {applied}，已有 {duplicate}，较旧 {older}，考试结束后 {late}")
    lines.append("  " + summary.format(
        applied=report.counts.get("applied", 0), duplicate=report.counts.get("duplicate", 0),
        older=report.counts.get("ignored_older", 0),
        late=report.counts.get("rejected_after_end", 0)))
    for q in report.questions:
        if q.outcome is Outcome.APPLIED:
            lines.append("  " + _("题 {q}：版本 {before} -> {after}").format(
                q=q.question_id, before=q.before_revision or "-", after=q.after_revision))
        if q.rejected_after_end:
            lines.append("  " + _("题 {q}：{n} 个考试结束后的修改被拒绝").format(
                q=q.question_id, n=q.rejected_after_end))
        if q.held_during_pause:
            lines.append("  " + _("题 {q}：{n} 个暂停期间的修改未计入答案（已留存备查）").format(
                q=q.question_id, n=q.held_during_pause))
    lines.extend("  " + note for note in [*marks_note(report), *take_over_notes(report)])
    if report.submitted_by_import:
        lines.append("  " + _("该考生的答卷已按文件记录交卷"))
    if report.score_after is not None and report.score_after != report.score_before:
        lines.append("  " + _("重新评分：{before} -> {after}").format(
            before="-" if report.score_before is None else report.score_before,
            after=report.score_after))
    if report.previously_imported_at_ms is not None:
        lines.append("  " + _("此文件以前已导入过"))
    return lines


def cmd_import_offline(args: argparse.Namespace) -> int:
    from server.cli import open_context

    ctx = open_context(args)
    ensure_tables(ctx.db)
    scope = ImportScope(center_id=args.center, exam_id=args.exam, imported_by="cli")
    reports = import_paths(ctx, args.files, scope=scope)
    for report in reports:
        print("\n".join(format_report(report)))
    refused = sum(1 for r in reports if r.status is ImportStatus.REFUSED)
    print(_("共 {total} 个文件：合并 {merged}，无变化 {unchanged}，拒绝 {refused}").format(
        total=len(reports), merged=sum(1 for r in reports if r.status is ImportStatus.MERGED),
        unchanged=sum(1 for r in reports if r.status is ImportStatus.UNCHANGED),
        refused=refused))
    return 1 if refused else 0


def register_cli(subparsers: Any) -> None:
    from server.cli import add_data_argument

    parser = subparsers.add_parser("import-offline",
                                   help=_("导入离线答卷文件（按题按版本增量合并）"))
    add_data_argument(parser)
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE")
    parser.add_argument("--exam", default=None, help=_("只接受这场考试的文件"))
    parser.add_argument("--center", default=None, help=_("只接受这个考点的考生的文件"))
    parser.set_defaults(func=cmd_import_offline)
