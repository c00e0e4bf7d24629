"""The room plan: which candidate sits in which room and seat of a center.

Loaded from a CSV the center already has (考场安排表): student number or ID number,
room, seat. The console groups tiles by it and scopes proctors to their room.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import delete, insert

from client.errors import UserFacingError
from client.i18n import _
from server.console import tables as ct
from server.db import Database


@dataclass(frozen=True)
class SeatRow:
    candidate: str  # student number or ID number
    room: str
    seat: str


def assign(db: Database, *, exam_id: str, rows: list[SeatRow]) -> int:
    """Put each candidate in their seat (replacing an earlier plan for them)."""
    ct.ensure_tables(db)
    if db.get_exam(exam_id) is None:
        raise UserFacingError("exam.unknown", _("考试 {exam} 不存在").format(exam=exam_id))
    registered = {c.id: c for c in db.registered_candidates(exam_id)}
    values = []
    for line, row in enumerate(rows, start=2):
        found = [c for c in db.candidates_by_username(row.candidate.strip())
                 if c.id in registered]
        if not found:
            raise UserFacingError(
                "seating.not_registered",
                _("第 {line} 行：考生 {who} 未报名考试 {exam}").format(
                    line=line, who=row.candidate, exam=exam_id))
        candidate = found[0]
        if candidate.center_id is None:
            raise UserFacingError(
                "seating.no_center",
                _("第 {line} 行：考生 {who} 不属于任何考点").format(line=line, who=row.candidate))
        if not row.room.strip() or not row.seat.strip():
            raise UserFacingError("seating.missing",
                                  _("第 {line} 行：考场和座位号不能为空").format(line=line))
        values.append({"exam_id": exam_id, "candidate_id": candidate.id,
                       "center_id": candidate.center_id, "room": row.room.strip()[:64],
                       "seat": row.seat.strip()[:16]})
    with db.write() as conn:
        for value in values:
            conn.execute(delete(ct.seats).where(
                (ct.seats.c.exam_id == exam_id)
                & (ct.seats.c.candidate_id == value["candidate_id"])))
        if values:
            conn.execute(insert(ct.seats), values)
    return len(values)


def parse_csv(text: str) -> list[SeatRow]:
    """Columns 考生 (学号或身份证号), 考场, 座位号; English headers also accepted."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    aliases = {"考生": "candidate", "学号": "candidate", "candidate": "candidate",
               "考场": "room", "room": "room", "座位号": "seat", "座位": "seat", "seat": "seat"}
    rows = []
    for raw in reader:
        mapped = {aliases[k.strip()]: (v or "") for k, v in raw.items()
                  if k is not None and k.strip() in aliases}
        if set(mapped) != {"candidate", "room", "seat"}:
            raise UserFacingError("seating.columns",
                                  _("表头应为：考生,考场,座位号（考生填学号或身份证号）"))
        rows.append(SeatRow(candidate=mapped["candidate"], room=mapped["room"],
                            seat=mapped["seat"]))
    return rows
