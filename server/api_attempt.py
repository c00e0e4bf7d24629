"""The candidate's attempt: answer sync, submission, and the result."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from server import attempt_time, identity_holds, staff_messages
from server.auth import CONTACT_RESOLUTION_MS, CandidateAuth, Context, upload_target
from server.context import ServerContext
from server.db import PENDING_REVIEW, SUBMITTED, Attempt, Database, Exam
from server.errors import ApiError
from server.merge import IncomingRevision, MergeReport, Outcome, close_ms, merge_upload

router = APIRouter(prefix="/attempt")

MAX_BATCH = 2_000
MAX_VALUE_BYTES = 256 * 1024  # an essay of ~80k CJK characters; anything larger is abuse
# JSON without ASCII escaping spends at most 6 bytes on a character (a control character's
# \uXXXX), so a string this short is within the limit unmeasured. Most answers are an
# option letter or a short text, and encoding each one as JSON was the offline import's
# and the upload's largest cost after the database.
_SURELY_SMALL_CHARS = (MAX_VALUE_BYTES - 2) // 6


def value_within_limit(value: Any) -> bool:
    """True when *value* as JSON (UTF-8) fits MAX_VALUE_BYTES; a string that cannot be
    UTF-8 (a lone surrogate) raises UnicodeEncodeError, a ValueError, either way."""
    if isinstance(value, str) and len(value) <= _SURELY_SMALL_CHARS:
        value.encode()
        return True
    return len(json.dumps(value, ensure_ascii=False).encode()) <= MAX_VALUE_BYTES


class AnswerIn(BaseModel):
    question_id: str = Field(min_length=1, max_length=100)
    revision: int = Field(ge=1)
    value: Any = None
    client_time_ms: int | None = None

    @field_validator("value")
    @classmethod
    def _small_enough(cls, value: Any) -> Any:
        if not value_within_limit(value):
            raise ValueError(f"answer value larger than {MAX_VALUE_BYTES} bytes")
        return value


class AnswersIn(BaseModel):
    answers: list[AnswerIn] = Field(max_length=MAX_BATCH)


class SubmitIn(BaseModel):
    answered_count: int = Field(default=0, ge=0)


class HeartbeatIn(BaseModel):
    """What the PC reports on every heartbeat (client/sync/heartbeat.py)."""

    focus_losses: int = Field(default=0, ge=0, le=1_000_000)
    pending: int = Field(default=0, ge=0, le=10_000_000)  # revisions not yet uploaded
    # Staff messages (server/staff_messages.py): the highest id this PC holds, and the
    # highest one the candidate has closed.
    messages_seen: int = Field(default=0, ge=0, le=2**53)
    messages_read: int = Field(default=0, ge=0, le=2**53)
    # The face-check hold this PC waits on (server/identity_holds.py), 0: none.
    identity_hold: int = Field(default=0, ge=0, le=2**53)


def answers_close_ms(attempt: Attempt, *, end_ms: int) -> int:
    """Until when a revision may have been made: the candidate's end (*end_ms*, extra
    time included: server/attempt_time.py), or the submission if earlier.

    A submitted attempt changes only by revisions stamped before it closed, arriving late
    (docs/lifecycle.md); merge_revisions refuses the rest for good.
    """
    return close_ms(status=attempt.status, submitted_at_ms=attempt.submitted_at_ms,
                    end_ms=end_ms)


def attempt_end_ms(ctx: ServerContext, *, exam: Exam, attempt_id: int, now_ms: int) -> int:
    """The candidate's own end for the attempt *attempt_id* (server/attempt_time.py)."""
    attempt = ctx.db.get_attempt(attempt_id)
    if attempt is None:
        return exam.end_ms
    return attempt_time.end_ms_for(ctx.db, exam=exam, candidate_id=attempt.candidate_id,
                                   now_ms=now_ms)


def record_late_revisions(db: Database, *, attempt: Attempt, report: MergeReport, source: str,
                          client_id: str, at_ms: int) -> bool:
    """Audit: a submitted attempt changed (late sync or file); True: score it again."""
    if not attempt.is_submitted or not report.changed_answers:
        return False
    db.add_event(attempt_id=attempt.id, kind="late_revisions", payload={
        "source": source, "client_id": client_id,
        "applied": [[o.question_id, o.revision] for o in report.outcomes
                    if o.outcome is Outcome.APPLIED],
        "submitted_at_ms": attempt.submitted_at_ms}, at_ms=at_ms)
    return True


@router.post("/answers", response_model=None)
def push_answers(body: AnswersIn, request: Request, ctx: Context,
                 background: BackgroundTasks) -> JSONResponse:
    # The hot path of an exam (every candidate, every few seconds): cached session lookup,
    # limits checked before any database work, then one transaction that re-checks the
    # token (revoked, read-only) while it holds the attempt (server/merge.py).
    now = ctx.clock.now_ms()
    target = upload_target(request, ctx, now_ms=now)
    known = ctx.papers.question_ids(target.exam)
    unknown = sorted({a.question_id for a in body.answers} - known)
    if unknown:
        raise ApiError(422, "unknown_question", question_ids=unknown[:20])
    end_ms = target.exam.end_ms
    if now >= end_ms:
        # As candidate_session does: no upload sees an attempt still open after the end
        # (what it delivers then is a late delivery, audited below). Past the exam's end
        # only (the hot path during the exam reads nothing more): the candidate's own end,
        # extra time and pauses included.
        ctx.db.auto_submit_ended(now_ms=now)
        end_ms = attempt_end_ms(ctx, exam=target.exam, attempt_id=target.attempt_id,
                                now_ms=now)
    upload = merge_upload(
        ctx.db,
        token_sha256=target.token_sha256,
        attempt_id=target.attempt_id,
        revisions=[
            IncomingRevision(a.question_id, a.revision, a.value, a.client_time_ms)
            for a in body.answers
        ],
        exam_end_ms=end_ms,
        received_at_ms=now,
        contact_resolution_ms=CONTACT_RESOLUTION_MS,
    )
    if upload.refusal == "revoked":
        raise ApiError(401, "revoked")
    if upload.refusal == "read_only":
        raise ApiError(403, "read_only", attempt_status=upload.status)
    if upload.refusal is not None or upload.report is None:
        raise ApiError(401, "unauthorized")
    report = upload.report
    if upload.was_submitted and report.changed_answers:
        attempt = ctx.db.get_attempt(target.attempt_id)  # rare: a late delivery
        if attempt is not None and record_late_revisions(
                ctx.db, attempt=attempt, report=report, source="sync",
                client_id=upload.client_id, at_ms=now):
            background.add_task(ctx.grader.grade, attempt.id)
    acked = [[qid, rev] for qid, rev in report.acked]
    if report.rejected:
        # Only possible after the end, when the attempt is already (auto-)submitted:
        # the valid part of the batch is stored and acked, the late part is refused.
        return JSONResponse(
            {
                "error": "sealed",
                "detail": {
                    "acked": acked,
                    "rejected": [[qid, rev] for qid, rev in report.rejected],
                    "end_ms": end_ms,
                    "epoch_ms": now,
                },
            },
            status_code=409,
        )
    # A ready response: FastAPI's generic encoding of a returned dict costs more CPU
    # than this whole answer on the hot path.
    if report.held_during_pause:
        # Acked (kept for the proctor), but not answers: saved while the clock was paused.
        return JSONResponse({"acked": acked, "epoch_ms": now, "held_during_pause": [
            [qid, rev] for qid, rev in report.held_during_pause]})
    return JSONResponse({"acked": acked, "epoch_ms": now})


@router.post("/heartbeat", response_model=None)
def heartbeat(body: HeartbeatIn, session: CandidateAuth, ctx: Context) -> JSONResponse:
    """The PC's light channel: it says it is alive, the server answers with the attempt's
    clock. Authentication (candidate_session) already recorded the contact, so an idle but
    connected PC is not shown as 失去联系 on the console."""
    now = ctx.clock.now_ms()
    exam_id, candidate_id = session.exam.id, session.candidate.id
    staff_messages.ensure_tables(ctx.db)
    if body.identity_hold:
        identity_holds.ensure_tables(ctx.db)
    hold = None
    # One read for the candidate's clock (extra time, pause) and the console's messages
    # (and, only for a PC held after a failed face check, the console's decision).
    with ctx.db.read() as conn:
        clock = attempt_time.read_clock(conn, exam=session.exam, candidate_id=candidate_id)
        exchange = staff_messages.read_exchange(
            conn, exam_id=exam_id, candidate_id=candidate_id, seen=body.messages_seen,
            read=body.messages_read)
        if body.identity_hold:
            hold = identity_holds.hold_for_attempt(conn, hold_id=body.identity_hold,
                                                   attempt_id=session.attempt.id)
    if exchange.acknowledges:  # 已送达 / 已读: a write only when it is news
        staff_messages.acknowledge(ctx.db, exam_id=exam_id, candidate_id=candidate_id,
                                   seen=body.messages_seen, read=body.messages_read,
                                   now_ms=now)
    return JSONResponse({
        "server_time_ms": now,
        "end_ms": clock.end_ms(now_ms=now),
        "paused": clock.paused,
        "paused_since_ms": clock.paused_since_ms,
        "messages": [m.to_client() for m in exchange.newer],
        "identity_hold": None if hold is None else hold.to_client(),
    })


@router.get("/answers")
def current_answers(session: CandidateAuth, ctx: Context) -> dict[str, Any]:
    """The candidate's current revision per question: a PC taking over the attempt (or
    recovering a damaged store) seeds its local store from this before the exam page opens.
    ``server_time_ms`` is the time the answering PC gave it (its estimate of server time)."""
    records = ctx.db.current_answer_records(session.attempt.id)
    return {
        "answers": [
            {
                "question_id": r.question_id,
                "revision": r.revision,
                "value": r.value,
                "server_time_ms": r.client_time_ms,
            }
            for r in records
        ],
        "flags": current_flags(ctx, session.attempt.id),
        "status": session.attempt.status,
        "submitted_at_ms": session.attempt.submitted_at_ms,
        "epoch_ms": ctx.clock.now_ms(),
    }


class FlagsIn(BaseModel):
    """The questions the candidate marked for review (标记), all of them each time."""

    flags: list[str] = Field(max_length=MAX_BATCH)


FLAGS_EVENT = "flags"


def current_flags(ctx: ServerContext, attempt_id: int) -> list[str]:
    """The marks the PC holding the attempt sent last (kept as events: who, when)."""
    events = ctx.db.events(attempt_id=attempt_id, kind=FLAGS_EVENT)
    return list(events[-1].payload["flags"]) if events else []


@router.put("/flags")
def put_flags(body: FlagsIn, session: CandidateAuth, ctx: Context) -> dict[str, Any]:
    """Marks travel with the attempt, so a PC that takes it over shows them too (they
    are the candidate's, like the answers: issue 15). Only the PC that writes sends them."""
    session.require_writer()
    unknown = sorted(set(body.flags) - ctx.papers.question_ids(session.exam))
    if unknown:
        raise ApiError(422, "unknown_question", question_ids=unknown[:20])
    flags = sorted(set(body.flags))
    if flags != current_flags(ctx, session.attempt.id):
        ctx.db.add_event(attempt_id=session.attempt.id, kind=FLAGS_EVENT,
                         payload={"flags": flags, "client_id": session.client_id or ""},
                         at_ms=ctx.clock.now_ms())
    return {"flags": flags}


@router.post("/submit")
def submit(
    body: SubmitIn, session: CandidateAuth, ctx: Context, background: BackgroundTasks
) -> dict[str, Any]:
    session.require_writer()
    now = ctx.clock.now_ms()
    already = session.attempt.is_submitted
    attempt = ctx.db.submit_attempt(
        session.attempt.id, at_ms=now, status=SUBMITTED, client_answered_count=body.answered_count
    )
    server_count = sum(1 for v in ctx.db.current_answers(attempt.id).values() if v is not None)
    if not already:
        ctx.db.add_event(
            attempt_id=attempt.id,
            kind="submit",
            payload={
                "client_answered_count": body.answered_count,
                "server_answered_count": server_count,
            },
            at_ms=now,
        )
    if not already:
        # Before the result can be read: held if the exam requires an identity check
        # this attempt never passed (server/identity_audit.py).
        from server.review import evaluate_submission

        evaluate_submission(ctx.db, attempt, now_ms=now)
    if attempt.score is None:
        background.add_task(ctx.grader.grade, attempt.id)
    return {
        "submitted_at_ms": attempt.submitted_at_ms,
        "status": attempt.status,
        "answered_count": server_count,
    }


@router.get("/result")
def result(session: CandidateAuth, ctx: Context, background: BackgroundTasks) -> dict[str, Any]:
    attempt = session.attempt
    if not attempt.is_submitted:
        raise ApiError(409, "not_submitted")
    max_score = attempt.max_score
    if max_score is None:
        max_score = ctx.papers.max_objective_score(session.exam)
    # The score is the objective part; essays (listed here) are read by a person later.
    extra = {"unscored_items": ctx.papers.unscored_items(session.exam)}
    if attempt.review_status == PENDING_REVIEW:
        return {"status": "pending_review", "score": None, "max_score": max_score, **extra}
    if attempt.score is None:
        # In case a scoring run was lost (restart); no-op while one is running.
        background.add_task(ctx.grader.grade, attempt.id, wait=False)
        return {"status": "computing", "score": None, "max_score": max_score, **extra}
    return {"status": "scored", "score": attempt.score, "max_score": max_score, **extra}
