"""A candidate held after a failed face check (人脸核验未通过), decided from the console.

The PC whose identity check failed too often (liveness + match, client/camera) asks for
a decision: ``POST /api/v1/attempt/identity-hold`` with the failed check (its reason
code, scores, the candidate's message) and the check's own frames (JPEG, as every
identity result carries them). The frames are stored as that identity result's captures
(server/review_store.py, sealed, same event id: the review outbox sending the same
result later stores nothing twice), and a hold row waits for a proctor of the room.

The console shows the hold on the seat with the frames beside the base photo; a proctor
of the room (or the chief, an admin) approves entry or refuses it, with a reason
(server/console/actions.py: ``decide_face_hold``). The PC names the hold it waits on in
its heartbeat and learns the decision from the authenticated answer; a decision applies
to that hold only, so an old approval never lets a later failed check through.

An approval is also an identity result ``approved_by_proctor`` (as a proctor's approval
at the PC is), so the result is held for review as 人脸识别认证未通过 (server/review.py),
and an exam that requires the check counts it as the proctor's word.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Integer,
    String,
    Table,
    func,
    select,
)
from sqlalchemy import update as sql_update

from server import review_store as rs
from server import schema as t
from server.auth import CandidateAuth, Context
from server.db import Database
from server.errors import ApiError
from server.lazy_tables import create_once

log = logging.getLogger(__name__)

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
HoldStatus = Literal["pending", "approved", "refused"]
MESSAGE_MAX = 300

identity_holds = Table(
    "identity_holds",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attempt_id", Integer, nullable=False, index=True),
    Column("exam_id", String(64), nullable=False),
    Column("candidate_id", Integer, nullable=False),
    Column("event_id", String(64), nullable=False),   # the failed identity result
    Column("reason", String(100), nullable=False),    # its stable code (liveness.frozen, ...)
    Column("message", String(MESSAGE_MAX), nullable=False),  # what the candidate was told
    Column("score", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("failures", Integer, nullable=False),
    Column("captures", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("requested_at_ms", BigInteger, nullable=False),
    Column("decided_by", String(100), nullable=True),  # role:username of the console account
    Column("decided_at_ms", BigInteger, nullable=True),
    Column("decision_reason", String(500), nullable=True),
)


def ensure_tables(db: Database) -> None:
    rs.ensure_tables(db)
    create_once(db, tables=[identity_holds])


@dataclass(frozen=True)
class Hold:
    id: int
    attempt_id: int
    exam_id: str
    candidate_id: int
    event_id: str
    reason: str
    message: str
    score: float | None
    threshold: float | None
    failures: int
    captures: int
    status: str
    requested_at_ms: int
    decided_by: str | None
    decided_at_ms: int | None
    decision_reason: str | None

    def to_console(self) -> dict[str, Any]:
        """What the seat's tile carries (no image: the page fetches the frames by URL)."""
        return {"id": self.id, "status": self.status, "reason": self.reason,
                "message": self.message, "score": self.score, "threshold": self.threshold,
                "failures": self.failures, "captures": self.captures,
                "requested_at_ms": self.requested_at_ms, "decided_by": self.decided_by,
                "decided_at_ms": self.decided_at_ms, "decision_reason": self.decision_reason}

    def to_client(self) -> dict[str, Any]:
        """The heartbeat's part: the decision on the hold the PC waits on."""
        return {"id": self.id, "status": self.status,
                "reason": self.decision_reason or "", "at_ms": self.decided_at_ms}


def _hold(row: Any) -> Hold:
    return Hold(**{c.name: getattr(row, c.name) for c in identity_holds.columns})


# -- the PC asks ------------------------------------------------------------------------

class HoldIn(BaseModel):
    """The failed check the PC is held on (client.camera.identity_check.IdentityResult)."""

    event_id: str = Field(pattern=rs.EVENT_ID_PATTERN)
    client_id: str = Field(default="", max_length=200)
    reason: str = Field(min_length=1, max_length=100)
    message: str = Field(default="", max_length=MESSAGE_MAX)
    score: float | None = Field(default=None, ge=-1.0, le=1.0)
    threshold: float | None = Field(default=None, ge=-1.0, le=1.0)
    failures: int = Field(default=0, ge=0, le=1000)
    record: rs.SmallJson = Field(default_factory=dict)
    at_ms: int | None = None
    # At least one frame: the proctor decides on a picture, not on the PC's word.
    captures: list[str] = Field(min_length=1, max_length=rs.MAX_CAPTURES)


def request_hold(db: Database, keys: Any, *, attempt_id: int, exam_id: str,
                 candidate_id: int, body: HoldIn, now_ms: int) -> Hold:
    """Store the failed check (its frames as the result's captures) and open a hold, or
    return the attempt's hold already waiting (one at a time: a PC asking twice, or the
    answer lost, does not put two requests before the proctor)."""
    ensure_tables(db)
    rs.store_identity(db, keys, attempt_id=attempt_id, now_ms=now_ms, body=rs.IdentityIn(
        event_id=body.event_id, client_id=body.client_id, passed=False, score=body.score,
        threshold=body.threshold, reason=body.reason, record=body.record, at_ms=body.at_ms,
        captures=body.captures))
    stored = _capture_count(db, attempt_id=attempt_id, event_id=body.event_id)
    if stored == 0:
        # The same event id was stored before without frames (the outbox got there with
        # another body): nothing to show the proctor, so no hold either.
        raise ApiError(409, "hold_without_frames", event_id=body.event_id)
    h = identity_holds
    with db.write() as conn:
        waiting = conn.execute(select(h).where(h.c.attempt_id == attempt_id,
                                               h.c.status == PENDING)
                               .order_by(h.c.id.desc())).first()
        if waiting is not None:
            return _hold(waiting)
        inserted = conn.execute(h.insert().values(
            attempt_id=attempt_id, exam_id=exam_id, candidate_id=candidate_id,
            event_id=body.event_id, reason=body.reason, message=body.message,
            score=body.score, threshold=body.threshold, failures=body.failures,
            captures=stored, status=PENDING, requested_at_ms=now_ms)).inserted_primary_key
        assert inserted is not None
        hold_id = int(inserted[0])
        row = conn.execute(select(h).where(h.c.id == hold_id)).one()
    db.add_event(attempt_id=attempt_id, kind="identity_hold_requested",
                 payload={"hold_id": int(hold_id), "event_id": body.event_id,
                          "reason": body.reason, "score": body.score}, at_ms=now_ms)
    log.info("identity hold %s for attempt %d (%s)", hold_id, attempt_id, body.reason)
    return _hold(row)


def _capture_count(db: Database, *, attempt_id: int, event_id: str) -> int:
    b = rs.review_blobs
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(b).where(
            b.c.attempt_id == attempt_id, b.c.kind == "identity", b.c.event_id == event_id,
            b.c.role == "capture")).scalar_one())


# -- reading ----------------------------------------------------------------------------

def hold_for_attempt(conn: Connection, *, hold_id: int, attempt_id: int) -> Hold | None:
    """In the heartbeat's read: the hold *hold_id* if it is this attempt's (else None)."""
    h = identity_holds
    row = conn.execute(select(h).where(h.c.id == hold_id, h.c.attempt_id == attempt_id)).first()
    return None if row is None else _hold(row)


def get_hold(db: Database, hold_id: int) -> Hold | None:
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(select(identity_holds)
                           .where(identity_holds.c.id == hold_id)).first()
    return None if row is None else _hold(row)


def newest_by_attempt(conn: Connection, attempt_ids: list[int]) -> dict[int, Hold]:
    """The newest hold of each attempt (the console's tiles; one query per poll)."""
    if not attempt_ids:
        return {}
    h = identity_holds
    newest = (select(h.c.attempt_id, func.max(h.c.id).label("id"))
              .where(h.c.attempt_id.in_(attempt_ids)).group_by(h.c.attempt_id).subquery())
    rows = conn.execute(select(h).join(newest, newest.c.id == h.c.id)).all()
    return {int(r.attempt_id): _hold(r) for r in rows}


def blocking_hold(db: Database, *, attempt_id: int) -> Hold | None:
    """The attempt's newest hold if it keeps the paper closed (pending or refused): the
    paper key waits for a proctor's decision, so a restarted client, a wiped data folder
    or a PC that forgot the hold cannot open the paper by asking the server again."""
    ensure_tables(db)
    h = identity_holds
    with db.read() as conn:
        row = conn.execute(select(h).where(h.c.attempt_id == attempt_id)
                           .order_by(h.c.id.desc()).limit(1)).first()
    if row is None or row.status == APPROVED:
        return None
    return _hold(row)


def evidence_image(db: Database, keys: Any, hold: Hold, position: int) -> bytes | None:
    """Frame *position* of the check the hold is about (JPEG), or None."""
    b = rs.review_blobs
    with db.read() as conn:
        image_id = conn.execute(select(b.c.id).where(
            b.c.attempt_id == hold.attempt_id, b.c.kind == "identity",
            b.c.event_id == hold.event_id, b.c.role == "capture",
            b.c.position == position)).scalar()
    if image_id is None:
        return None
    found = rs.read_image(db, keys, int(image_id))
    return None if found is None else found[1]


def evidence_ids(db: Database, hold: Hold) -> list[int]:
    """The stored images (review_blobs ids) the decision was taken on, for the audit row."""
    b = rs.review_blobs
    with db.read() as conn:
        return [int(i) for i in conn.execute(select(b.c.id).where(
            b.c.attempt_id == hold.attempt_id, b.c.kind == "identity",
            b.c.event_id == hold.event_id, b.c.role == "capture")
            .order_by(b.c.position)).scalars()]


# -- deciding (server/console/actions.py calls this inside its transaction) ---------------

def decide(conn: Connection, *, hold: Hold, approve: bool, by: str, reason: str,
           now_ms: int) -> bool:
    """Close a still-pending hold; False if it was decided meanwhile (nothing changed).

    An approval also writes the proctor's identity result (approved_by_proctor), the
    record the review rule and the exam's identity policy read."""
    h = identity_holds
    changed = conn.execute(sql_update(h).where(h.c.id == hold.id, h.c.status == PENDING)
                           .values(status=APPROVED if approve else REFUSED, decided_by=by,
                                   decided_at_ms=now_ms, decision_reason=reason))
    if changed.rowcount != 1:
        return False
    if approve:
        conn.execute(rs.identity_results.insert().values(
            attempt_id=hold.attempt_id, event_id=f"console-hold-{hold.id}", client_id="",
            passed=False, score=hold.score, threshold=hold.threshold, reason=hold.reason,
            approved_by_proctor=True, proctor_id=by[:100],
            record={"outcome": "approved_in_console", "hold_id": hold.id,
                    "failed_event_id": hold.event_id, "reason": reason},
            at_ms=now_ms, received_at_ms=now_ms))
    return True


# -- HTTP -------------------------------------------------------------------------------

router = APIRouter(prefix="/attempt")


@router.post("/identity-hold")
def post_identity_hold(body: HoldIn, session: CandidateAuth, ctx: Context) -> dict[str, Any]:
    """The PC is held after a failed face check: the console decides (docs/console.md)."""
    hold = request_hold(ctx.db, ctx.keys, attempt_id=session.attempt.id,
                        exam_id=session.exam.id, candidate_id=session.candidate.id,
                        body=body, now_ms=ctx.clock.now_ms())
    return {"hold_id": hold.id, "status": hold.status}
