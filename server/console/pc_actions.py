"""Proctor actions taken on an exam PC (proctor mode: unlock, authorizations, entry
approval, export, closing the client) reach the console's audit with their original time.

The PC keeps them in its encrypted store (client/proctor/store_sink.py) and reports them
when it can: the sync (``POST /api/v1/attempt/proctor-events``) once the network is back,
or inside its offline answer file (server/offline_import.py). Both paths end here, so an
action reported both ways is recorded once (its fingerprint: the PC, the kind, the proctor,
both clocks and the detail). Each becomes one console audit row by the proctor (role
``pc_proctor``) whose time is when it was done (the PC's server-time estimate) and whose
detail keeps when it arrived (``arrived_at_ms``) and how (``source``).

What the PC says is checked, not believed: a time after the report's arrival (beyond a
small clock error) or long before the exam started is no time at all (the row then takes
the arrival time, says ``time_trusted: false`` and keeps the claim); a PC reports at most
:data:`MAX_PER_ATTEMPT` actions for one attempt (a real exam has a handful), the rest is
dropped with one audit row saying so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table, func, select

from client.i18n import _
from server import schema as t
from server.console import audit
from server.console import tables as ct
from server.db import Database, Exam
from server.lazy_tables import create_once

ROLE = "pc_proctor"
MAX_PER_ATTEMPT = 300
# The PC's estimate of server time may be off by its last sync's error (well under this).
CLOCK_SKEW_MS = 2 * 60_000
# Proctor mode works in the waiting room before the start; earlier than this is no time.
BEFORE_START_MS = 3 * 3600_000
DROPPED = "pc_actions_dropped"
_DROPPED_FINGERPRINT = "dropped"

pc_proctor_actions = Table(
    "pc_proctor_actions",
    t.metadata,
    Column("attempt_id", Integer, ForeignKey("attempts.id"), primary_key=True),
    Column("fingerprint", String(64), primary_key=True),
    Column("arrived_at_ms", BigInteger, nullable=False),
)


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[pc_proctor_actions])


@dataclass(frozen=True)
class PcAction:
    """One proctor action as the PC reports it (client/proctor/proctor_log.py)."""

    kind: str
    proctor_id: str | None
    wall_time_ms: int
    server_time_ms: int | None
    detail: Mapping[str, Any]

    def fingerprint(self, client_id: str) -> str:
        data = json.dumps([client_id, self.kind, self.proctor_id, self.wall_time_ms,
                           self.server_time_ms, dict(self.detail)],
                          ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(data.encode()).hexdigest()


@dataclass(frozen=True)
class Recorded:
    recorded: list[bool]  # per action given: recorded now (not before, not dropped)
    duplicates: int
    dropped: int

    @property
    def new(self) -> int:
        return sum(self.recorded)


def done_at(action: PcAction, *, exam: Exam, arrived_ms: int) -> int | None:
    """When the action was done, server time; None when the PC's time cannot be right."""
    claimed = action.server_time_ms
    if claimed is None:
        return None
    if claimed > arrived_ms + CLOCK_SKEW_MS or claimed < exam.start_ms - BEFORE_START_MS:
        return None
    return min(claimed, arrived_ms)


def record(db: Database, *, exam: Exam, attempt_id: int, candidate_id: int, client_id: str,
           actions: Sequence[PcAction], source: str, arrived_ms: int) -> Recorded:
    """Record each action not recorded before, as an audit row; one transaction."""
    ct.ensure_tables(db)
    ensure_tables(db)
    insert = db.dialect_insert()
    recorded: list[bool] = []
    duplicates = dropped = 0
    with db.write() as conn:
        count = int(conn.execute(select(func.count()).select_from(pc_proctor_actions).where(
            pc_proctor_actions.c.attempt_id == attempt_id)).scalar_one())
        center_id, room = audit.seat_of(conn, exam_id=exam.id, candidate_id=candidate_id)
        for action in actions:
            fingerprint = action.fingerprint(client_id)
            known = conn.execute(select(pc_proctor_actions.c.fingerprint).where(
                pc_proctor_actions.c.attempt_id == attempt_id,
                pc_proctor_actions.c.fingerprint == fingerprint)).first()
            recorded.append(known is None and count < MAX_PER_ATTEMPT)
            if known is not None:
                duplicates += 1
                continue
            if count >= MAX_PER_ATTEMPT:
                dropped += 1
                continue
            conn.execute(insert(pc_proctor_actions).values(
                attempt_id=attempt_id, fingerprint=fingerprint, arrived_at_ms=arrived_ms))
            count += 1
            when = done_at(action, exam=exam, arrived_ms=arrived_ms)
            name = action.detail.get("name")
            detail: dict[str, Any] = {
                "done_at_ms": when, "arrived_at_ms": arrived_ms, "source": source,
                "client_id": client_id, "time_trusted": when is not None,
                "claimed_server_time_ms": action.server_time_ms,
                "pc_wall_time_ms": action.wall_time_ms, "detail": dict(action.detail)}
            audit.record_system(
                conn, action=action.kind[:40], at_ms=when if when is not None else arrived_ms,
                reason="" if when is not None else _("电脑报告的操作时间不可信，按到达时间记录"),
                exam_id=exam.id, center_id=center_id, room=room, candidate_id=candidate_id,
                detail=detail, actor=(action.proctor_id or "?")[:64], role=ROLE,
                actor_name=name[:100] if isinstance(name, str) and name else _("考生电脑上的监考"))
        if dropped and conn.execute(insert(pc_proctor_actions).values(
                attempt_id=attempt_id, fingerprint=_DROPPED_FINGERPRINT,
                arrived_at_ms=arrived_ms).on_conflict_do_nothing()).rowcount:
            audit.record_system(
                conn, action=DROPPED, at_ms=arrived_ms, exam_id=exam.id, center_id=center_id,
                room=room, candidate_id=candidate_id, actor=client_id[:64] or "?",
                reason=_("该电脑上报的监考操作超过 {n} 条，其余未记录").format(n=MAX_PER_ATTEMPT),
                detail={"dropped": dropped, "source": source, "limit": MAX_PER_ATTEMPT})
    return Recorded(recorded=recorded, duplicates=duplicates, dropped=dropped)


def from_payload(raw: Mapping[str, Any]) -> PcAction:
    detail = raw.get("detail") or {}
    return PcAction(kind=str(raw["kind"]), proctor_id=raw.get("proctor_id"),
                    wall_time_ms=int(raw["wall_time_ms"]),
                    server_time_ms=None if raw.get("server_time_ms") is None
                    else int(raw["server_time_ms"]),
                    detail=dict(detail) if isinstance(detail, Mapping) else {})

