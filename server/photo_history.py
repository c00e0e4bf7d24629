"""Base photo history (底照记录): who uploaded which photo when, and who removed one.

server/base_photos.py keeps only the current photo of a candidate; every store that adds
or replaces one, and every removal, leaves a row here (the photo's SHA-256, not the
photo), so a dispute ("the photo was changed the night before") can be answered.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Integer, String, Table, select

from server import schema as t
from server.db import Database
from server.lazy_tables import create_once

photo_history = Table(
    "base_photo_history",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("candidate_id", Integer, ForeignKey("candidates.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),      # added | replaced | removed
    Column("sha256", String(64), nullable=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("by", String(100), nullable=False),
    Column("problems", JSON, nullable=False, default=list),
)


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[photo_history])


@dataclass(frozen=True)
class HistoryRow:
    candidate_id: int
    action: str
    sha256: str | None
    at_ms: int
    by: str
    problems: tuple[str, ...]


def record(db: Database, *, candidate_id: int, action: str, sha256: str | None, at_ms: int,
           by: str, problems: tuple[str, ...] | list[str] = ()) -> None:
    ensure_tables(db)
    with db.write() as conn:
        conn.execute(photo_history.insert().values(
            candidate_id=candidate_id, action=action, sha256=sha256, at_ms=at_ms,
            by=by[:100], problems=list(problems)))


def history(db: Database, candidate_ids: list[int] | None = None) -> list[HistoryRow]:
    """Oldest first; all candidates when *candidate_ids* is None."""
    ensure_tables(db)
    query = select(photo_history).order_by(photo_history.c.id)
    if candidate_ids is not None:
        query = query.where(photo_history.c.candidate_id.in_(candidate_ids))
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [HistoryRow(r.candidate_id, r.action, r.sha256, r.at_ms, r.by, tuple(r.problems))
            for r in rows]
