"""Database tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Times are epoch milliseconds from the server clock (``*_ms``). Answer values are JSON
(the shapes in docs/contracts.md); JSON ``null`` means "no answer".

Schema versions: a new database gets every table of :data:`metadata` and
``SCHEMA_VERSION``. An older database gets the tables it lacks (``create_all``) and then
each migration above its version, in order, in the same transaction
(:meth:`server.db.Database.init_schema`). A migration does what ``create_all`` cannot:
indexes and columns on tables that already exist. Write them for both engines.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.engine import Connection

SCHEMA_VERSION = 3

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
)

centers = Table(
    "centers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    # Public IPs the center's candidates may log in from; an empty list allows any IP.
    Column("allowed_ips", JSON, nullable=False, default=list),
)

candidates = Table(
    "candidates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student_no", String(64), nullable=False, unique=True),
    Column("id_number", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("center_id", String(64), ForeignKey("centers.id"), nullable=True),
    Column("password_hash", String(200), nullable=False),
)

admins = Table(
    "admins",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    # NULL: platform admin (every center); otherwise the admin of one center.
    Column("center_id", String(64), ForeignKey("centers.id"), nullable=True),
    # The person's real name (exam-server add-admin --name): what the admin's uploads are
    # signed with. NULL only for accounts from before schema 3 (shown as 未登记实名).
    Column("real_name", String(100), nullable=True),
)

exams = Table(
    "exams",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger, nullable=False),
    Column("paper_id", String(200), nullable=False),
    Column("package_path", Text, nullable=False),
    Column("package_sha256", String(64), nullable=False),
    Column("package_size", BigInteger, nullable=False),
    # AES-GCM under the server's storage key (server/keys.py); served only after start.
    Column("paper_key_sealed", LargeBinary, nullable=False),
    # The objective answer keys ({item id: key} JSON), sealed the same way. Packages go to
    # candidates without keys, so this is the server's only copy for scoring.
    Column("answer_keys_sealed", LargeBinary, nullable=False),
)

registrations = Table(
    "registrations",
    metadata,
    Column("exam_id", String(64), ForeignKey("exams.id"), primary_key=True),
    Column("candidate_id", Integer, ForeignKey("candidates.id"), primary_key=True),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exam_id", String(64), ForeignKey("exams.id"), nullable=False),
    Column("candidate_id", Integer, ForeignKey("candidates.id"), nullable=False),
    Column("status", String(20), nullable=False),  # in_progress|submitted|auto_submitted
    Column("login_count", Integer, nullable=False, default=0),
    Column("last_contact_ms", BigInteger, nullable=True),
    Column("submitted_at_ms", BigInteger, nullable=True),
    Column("client_answered_count", Integer, nullable=True),
    Column("score", Float, nullable=True),  # NULL while not scored ("computing")
    Column("max_score", Float, nullable=True),
    Column("scored_at_ms", BigInteger, nullable=True),
    Column("review_status", String(20), nullable=False, default="none"),  # none|pending_review
    Column("review_reason", Text, nullable=True),
    UniqueConstraint("exam_id", "candidate_id", name="uq_attempt_exam_candidate"),
)


# One candidate's own clock for one exam (server/attempt_time.py): extra time granted by
# the console (before the exam or during it) and time stopped by a pause. Keyed by exam
# and candidate, not by attempt: extra time is often planned before the candidate logs
# in. No row: the exam's own end.
attempt_times = Table(
    "attempt_times",
    metadata,
    Column("exam_id", String(64), ForeignKey("exams.id"), primary_key=True),
    Column("candidate_id", Integer, ForeignKey("candidates.id"), primary_key=True),
    Column("extra_ms", BigInteger, nullable=False, default=0),  # sum of the grants
    Column("paused_ms", BigInteger, nullable=False, default=0),  # ended pauses, in total
    Column("paused_since_ms", BigInteger, nullable=True),  # a pause under way
    Column("updated_at_ms", BigInteger, nullable=False),
)

# Every pause of one candidate's clock (server/attempt_time.py), so that an answer a PC
# saved while it did not know of a pause (offline) can be told apart: the total in
# attempt_times.paused_ms moves the end, the intervals say when the clock stood still.
# ended_ms NULL: the pause under way; ended_by: console (a resume) or limit (max_pause_s).
attempt_pauses = Table(
    "attempt_pauses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exam_id", String(64), ForeignKey("exams.id"), nullable=False),
    Column("candidate_id", Integer, ForeignKey("candidates.id"), nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger, nullable=True),
    Column("ended_by", String(20), nullable=True),
)
Index("ix_attempt_pauses_candidate", attempt_pauses.c.exam_id, attempt_pauses.c.candidate_id)

def _answer_columns() -> list[Column[object]]:
    return [
        Column("value", JSON(none_as_null=False), nullable=True),
        Column("client_time_ms", BigInteger, nullable=True),
        Column("received_at_ms", BigInteger, nullable=False),
        Column("source", String(20), nullable=False),  # sync|offline_file
    ]


# The current answer per question: always the highest revision received.
answers = Table(
    "answers",
    metadata,
    Column("attempt_id", Integer, ForeignKey("attempts.id"), primary_key=True),
    Column("question_id", String(100), primary_key=True),
    Column("revision", Integer, nullable=False),
    *_answer_columns(),
)

# Every distinct revision ever received (audit trail, dispute handling).
answer_revisions = Table(
    "answer_revisions",
    metadata,
    Column("attempt_id", Integer, ForeignKey("attempts.id"), primary_key=True),
    Column("question_id", String(100), primary_key=True),
    Column("revision", Integer, primary_key=True, autoincrement=False),
    *_answer_columns(),
)

# Revisions a PC saved while the candidate's clock was paused (it had not heard of the
# pause: offline, or the pause message was still on its way). They never become answers
# (the pause gives its length back at the end, so counting them would give it twice);
# they are kept here, once each, for the proctor and the exam record (server/merge.py).
paused_revisions = Table(
    "paused_revisions",
    metadata,
    Column("attempt_id", Integer, ForeignKey("attempts.id"), primary_key=True),
    Column("question_id", String(100), primary_key=True),
    Column("revision", Integer, primary_key=True, autoincrement=False),
    *_answer_columns(),
    Column("pause_started_ms", BigInteger, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    # SHA-256 of the bearer token: a leaked database does not hand out sessions.
    Column("token_sha256", String(64), primary_key=True),
    Column("kind", String(20), nullable=False),  # candidate|admin
    Column("candidate_id", Integer, ForeignKey("candidates.id"), nullable=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id"), nullable=True),
    Column("admin_username", String(64), ForeignKey("admins.username"), nullable=True),
    Column("client_id", String(200), nullable=True),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id"), nullable=True),
    Column("kind", String(50), nullable=False),
    Column("payload", JSON, nullable=False, default=dict),
    Column("at_ms", BigInteger, nullable=False),
)

# Per-exam secrets for exams with no network (docs/offline.md), sealed like the paper key.
# The start-code wrap is kept so that rebuilding the package (new candidates) does not
# redo the 64 MiB argon2 of the start code; it is valid for the paper key it names.
exam_secrets = Table(
    "exam_secrets",
    metadata,
    # No foreign key: the secrets are made while the exam row is still being imported.
    Column("exam_id", String(64), primary_key=True),
    Column("proctor_secret_sealed", LargeBinary, nullable=False),
    Column("start_code_sealed", LargeBinary, nullable=False),
    Column("start_code_wrap", JSON, nullable=True),
    Column("wrap_key_sha256", String(64), nullable=True),  # SHA-256 of the wrapped paper key
)

# Second logins held for a proctor's / admin's approval (docs/offline.md, "Sessions").
login_requests = Table(
    "login_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id"), nullable=False),
    # NULL: an approval given before any PC asked (exam-server authorize-login); it lets
    # the next second login of this candidate in, from whichever PC.
    Column("client_id", String(200), nullable=True),
    Column("seen_ip", String(64), nullable=True),
    Column("status", String(20), nullable=False),  # pending|approved|used
    Column("requested_at_ms", BigInteger, nullable=False),
    Column("approved_by", String(100), nullable=True),
    Column("approved_at_ms", BigInteger, nullable=True),
    Column("used_at_ms", BigInteger, nullable=True),
)

# Authorization codes presented to the server: a code lets one PC in, not several.
authorization_code_uses = Table(
    "authorization_code_uses",
    metadata,
    Column("attempt_id", Integer, ForeignKey("attempts.id"), primary_key=True),
    Column("window", BigInteger, primary_key=True, autoincrement=False),
    Column("client_id", String(200), nullable=False),
    Column("used_at_ms", BigInteger, nullable=False),
)

Index("ix_events_attempt", events.c.attempt_id, events.c.kind)
Index("ix_login_requests_attempt", login_requests.c.attempt_id, login_requests.c.status)
Index("ix_attempts_status", attempts.c.status)

# Jobs that exactly one process of a farm runs (the sweeper), on SQLite: a lease renewed
# by its holder. PostgreSQL uses an advisory lock instead (server/leader.py).
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(100), nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)

Index("ix_tokens_attempt", tokens.c.attempt_id)


def _v2_token_index(conn: Connection) -> None:
    # Sessions are looked up by attempt when one is taken over (revocation).
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_tokens_attempt ON tokens (attempt_id)"))


def _add_column(conn: Connection, *, table: str, column: str, sql_type: str) -> None:
    """ALTER TABLE ... ADD COLUMN where the table exists without it (both engines)."""
    found = inspect(conn)
    if table in found.get_table_names() and column not in {
            c["name"] for c in found.get_columns(table)}:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))


def _v3_real_names(conn: Connection) -> None:
    # Staff by real name (issue 22): an admin's name for what they upload, and the name of
    # the console account at the time of each audited action (an account kept for a room
    # may be handed to another person later; the record must name who acted then).
    # console_audit is made on first use (server/console/tables.py): only where it exists.
    _add_column(conn, table="admins", column="real_name", sql_type="VARCHAR(100)")
    _add_column(conn, table="console_audit", column="actor_name", sql_type="VARCHAR(100)")


# version -> what turns the previous version into it
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    2: _v2_token_index,
    3: _v3_real_names,
}


def pending_migrations(found: int | None) -> list[int]:
    """Versions to migrate through from *found* (None: a new database, none)."""
    if found is None:
        return []
    return [v for v in sorted(MIGRATIONS) if found < v <= SCHEMA_VERSION]
