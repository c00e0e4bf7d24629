"""The end of one candidate's attempt: the exam's end, plus extra time, plus pauses.

Everything on the server that decides "the end" for a candidate asks here: the automatic
submission (``Database.auto_submit_ended`` joins the same table), the acceptance of late
uploads and offline files, the session-key registration, and the login and heartbeat
answers that give the PC its end. The PC learns its end only from those authenticated
answers (docs/lifecycle.md, "Extra time and pauses").

Extra time never shortens an exam: a grant is positive, so the end is the exam's end plus
the sum of the grants (plus the time paused), never earlier than the exam's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from server import schema as t
from server.db import Database, Exam

MAX_EXTRA_MINUTES = 600  # one grant; a whole day of an exam is more than any allowance
MAX_MULTIPLIER = 4.0


@dataclass(frozen=True)
class AttemptClock:
    """One candidate's clock for one exam, as stored."""

    base_end_ms: int
    extra_ms: int = 0
    paused_ms: int = 0
    paused_since_ms: int | None = None

    @property
    def paused(self) -> bool:
        return self.paused_since_ms is not None

    def end_ms(self, *, now_ms: int) -> int:
        """The effective end at *now_ms*: while paused it moves with the clock (the
        candidate's time stands still)."""
        end = self.base_end_ms + self.extra_ms + self.paused_ms
        if self.paused_since_ms is not None:
            end += max(0, now_ms - self.paused_since_ms)
        return end


@dataclass(frozen=True)
class PauseInterval:
    """One pause as stored in ``attempt_pauses``: [started_ms, ended_ms), open while under
    way. ended_by: "console" (a resume) or "limit" (the server's max_pause_s)."""

    started_ms: int
    ended_ms: int | None = None
    ended_by: str | None = None

    def contains(self, at_ms: int) -> bool:
        return self.started_ms <= at_ms and (self.ended_ms is None or at_ms < self.ended_ms)


def pause_at(pauses: Sequence[PauseInterval], at_ms: int) -> PauseInterval | None:
    """The pause the clock was in at *at_ms* (server time), if any."""
    return next((p for p in pauses if p.contains(at_ms)), None)


def read_pauses(conn: Connection, *, exam_id: str, candidate_id: int) -> list[PauseInterval]:
    """Every pause of the candidate's clock, oldest first."""
    rows = conn.execute(select(t.attempt_pauses)
                        .where(t.attempt_pauses.c.exam_id == exam_id,
                               t.attempt_pauses.c.candidate_id == candidate_id)
                        .order_by(t.attempt_pauses.c.started_ms, t.attempt_pauses.c.id)).all()
    return [PauseInterval(int(r.started_ms), None if r.ended_ms is None else int(r.ended_ms),
                          r.ended_by) for r in rows]


def pauses_for(conn: Connection, *, exam_id: str, candidate_id: int,
               clock: AttemptClock) -> list[PauseInterval]:
    """The pauses to check answers against; none read when the clock was never paused
    (the answer upload's hot path). A pause begun before the intervals were stored (an
    older server) counts from the start it recorded."""
    if clock.paused_ms == 0 and clock.paused_since_ms is None:
        return []
    pauses = read_pauses(conn, exam_id=exam_id, candidate_id=candidate_id)
    if clock.paused_since_ms is not None and not any(p.ended_ms is None for p in pauses):
        pauses.append(PauseInterval(clock.paused_since_ms))
    return pauses


def pauses_of(db: Database, *, exam_id: str, candidate_id: int) -> list[PauseInterval]:
    with db.read() as conn:
        return read_pauses(conn, exam_id=exam_id, candidate_id=candidate_id)


def extra_ms_for(*, exam: Exam, minutes: float | None, multiplier: float | None) -> int:
    """A grant in milliseconds: minutes, or a multiplier of the exam's duration (1.25: a
    quarter of the duration more). ValueError when neither or both, or out of range."""
    if (minutes is None) == (multiplier is None):
        raise ValueError("give minutes or a multiplier")
    if minutes is not None:
        if not 0 < minutes <= MAX_EXTRA_MINUTES:
            raise ValueError("minutes out of range")
        return round(minutes * 60_000)
    assert multiplier is not None
    if not 1.0 < multiplier <= MAX_MULTIPLIER:
        raise ValueError("multiplier out of range")
    return round((exam.end_ms - exam.start_ms) * (multiplier - 1.0))


def _row(conn: Connection, *, exam_id: str, candidate_id: int,
         lock: bool = False) -> Row[Any] | None:
    query = select(t.attempt_times).where(t.attempt_times.c.exam_id == exam_id,
                                          t.attempt_times.c.candidate_id == candidate_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def read_clock(conn: Connection, *, exam: Exam, candidate_id: int,
               lock: bool = False) -> AttemptClock:
    row = _row(conn, exam_id=exam.id, candidate_id=candidate_id, lock=lock)
    if row is None:
        return AttemptClock(base_end_ms=exam.end_ms)
    return AttemptClock(base_end_ms=exam.end_ms, extra_ms=int(row.extra_ms),
                        paused_ms=int(row.paused_ms),
                        paused_since_ms=None if row.paused_since_ms is None
                        else int(row.paused_since_ms))


def clock_for(db: Database, *, exam: Exam, candidate_id: int) -> AttemptClock:
    with db.read() as conn:
        return read_clock(conn, exam=exam, candidate_id=candidate_id)


def end_ms_for(db: Database, *, exam: Exam, candidate_id: int, now_ms: int) -> int:
    return clock_for(db, exam=exam, candidate_id=candidate_id).end_ms(now_ms=now_ms)


def clocks_of_exam(db: Database, exam: Exam) -> dict[int, AttemptClock]:
    """Every candidate of *exam* with a clock of their own (the console's room view)."""
    with db.read() as conn:
        rows = conn.execute(select(t.attempt_times)
                            .where(t.attempt_times.c.exam_id == exam.id)).all()
    return {int(r.candidate_id): AttemptClock(
        base_end_ms=exam.end_ms, extra_ms=int(r.extra_ms), paused_ms=int(r.paused_ms),
        paused_since_ms=None if r.paused_since_ms is None else int(r.paused_since_ms))
        for r in rows}


def _store(conn: Connection, *, exam_id: str, candidate_id: int, exists: bool,
           now_ms: int, **values: int | None) -> None:
    if exists:
        conn.execute(update(t.attempt_times)
                     .where(t.attempt_times.c.exam_id == exam_id,
                            t.attempt_times.c.candidate_id == candidate_id)
                     .values(updated_at_ms=now_ms, **values))
    else:
        row: dict[str, int | None] = {"extra_ms": 0, "paused_ms": 0, "paused_since_ms": None}
        row.update(values)
        conn.execute(insert(t.attempt_times).values(
            exam_id=exam_id, candidate_id=candidate_id, updated_at_ms=now_ms, **row))


def add_extra(conn: Connection, *, exam: Exam, candidate_id: int, extra_ms: int,
              now_ms: int) -> AttemptClock:
    """Add a grant in the caller's transaction (with its audit row); the new clock."""
    if extra_ms <= 0:
        raise ValueError("extra time is positive")
    exists = _row(conn, exam_id=exam.id, candidate_id=candidate_id, lock=True) is not None
    before = read_clock(conn, exam=exam, candidate_id=candidate_id)
    _store(conn, exam_id=exam.id, candidate_id=candidate_id, exists=exists, now_ms=now_ms,
           extra_ms=before.extra_ms + extra_ms)
    return AttemptClock(base_end_ms=exam.end_ms, extra_ms=before.extra_ms + extra_ms,
                        paused_ms=before.paused_ms, paused_since_ms=before.paused_since_ms)


def set_paused(conn: Connection, *, exam: Exam, candidate_id: int, paused: bool,
               now_ms: int, ended_by: str = "console") -> AttemptClock:
    """Stop or restart the candidate's clock; resuming moves the end by the pause. Each
    pause is kept as an interval (``attempt_pauses``) as well as in the total."""
    exists = _row(conn, exam_id=exam.id, candidate_id=candidate_id, lock=True) is not None
    before = read_clock(conn, exam=exam, candidate_id=candidate_id)
    pauses = t.attempt_pauses
    if paused:
        if before.paused:
            return before
        _store(conn, exam_id=exam.id, candidate_id=candidate_id, exists=exists,
               now_ms=now_ms, paused_since_ms=now_ms)
        conn.execute(insert(pauses).values(exam_id=exam.id, candidate_id=candidate_id,
                                           started_ms=now_ms))
        return AttemptClock(base_end_ms=exam.end_ms, extra_ms=before.extra_ms,
                            paused_ms=before.paused_ms, paused_since_ms=now_ms)
    if before.paused_since_ms is None:
        return before
    ended_ms = max(now_ms, before.paused_since_ms)
    paused_ms = before.paused_ms + (ended_ms - before.paused_since_ms)
    _store(conn, exam_id=exam.id, candidate_id=candidate_id, exists=exists, now_ms=now_ms,
           paused_ms=paused_ms, paused_since_ms=None)
    closed = conn.execute(update(pauses).where(
        pauses.c.exam_id == exam.id, pauses.c.candidate_id == candidate_id,
        pauses.c.ended_ms.is_(None)).values(ended_ms=ended_ms, ended_by=ended_by)).rowcount
    if not closed:  # a pause begun before the intervals were kept (an older server)
        conn.execute(insert(pauses).values(
            exam_id=exam.id, candidate_id=candidate_id, started_ms=before.paused_since_ms,
            ended_ms=ended_ms, ended_by=ended_by))
    return AttemptClock(base_end_ms=exam.end_ms, extra_ms=before.extra_ms,
                        paused_ms=paused_ms)
