"""Tables of the invigilation console, on the server's metadata (created on first use).

The console keeps its own accounts (a proctor of one room, a chief examiner of a center,
an admin of everything), the room plan (which candidate sits in which room and seat),
attendance marks, incidents, and one audit row per action. Candidate data, attempts and
second-login requests stay in the tables the rest of the server owns.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from server import schema as t
from server.db import Database
from server.lazy_tables import create_once

console_accounts = Table(
    "console_accounts",
    t.metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),  # proctor|chief|admin
    # NULL for an admin; the center of a chief examiner or a proctor.
    Column("center_id", String(64), ForeignKey("centers.id"), nullable=True),
    # The one room a proctor invigilates (NULL for chief and admin).
    Column("room", String(64), nullable=True),
    Column("created_at_ms", BigInteger, nullable=False),
)

seats = Table(
    "console_seats",
    t.metadata,
    Column("exam_id", String(64), ForeignKey("exams.id"), primary_key=True),
    Column("candidate_id", Integer, ForeignKey("candidates.id"), primary_key=True),
    Column("center_id", String(64), ForeignKey("centers.id"), nullable=False),
    Column("room", String(64), nullable=False),
    Column("seat", String(16), nullable=False),
)

attendance = Table(
    "console_attendance",
    t.metadata,
    Column("exam_id", String(64), ForeignKey("exams.id"), primary_key=True),
    Column("candidate_id", Integer, ForeignKey("candidates.id"), primary_key=True),
    Column("status", String(20), nullable=False),  # present|absent
    Column("by", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)

incidents = Table(
    "console_incidents",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exam_id", String(64), ForeignKey("exams.id"), nullable=False),
    Column("candidate_id", Integer, ForeignKey("candidates.id"), nullable=True),
    Column("center_id", String(64), nullable=False),
    Column("room", String(64), nullable=False),
    Column("category", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("by", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)

audit = Table(
    "console_audit",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),
    # The account's real name when it acted (NULL in rows from before schema 3).
    Column("actor_name", String(100), nullable=True),
    Column("role", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("exam_id", String(64), nullable=True),
    Column("center_id", String(64), nullable=True),
    Column("room", String(64), nullable=True),
    Column("candidate_id", Integer, nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Column("detail", JSON, nullable=False, default=dict),
)

# Console sessions: the SHA-256 of the cookie's token, like server tokens.
sessions = Table(
    "console_sessions",
    t.metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("username", String(64), ForeignKey("console_accounts.username"), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)

# Failed console logins, per account and per address: shared by every worker of a farm,
# so N workers do not multiply the attempts an attacker gets.
Index("ix_console_seats_room", seats.c.exam_id, seats.c.center_id, seats.c.room)
Index("ix_console_audit_at", audit.c.at_ms)

TABLES = [console_accounts, seats, attendance, incidents, audit, sessions]


def ensure_tables(db: Database) -> None:
    """Create the console's tables if the database predates them (idempotent, cached)."""
    create_once(db, tables=TABLES)
