"""A forgotten pause ends by itself: the server's ``max_pause_s`` (server/config.py).

A pause the proctor never resumed would keep the attempt open for ever (the sweeper never
submits a paused attempt: server/db.py ``auto_submit_ended``). The sweeper calls
:func:`end_overdue_pauses` before it looks for ended attempts: a pause older than the
limit ends at ``started + limit`` (not at the sweep's time, so the end moves by exactly
the limit), with an audit row saying so, and the sweeper then submits the attempt at its
moved end if that has passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from client.i18n import _
from server import attempt_time
from server import schema as t
from server.console import audit
from server.console import tables as ct
from server.db import Database

PAUSE_LIMIT_ACTION = "pause_limit"


@dataclass(frozen=True)
class EndedPause:
    exam_id: str
    candidate_id: int
    started_ms: int
    ended_ms: int
    end_ms: int  # the candidate's end after it


def end_overdue_pauses(db: Database, *, now_ms: int, max_pause_ms: int) -> list[EndedPause]:
    """End every pause under way for *max_pause_ms* or longer; 0 or less: no limit."""
    if max_pause_ms <= 0:
        return []
    ct.ensure_tables(db)
    times = t.attempt_times
    with db.read() as conn:
        overdue = conn.execute(select(times.c.exam_id, times.c.candidate_id).where(
            times.c.paused_since_ms.is_not(None),
            times.c.paused_since_ms <= now_ms - max_pause_ms)).all()
    ended = []
    for exam_id, candidate_id in overdue:
        exam = db.get_exam(exam_id)
        if exam is None:
            continue
        with db.write() as conn:
            # Read again under the lock: a proctor may have resumed it meanwhile.
            before = attempt_time.read_clock(conn, exam=exam, candidate_id=candidate_id,
                                             lock=True)
            since = before.paused_since_ms
            if since is None or since > now_ms - max_pause_ms:
                continue
            at_ms = since + max_pause_ms
            after = attempt_time.set_paused(conn, exam=exam, candidate_id=candidate_id,
                                            paused=False, now_ms=at_ms, ended_by="limit")
            center_id, room = audit.seat_of(conn, exam_id=exam_id, candidate_id=candidate_id)
            detail = {"paused_since_ms": since, "paused_for_ms": max_pause_ms,
                      "max_pause_s": max_pause_ms // 1000,
                      "end_ms": after.end_ms(now_ms=at_ms), "noticed_at_ms": now_ms}
            audit.record_system(
                conn, action=PAUSE_LIMIT_ACTION, at_ms=at_ms, exam_id=exam_id,
                center_id=center_id, room=room, candidate_id=candidate_id, detail=detail,
                reason=_("暂停超过 {m} 分钟未恢复，服务器已自动恢复计时").format(
                    m=round(max_pause_ms / 60_000, 1)))
            attempt = conn.execute(select(t.attempts.c.id).where(
                t.attempts.c.exam_id == exam_id,
                t.attempts.c.candidate_id == candidate_id)).scalar()
        if attempt is not None:
            db.add_event(attempt_id=int(attempt), kind="attempt_resumed",
                         payload={"by": audit.SYSTEM_ACTOR, "reason": PAUSE_LIMIT_ACTION,
                                  **detail}, at_ms=at_ms)
        ended.append(EndedPause(exam_id=exam_id, candidate_id=int(candidate_id),
                                started_ms=since, ended_ms=at_ms,
                                end_ms=after.end_ms(now_ms=at_ms)))
    return ended
