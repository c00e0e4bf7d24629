"""Messages from the console to a candidate's PC (监考消息), and whether they arrived.

A proctor writes to one seat, a selection or the room (docs/console.md, "Messages"); the
room is fanned out to one row per candidate, so the console shows per seat whether the
PC has the message (已送达) and whether the candidate has read it (已读). The PC receives
its messages on its next heartbeat (``POST /attempt/heartbeat`` answers every message
newer than the highest id the PC says it has) and acknowledges them on the next one:
``messages_seen`` (stored on the PC and shown) and ``messages_read`` (the candidate
closed the notice). Receipt is idempotent: a PC that lost its store, or another PC
taking the attempt over, asks from 0 and gets every message again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from server import schema as t
from server.db import Database
from server.lazy_tables import create_once

TEXT_MAX = 500  # characters: a notice on the exam page, not a letter
PER_BEAT = 20  # messages in one heartbeat answer (the rest follow on the next beats)

staff_messages = Table(
    "staff_messages",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exam_id", String(64), ForeignKey("exams.id"), nullable=False),
    Column("candidate_id", Integer, ForeignKey("candidates.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("sender", String(100), nullable=False),  # shown to the candidate: 监考教师 王老师
    Column("by", String(64), nullable=False),  # the console account
    Column("at_ms", BigInteger, nullable=False),
    Column("delivered_at_ms", BigInteger, nullable=True),  # the PC said it has it
    Column("read_at_ms", BigInteger, nullable=True),  # the candidate closed the notice
)
Index("ix_staff_messages_seat", staff_messages.c.exam_id, staff_messages.c.candidate_id)


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[staff_messages])


@dataclass(frozen=True)
class StaffMessage:
    id: int
    candidate_id: int
    text: str
    sender: str
    at_ms: int
    delivered_at_ms: int | None
    read_at_ms: int | None

    def to_client(self) -> dict[str, Any]:
        """What the PC gets: no account names, no delivery bookkeeping."""
        return {"id": self.id, "text": self.text, "from": self.sender, "at_ms": self.at_ms}

    def to_console(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "at_ms": self.at_ms,
                "delivered_at_ms": self.delivered_at_ms, "read_at_ms": self.read_at_ms}


def _message(row: Any) -> StaffMessage:
    return StaffMessage(id=int(row.id), candidate_id=int(row.candidate_id), text=row.text,
                        sender=row.sender, at_ms=int(row.at_ms),
                        delivered_at_ms=row.delivered_at_ms, read_at_ms=row.read_at_ms)


def send(conn: Connection, *, exam_id: str, candidate_id: int, text: str, sender: str,
         by: str, now_ms: int) -> int:
    """One message to one candidate, in the caller's transaction (with its audit row)."""
    result = conn.execute(insert(staff_messages).values(
        exam_id=exam_id, candidate_id=candidate_id, text=text, sender=sender, by=by,
        at_ms=now_ms))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


@dataclass(frozen=True)
class Exchange:
    """A heartbeat's part: what to send, and whether an acknowledgement is new."""

    newer: list[StaffMessage]
    acknowledges: bool


def read_exchange(conn: Connection, *, exam_id: str, candidate_id: int, seen: int,
                  read: int) -> Exchange:
    """In the heartbeat's read (with the candidate's clock): the messages newer than
    *seen* (oldest first, at most PER_BEAT), and whether *seen*/*read* confirm any."""
    m = staff_messages
    seat = (m.c.exam_id == exam_id) & (m.c.candidate_id == candidate_id)
    acknowledged = max(seen, read)
    unconfirmed = (m.c.id <= acknowledged) & (
        m.c.delivered_at_ms.is_(None) | ((m.c.id <= read) & m.c.read_at_ms.is_(None)))
    # One indexed query (the usual answer: no row at all).
    rows = [_message(r) for r in conn.execute(
        select(m).where(seat, (m.c.id > seen) | unconfirmed).order_by(m.c.id))]
    return Exchange(newer=[r for r in rows if r.id > seen][:PER_BEAT],
                    acknowledges=any(r.id <= acknowledged for r in rows))


def acknowledge(db: Database, *, exam_id: str, candidate_id: int, seen: int, read: int,
                now_ms: int) -> None:
    """The PC holds every message up to max(*seen*, *read*) (已送达); the candidate
    closed every one up to *read* (已读). Only called when read_exchange found news."""
    m = staff_messages
    seat = (m.c.exam_id == exam_id) & (m.c.candidate_id == candidate_id)
    with db.write() as conn:
        conn.execute(update(m).where(seat, m.c.id <= max(seen, read),
                                     m.c.delivered_at_ms.is_(None))
                     .values(delivered_at_ms=now_ms))
        conn.execute(update(m).where(seat, m.c.id <= read, m.c.read_at_ms.is_(None))
                     .values(read_at_ms=now_ms))


def exchange(db: Database, *, exam_id: str, candidate_id: int, seen: int, read: int,
             now_ms: int) -> list[StaffMessage]:
    """read_exchange and acknowledge on their own (tests, tools)."""
    ensure_tables(db)
    with db.read() as conn:
        found = read_exchange(conn, exam_id=exam_id, candidate_id=candidate_id, seen=seen,
                              read=read)
    if found.acknowledges:
        acknowledge(db, exam_id=exam_id, candidate_id=candidate_id, seen=seen, read=read,
                    now_ms=now_ms)
    return found.newer


def recent_by_candidate(conn: Connection, *, exam_id: str, candidate_ids: Iterable[int],
                        per_seat: int = 5) -> dict[int, list[StaffMessage]]:
    """The console's view: each seat's latest messages, newest first."""
    m = staff_messages
    found: dict[int, list[StaffMessage]] = {}
    for row in conn.execute(select(m).where(m.c.exam_id == exam_id,
                                            m.c.candidate_id.in_(list(candidate_ids)))
                            .order_by(m.c.id.desc())):
        seat = found.setdefault(int(row.candidate_id), [])
        if len(seat) < per_seat:
            seat.append(_message(row))
    return found
