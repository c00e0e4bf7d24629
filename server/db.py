"""The server database: one :class:`Database` with explicit methods, SQLAlchemy Core.

PostgreSQL is the production engine (several workers, one database: docs/server-deploy.md);
SQLite (a file in the data directory, the default) serves one room or a laptop.

Write transactions go through :meth:`Database.write`. On SQLite it serializes writers
inside the process and takes the write lock up front (``BEGIN IMMEDIATE``), so that two
requests cannot deadlock upgrading read locks. On PostgreSQL there is no process-wide
lock: rows are locked where it matters (``SELECT ... FOR UPDATE`` on the attempt) and
upserts are guarded, so workers and threads write in parallel.

Durability: an acknowledged write is on disk. SQLite runs ``synchronous=FULL`` (WAL is
fsynced at every commit); PostgreSQL sessions run ``synchronous_commit=on``.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row

from client.i18n import _
from server import schema as t

JsonValue = Any  # the answer shapes of docs/contracts.md (str, bool, list, None)


class SchemaVersionError(RuntimeError):
    """The database was written by a newer server than this one."""


@dataclass(frozen=True)
class Center:
    id: str
    name: str
    allowed_ips: list[str]


@dataclass(frozen=True)
class Candidate:
    id: int
    student_no: str
    id_number: str
    name: str
    center_id: str | None
    password_hash: str


@dataclass(frozen=True)
class Admin:
    username: str
    password_hash: str
    center_id: str | None
    real_name: str | None = None  # None: an account from before real names (schema 3)

    @property
    def signature(self) -> str:
        """How what this admin submits is signed: real name, role, then the account."""
        role = _("考点管理员") if self.center_id is not None else _("平台管理员")
        return f"{self.real_name or _('未登记实名')}（{role}，{self.username}）"


@dataclass(frozen=True)
class Exam:
    id: str
    title: str
    start_ms: int
    end_ms: int
    paper_id: str
    package_path: str
    package_sha256: str
    package_size: int
    paper_key_sealed: bytes
    answer_keys_sealed: bytes

    @property
    def etag(self) -> str:
        """The package's strong HTTP entity tag (quoted, as in the ETag header)."""
        return f'"{self.package_sha256}"'


@dataclass(frozen=True)
class Attempt:
    id: int
    exam_id: str
    candidate_id: int
    status: str
    login_count: int
    last_contact_ms: int | None
    submitted_at_ms: int | None
    client_answered_count: int | None
    score: float | None
    max_score: float | None
    scored_at_ms: int | None
    review_status: str
    review_reason: str | None

    @property
    def is_submitted(self) -> bool:
        return self.status != IN_PROGRESS


@dataclass(frozen=True)
class Token:
    kind: str
    candidate_id: int | None
    attempt_id: int | None
    admin_username: str | None
    client_id: str | None
    expires_ms: int


@dataclass(frozen=True)
class ResultRow:
    candidate: Candidate
    attempt: Attempt | None


@dataclass(frozen=True)
class Event:
    id: int
    attempt_id: int | None
    kind: str
    payload: dict[str, Any]
    at_ms: int


@dataclass(frozen=True)
class CurrentAnswer:
    question_id: str
    revision: int
    value: JsonValue
    client_time_ms: int | None


@dataclass(frozen=True)
class ExamSecrets:
    exam_id: str
    proctor_secret_sealed: bytes
    start_code_sealed: bytes
    start_code_wrap: dict[str, Any] | None
    wrap_key_sha256: str | None


@dataclass(frozen=True)
class LoginRequest:
    id: int
    attempt_id: int
    client_id: str | None
    seen_ip: str | None
    status: str  # pending|approved|used
    requested_at_ms: int
    approved_by: str | None
    approved_at_ms: int | None
    used_at_ms: int | None


IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
AUTO_SUBMITTED = "auto_submitted"
PENDING_REVIEW = "pending_review"
# Token kinds of a candidate (tokens.kind): the one PC that may write, a PC that may only
# read (a login after submission from another PC), a PC whose attempt was taken over.
CANDIDATE_TOKEN = "candidate"
CANDIDATE_VIEW_TOKEN = "candidate_view"
REVOKED_TOKEN = "candidate_revoked"


@dataclass(frozen=True)
class Revocation:
    """What a writing login took from the other PCs of the attempt."""

    count: int                 # tokens that stopped working (writing and read-only)
    writers: tuple[str, ...]   # client ids that held a writing token until now


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Rows that hardly change during an exam are kept per process this long: a token's
# owner, an exam's times, a candidate's name. Short enough that an admin's change (new
# exam times, a replaced paper) reaches every worker within seconds.
CACHE_TTL_S = 5.0
# Default connections per worker process (PostgreSQL); see docs/server-deploy.md.
DEFAULT_POOL_SIZE = 10
# A fixed key for pg_advisory_xact_lock around schema creation: several workers start at
# once and must not race creating the same tables.
_SCHEMA_LOCK_KEY = 0x6578616D5F736368  # "exam_sch"


class _TtlCache:
    """A small thread-safe map whose entries expire; misses are not cached."""

    def __init__(self, ttl_s: float, max_entries: int = 50_000) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any | None:
        with self._lock:
            found = self._entries.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()  # rare (more live sessions than a farm has): start over
            self._entries[key] = (time.monotonic() + self._ttl_s, value)

    def forget(self, key: Any) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Database:
    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.is_postgres = url.startswith("postgresql")
        if self.is_sqlite:
            self.engine: Engine = create_engine(url, connect_args={"timeout": 30})
            _use_explicit_sqlite_transactions(self.engine)
        else:
            connect_args: dict[str, Any] = {}
            if self.is_postgres:
                # Durable commits whatever the cluster's default says: an answer the
                # server acknowledged survives a crash of the database host.
                connect_args["options"] = "-c synchronous_commit=on"
                connect_args["application_name"] = "exam-server"
            self.engine = create_engine(
                url, connect_args=connect_args, pool_size=pool_size,
                max_overflow=max(2, pool_size // 2), pool_timeout=30,
            )
        # The same pool, its connections in autocommit while checked out (reads).
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # SQLite has one writer anyway; waiting here is cheaper than busy-retrying.
        self._write_lock: AbstractContextManager[Any] = (
            threading.RLock() if self.is_sqlite else nullcontext()
        )
        self._tokens = _TtlCache(CACHE_TTL_S)
        self._exams = _TtlCache(CACHE_TTL_S)
        self._candidates = _TtlCache(CACHE_TTL_S)
        self._attempt_exams = _TtlCache(24 * 3600.0)
        # The connection of the unit of work this thread is in (unit_of_work), if any.
        self._unit: ContextVar[Connection | None] = ContextVar(f"db-unit-{id(self)}",
                                                               default=None)

    def close(self) -> None:
        self.engine.dispose()

    def dialect_insert(self) -> Any:
        """The dialect's INSERT construct (it has ``on_conflict_do_*``)."""
        return sqlite.insert if self.is_sqlite else postgresql.insert

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        unit = self._unit.get()
        if unit is not None:
            yield unit  # it sees the unit's own writes
            return
        if self.is_postgres:
            # In READ COMMITTED (the default, used throughout) every statement takes its
            # own snapshot, in a transaction or not: a read gains nothing from BEGIN and
            # COMMIT but two round trips each (two of the three of a one-query read).
            with self._autocommit.connect() as conn:
                yield conn
            return
        # SQLite: the transaction is the snapshot that several queries share.
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        unit = self._unit.get()
        if unit is not None:
            yield unit  # committed with the unit
            return
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def unit_of_work(self, *, commit_on: tuple[type[BaseException], ...] = ()
                     ) -> Iterator[None]:
        """Every read() and write() in the block shares one transaction and one commit.

        A login made ten statements of which six committed on their own: each commit is a
        WAL flush and a pool checkout, and the login's slot at the gate waited for all of
        them (docs/server-deploy.md). An exception of a *commit_on* type is a decided
        answer (a refusal that records why): what was written is committed, then it
        propagates. Any other exception rolls the whole unit back. Nested units join the
        outer one. Keep slow work that needs no database (password hashing) outside: on
        SQLite the unit holds the write lock.
        """
        if self._unit.get() is not None:
            yield
            return
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            transaction = conn.begin()
            joined = self._unit.set(conn)
            try:
                yield
            except commit_on:
                transaction.commit()
                raise
            except BaseException:
                transaction.rollback()
                raise
            else:
                transaction.commit()
            finally:
                self._unit.reset(joined)

    def init_schema(self) -> None:
        """Create missing tables, run pending migrations, record the schema version.

        Safe to call from several workers starting at once (PostgreSQL: an advisory
        transaction lock; SQLite: the write lock).
        """
        with self.write() as conn:
            if self.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
            t.metadata.create_all(conn)
            found = conn.execute(select(func.max(t.schema_version.c.version))).scalar()
            if found is not None and found > t.SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"database schema {found} is newer than this server ({t.SCHEMA_VERSION})"
                )
            for version in t.pending_migrations(found):
                t.MIGRATIONS[version](conn)
                conn.execute(t.schema_version.insert().values(version=version))
            if found is None:
                conn.execute(t.schema_version.insert().values(version=t.SCHEMA_VERSION))

    def create_tables(self, tables: Sequence[Table]) -> None:
        """Create *tables* where missing, under the same locks as ``init_schema``: a plain
        transaction that reads the catalogue and then creates would fail at once with
        "database is locked" on SQLite while another connection writes, and two
        PostgreSQL workers could both try CREATE TABLE."""
        with self.write() as conn:
            if self.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
            t.metadata.create_all(conn, tables=list(tables))

    def schema_version(self) -> int | None:
        with self.read() as conn:
            return conn.execute(select(func.max(t.schema_version.c.version))).scalar()

    # -- centers and admins -------------------------------------------------------------

    def upsert_center(self, *, center_id: str, name: str, allowed_ips: list[str]) -> None:
        with self.write() as conn:
            values = {"name": name, "allowed_ips": list(allowed_ips)}
            if conn.execute(select(t.centers.c.id).where(t.centers.c.id == center_id)).first():
                conn.execute(t.centers.update().where(t.centers.c.id == center_id).values(values))
            else:
                conn.execute(t.centers.insert().values(id=center_id, **values))

    def get_center(self, center_id: str) -> Center | None:
        with self.read() as conn:
            row = conn.execute(select(t.centers).where(t.centers.c.id == center_id)).first()
        return Center(row.id, row.name, list(row.allowed_ips)) if row else None

    def upsert_admin(self, *, username: str, password_hash: str, center_id: str | None,
                     real_name: str | None = None) -> None:
        """Create or update an admin; *real_name* None keeps the name already stored."""
        with self.write() as conn:
            values: dict[str, Any] = {"password_hash": password_hash, "center_id": center_id}
            if real_name is not None:
                values["real_name"] = real_name
            found = conn.execute(
                select(t.admins.c.username).where(t.admins.c.username == username)
            ).first()
            if found:
                conn.execute(
                    t.admins.update().where(t.admins.c.username == username).values(values)
                )
            else:
                conn.execute(t.admins.insert().values(username=username, **values))

    def get_admin(self, username: str) -> Admin | None:
        with self.read() as conn:
            row = conn.execute(select(t.admins).where(t.admins.c.username == username)).first()
        return Admin(row.username, row.password_hash, row.center_id,
                     row.real_name) if row else None

    # -- candidates and registrations ---------------------------------------------------

    def find_candidate(
        self, *, student_no: str | None = None, id_number: str | None = None
    ) -> Candidate | None:
        if (student_no is None) == (id_number is None):
            raise ValueError("give exactly one of student_no, id_number")
        if student_no is not None:
            condition = t.candidates.c.student_no == student_no
        else:
            condition = t.candidates.c.id_number == id_number
        with self.read() as conn:
            row = conn.execute(select(t.candidates).where(condition)).first()
        return _candidate(row) if row else None

    def candidates_by_username(self, username: str) -> list[Candidate]:
        """Candidates whose student number or (upper-cased) ID number is *username*."""
        with self.read() as conn:
            rows = conn.execute(
                select(t.candidates).where(
                    (t.candidates.c.student_no == username)
                    | (t.candidates.c.id_number == username.upper())
                )
            ).all()
        return [_candidate(r) for r in rows]

    def get_candidate(self, candidate_id: int) -> Candidate | None:
        with self.read() as conn:
            row = conn.execute(
                select(t.candidates).where(t.candidates.c.id == candidate_id)
            ).first()
        candidate = _candidate(row) if row else None
        if candidate is not None:
            self._candidates.put(candidate_id, candidate)
        return candidate

    def cached_candidate(self, candidate_id: int) -> Candidate | None:
        """The candidate row, at most CACHE_TTL_S old (per-request session lookups)."""
        candidate: Candidate | None = self._candidates.get(candidate_id)
        return candidate if candidate is not None else self.get_candidate(candidate_id)

    def insert_candidate(
        self,
        *,
        student_no: str,
        id_number: str,
        name: str,
        center_id: str | None,
        password_hash: str,
    ) -> int:
        with self.write() as conn:
            result = conn.execute(
                t.candidates.insert().values(
                    student_no=student_no,
                    id_number=id_number,
                    name=name,
                    center_id=center_id,
                    password_hash=password_hash,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def update_candidate(self, candidate_id: int, **values: object) -> None:
        allowed = {"student_no", "id_number", "name", "center_id", "password_hash"}
        if not values or set(values) - allowed:
            raise ValueError(f"cannot update candidate fields {sorted(values)}")
        with self.write() as conn:
            conn.execute(
                t.candidates.update().where(t.candidates.c.id == candidate_id).values(values)
            )
        self._candidates.forget(candidate_id)

    def register(self, *, exam_id: str, candidate_id: int) -> None:
        with self.write() as conn:
            exists = conn.execute(
                select(t.registrations).where(
                    (t.registrations.c.exam_id == exam_id)
                    & (t.registrations.c.candidate_id == candidate_id)
                )
            ).first()
            if not exists:
                conn.execute(
                    t.registrations.insert().values(exam_id=exam_id, candidate_id=candidate_id)
                )

    def current_exam_for(
        self, candidate_id: int, *, now_ms: int, after_end_ms: int = 0, exam_id: str = ""
    ) -> Exam | None:
        """The exam this candidate sits now or next: registered and not yet ended.

        *after_end_ms*: an exam that ended less than this long ago still counts (answers
        given before the end are delivered after it, docs/lifecycle.md); a running or
        coming exam is preferred, then the one that ended last. *exam_id*: the exam the
        client asks for (a late sync), preferred when it qualifies.
        """
        registered = t.registrations.c.candidate_id == candidate_id
        times = t.attempt_times
        # The candidate's own end (server/attempt_time.py): in extra time or paused, the
        # exam still runs for them, ahead of the next one they are registered for.
        own_end = (t.exams.c.end_ms + func.coalesce(times.c.extra_ms, 0)
                   + func.coalesce(times.c.paused_ms, 0))
        with self.read() as conn:
            rows = conn.execute(
                select(t.exams, own_end.label("own_end_ms"),
                       times.c.paused_since_ms.label("own_paused_since_ms"))
                .join(t.registrations, t.registrations.c.exam_id == t.exams.c.id)
                .outerjoin(times, (times.c.exam_id == t.exams.c.id)
                           & (times.c.candidate_id == candidate_id))
                .where(registered & (own_end + after_end_ms > now_ms))
                .order_by(t.exams.c.start_ms)
            ).all()
        exams = [_exam(r) for r in rows]
        asked = [e for e in exams if e.id == exam_id]
        if asked:
            return asked[0]
        own_running = {r.id for r in rows
                       if r.own_end_ms > now_ms or r.own_paused_since_ms is not None}
        running = [e for e in exams if e.id in own_running]
        if running:
            return running[0]
        return max(exams, key=lambda e: e.end_ms) if exams else None

    def registered_candidates(self, exam_id: str) -> list[Candidate]:
        with self.read() as conn:
            rows = conn.execute(
                select(t.candidates)
                .join(t.registrations, t.registrations.c.candidate_id == t.candidates.c.id)
                .where(t.registrations.c.exam_id == exam_id)
                .order_by(t.candidates.c.student_no)
            ).all()
        return [_candidate(r) for r in rows]

    # -- exams --------------------------------------------------------------------------

    def upsert_exam(self, exam: Exam) -> None:
        values = dict(vars(exam))
        with self.write() as conn:
            if conn.execute(select(t.exams.c.id).where(t.exams.c.id == exam.id)).first():
                conn.execute(t.exams.update().where(t.exams.c.id == exam.id).values(values))
            else:
                conn.execute(t.exams.insert().values(values))
        self._exams.forget(exam.id)

    def get_exam(self, exam_id: str) -> Exam | None:
        with self.read() as conn:
            row = conn.execute(select(t.exams).where(t.exams.c.id == exam_id)).first()
        exam = _exam(row) if row else None
        if exam is not None:
            self._exams.put(exam_id, exam)
        return exam

    def cached_exam(self, exam_id: str) -> Exam | None:
        """The exam row, at most CACHE_TTL_S old (per-request paths: upload, session)."""
        exam: Exam | None = self._exams.get(exam_id)
        return exam if exam is not None else self.get_exam(exam_id)

    def list_exams(self) -> list[Exam]:
        with self.read() as conn:
            rows = conn.execute(select(t.exams).order_by(t.exams.c.start_ms)).all()
        return [_exam(r) for r in rows]

    def exam_has_attempts(self, exam_id: str) -> bool:
        with self.read() as conn:
            return (
                conn.execute(select(t.attempts.c.id).where(t.attempts.c.exam_id == exam_id)).first()
                is not None
            )

    def get_exam_secrets(self, exam_id: str) -> ExamSecrets | None:
        with self.read() as conn:
            row = conn.execute(
                select(t.exam_secrets).where(t.exam_secrets.c.exam_id == exam_id)
            ).first()
        if row is None:
            return None
        return ExamSecrets(
            row.exam_id,
            bytes(row.proctor_secret_sealed),
            bytes(row.start_code_sealed),
            dict(row.start_code_wrap) if row.start_code_wrap else None,
            row.wrap_key_sha256,
        )

    def put_exam_secrets(self, secrets: ExamSecrets) -> None:
        values = dict(vars(secrets))
        with self.write() as conn:
            where = t.exam_secrets.c.exam_id == secrets.exam_id
            if conn.execute(select(t.exam_secrets.c.exam_id).where(where)).first():
                conn.execute(t.exam_secrets.update().where(where).values(values))
            else:
                conn.execute(t.exam_secrets.insert().values(values))

    # -- attempts -----------------------------------------------------------------------

    def open_attempt(self, *, exam_id: str, candidate_id: int, now_ms: int) -> Attempt:
        """Return the candidate's attempt for this exam, creating it; counts the login."""
        where = (t.attempts.c.exam_id == exam_id) & (t.attempts.c.candidate_id == candidate_id)
        with self.write() as conn:
            # One statement, so two PCs logging in at once cannot both insert (PostgreSQL
            # has no process-wide write lock).
            conn.execute(
                self.dialect_insert()(t.attempts)
                .values(
                    exam_id=exam_id,
                    candidate_id=candidate_id,
                    status=IN_PROGRESS,
                    login_count=1,
                    last_contact_ms=now_ms,
                    review_status="none",
                )
                .on_conflict_do_update(
                    index_elements=[t.attempts.c.exam_id, t.attempts.c.candidate_id],
                    set_={
                        "login_count": t.attempts.c.login_count + 1,
                        "last_contact_ms": now_ms,
                    },
                )
            )
            return _attempt(conn.execute(select(t.attempts).where(where)).one())

    def get_attempt(self, attempt_id: int) -> Attempt | None:
        with self.read() as conn:
            row = conn.execute(select(t.attempts).where(t.attempts.c.id == attempt_id)).first()
        return _attempt(row) if row else None

    def cached_exam_of_attempt(self, attempt_id: int) -> str | None:
        """The exam an attempt belongs to (never changes, so cached for good)."""
        exam_id: str | None = self._attempt_exams.get(attempt_id)
        if exam_id is None:
            with self.read() as conn:
                exam_id = conn.execute(
                    select(t.attempts.c.exam_id).where(t.attempts.c.id == attempt_id)
                ).scalar()
            if exam_id is not None:
                self._attempt_exams.put(attempt_id, exam_id)
        return exam_id

    def find_attempt(self, *, exam_id: str, candidate_id: int) -> Attempt | None:
        with self.read() as conn:
            row = conn.execute(
                select(t.attempts).where(
                    (t.attempts.c.exam_id == exam_id) & (t.attempts.c.candidate_id == candidate_id)
                )
            ).first()
        return _attempt(row) if row else None

    def touch_attempt(self, attempt_id: int, *, now_ms: int) -> None:
        with self.write() as conn:
            conn.execute(
                t.attempts.update()
                .where(t.attempts.c.id == attempt_id)
                .values(last_contact_ms=now_ms)
            )

    def submit_attempt(
        self,
        attempt_id: int,
        *,
        at_ms: int,
        status: str = SUBMITTED,
        client_answered_count: int | None = None,
    ) -> Attempt:
        """Mark the attempt submitted; a second call changes nothing (idempotent)."""
        if status not in (SUBMITTED, AUTO_SUBMITTED):
            raise ValueError(f"not a submitted status: {status}")
        with self.write() as conn:
            conn.execute(
                t.attempts.update()
                .where((t.attempts.c.id == attempt_id) & (t.attempts.c.status == IN_PROGRESS))
                .values(
                    status=status,
                    submitted_at_ms=at_ms,
                    client_answered_count=client_answered_count,
                    score=None,
                    max_score=None,
                    scored_at_ms=None,
                )
            )
            return _attempt(
                conn.execute(select(t.attempts).where(t.attempts.c.id == attempt_id)).one()
            )

    def auto_submit_ended(self, *, now_ms: int) -> list[int]:
        """Submit every in-progress attempt whose end has passed; returns their ids.

        The end is the candidate's own (server/attempt_time.py): the exam's end plus any
        extra time and ended pauses; a paused attempt is not due. The submission time is
        that end, not the moment this sweep ran.
        """
        times = t.attempt_times
        end = (t.exams.c.end_ms + func.coalesce(times.c.extra_ms, 0)
               + func.coalesce(times.c.paused_ms, 0))
        with self.write() as conn:
            rows = conn.execute(
                select(t.attempts.c.id, end)
                .join(t.exams, t.exams.c.id == t.attempts.c.exam_id)
                .outerjoin(times, (times.c.exam_id == t.attempts.c.exam_id)
                           & (times.c.candidate_id == t.attempts.c.candidate_id))
                .where((t.attempts.c.status == IN_PROGRESS) & (t.exams.c.end_ms <= now_ms)
                       & times.c.paused_since_ms.is_(None) & (end <= now_ms))
            ).all()
            for attempt_id, end_ms in rows:
                conn.execute(
                    t.attempts.update()
                    .where((t.attempts.c.id == attempt_id) & (t.attempts.c.status == IN_PROGRESS))
                    .values(status=AUTO_SUBMITTED, submitted_at_ms=end_ms)
                )
        return [int(r[0]) for r in rows]

    # -- second logins ------------------------------------------------------------------

    def create_login_request(
        self, *, attempt_id: int, client_id: str | None, seen_ip: str, now_ms: int
    ) -> LoginRequest:
        """A held second login; the same PC asking again gets its pending request back."""
        lr = t.login_requests
        with self.write() as conn:
            row = conn.execute(
                select(lr).where(
                    (lr.c.attempt_id == attempt_id)
                    & (lr.c.status == "pending")
                    & (lr.c.client_id == client_id)
                )
            ).first()
            if row is None:
                result = conn.execute(
                    lr.insert().values(
                        attempt_id=attempt_id,
                        client_id=client_id,
                        seen_ip=seen_ip,
                        status="pending",
                        requested_at_ms=now_ms,
                    )
                )
                key = result.inserted_primary_key
                assert key is not None
                row = conn.execute(select(lr).where(lr.c.id == int(key[0]))).one()
        return _login_request(row)

    def get_login_request(self, request_id: int) -> LoginRequest | None:
        with self.read() as conn:
            row = conn.execute(
                select(t.login_requests).where(t.login_requests.c.id == request_id)
            ).first()
        return _login_request(row) if row else None

    def login_requests(
        self, *, exam_id: str | None = None, status: str | None = None
    ) -> list[LoginRequest]:
        lr = t.login_requests
        query = select(lr).join(t.attempts, t.attempts.c.id == lr.c.attempt_id).order_by(lr.c.id)
        if exam_id is not None:
            query = query.where(t.attempts.c.exam_id == exam_id)
        if status is not None:
            query = query.where(lr.c.status == status)
        with self.read() as conn:
            return [_login_request(r) for r in conn.execute(query).all()]

    def approve_login_requests(
        self, *, attempt_id: int, approved_by: str, now_ms: int, request_id: int | None = None
    ) -> list[LoginRequest]:
        """Approve the pending request *request_id* (or all pending ones of the attempt).

        With no pending request and no *request_id*, record an approval in advance: the
        next second login of this candidate, from any PC, goes through.
        """
        lr = t.login_requests
        where = (lr.c.attempt_id == attempt_id) & (lr.c.status == "pending")
        if request_id is not None:
            where = where & (lr.c.id == request_id)
        approved = {"status": "approved", "approved_by": approved_by, "approved_at_ms": now_ms}
        with self.write() as conn:
            ids = [r.id for r in conn.execute(select(lr.c.id).where(where)).all()]
            if ids:
                conn.execute(lr.update().where(lr.c.id.in_(ids)).values(approved))
            elif request_id is None:
                result = conn.execute(
                    lr.insert().values(
                        attempt_id=attempt_id, client_id=None, requested_at_ms=now_ms, **approved
                    )
                )
                key = result.inserted_primary_key
                assert key is not None
                ids = [int(key[0])]
            rows = conn.execute(select(lr).where(lr.c.id.in_(ids)).order_by(lr.c.id)).all()
        return [_login_request(r) for r in rows]

    def take_login_approval(
        self, *, attempt_id: int, client_id: str | None, now_ms: int, max_age_ms: int
    ) -> LoginRequest | None:
        """Use up an approval for this PC (or one given in advance); None if there is none."""
        lr = t.login_requests
        with self.write() as conn:
            row = conn.execute(
                select(lr)
                .where(
                    (lr.c.attempt_id == attempt_id)
                    & (lr.c.status == "approved")
                    & ((lr.c.client_id == client_id) | lr.c.client_id.is_(None))
                    & (lr.c.approved_at_ms >= now_ms - max_age_ms)
                )
                .order_by(lr.c.client_id.is_(None), lr.c.id)
                .limit(1)
            ).first()
            if row is None:
                return None
            conn.execute(
                lr.update().where(lr.c.id == row.id).values(status="used", used_at_ms=now_ms)
            )
            row = conn.execute(select(lr).where(lr.c.id == row.id)).one()
        return _login_request(row)

    def claim_authorization_code(
        self, *, attempt_id: int, window: int, client_id: str, now_ms: int
    ) -> bool:
        """Bind a code (one per attempt and window) to the PC that used it first.

        True for that PC, again and again (a retried login); False for any other PC.
        """
        uses = t.authorization_code_uses
        where = (uses.c.attempt_id == attempt_id) & (uses.c.window == window)
        with self.write() as conn:
            row = conn.execute(select(uses.c.client_id).where(where)).first()
            if row is None:
                conn.execute(
                    uses.insert().values(
                        attempt_id=attempt_id, window=window, client_id=client_id,
                        used_at_ms=now_ms,
                    )
                )
                return True
            return bool(row.client_id == client_id)

    def attempts_to_score(self) -> list[Attempt]:
        with self.read() as conn:
            rows = conn.execute(
                select(t.attempts).where(
                    (t.attempts.c.status != IN_PROGRESS) & t.attempts.c.score.is_(None)
                )
            ).all()
        return [_attempt(r) for r in rows]

    def record_score(
        self, attempt_id: int, *, score: float, max_score: float, at_ms: int, answers_seen: int
    ) -> bool:
        """Store a score unless answers changed since scoring began (then False: rescore)."""
        with self.write() as conn:
            if _answer_change_count(conn, attempt_id) != answers_seen:
                return False
            conn.execute(
                t.attempts.update()
                .where(t.attempts.c.id == attempt_id)
                .values(score=score, max_score=max_score, scored_at_ms=at_ms)
            )
            return True

    def set_review(self, attempt_id: int, *, pending: bool, reason: str | None) -> None:
        with self.write() as conn:
            conn.execute(
                t.attempts.update()
                .where(t.attempts.c.id == attempt_id)
                .values(review_status=PENDING_REVIEW if pending else "none", review_reason=reason)
            )

    def exam_results(self, exam_id: str) -> list[ResultRow]:
        """Every registered candidate with their attempt (None if they never logged in)."""
        with self.read() as conn:
            rows = conn.execute(
                select(t.candidates, t.attempts.c.id.label("attempt_id"))
                .join(t.registrations, t.registrations.c.candidate_id == t.candidates.c.id)
                .outerjoin(
                    t.attempts,
                    (t.attempts.c.candidate_id == t.candidates.c.id)
                    & (t.attempts.c.exam_id == exam_id),
                )
                .where(t.registrations.c.exam_id == exam_id)
                .order_by(t.candidates.c.student_no)
            ).all()
            attempts = {
                r.id: _attempt(r)
                for r in conn.execute(select(t.attempts).where(t.attempts.c.exam_id == exam_id))
            }
        return [ResultRow(_candidate(r), attempts.get(r.attempt_id)) for r in rows]

    # -- answers ------------------------------------------------------------------------

    def current_answers(self, attempt_id: int) -> dict[str, JsonValue]:
        with self.read() as conn:
            rows = conn.execute(
                select(t.answers.c.question_id, t.answers.c.value).where(
                    t.answers.c.attempt_id == attempt_id
                )
            ).all()
        return {r.question_id: r.value for r in rows}

    def current_revisions(self, attempt_id: int) -> dict[str, int]:
        with self.read() as conn:
            rows = conn.execute(
                select(t.answers.c.question_id, t.answers.c.revision).where(
                    t.answers.c.attempt_id == attempt_id
                )
            ).all()
        return {r.question_id: int(r.revision) for r in rows}

    def current_answer_records(self, attempt_id: int) -> list[CurrentAnswer]:
        """The current revision of every answered question (resume on another PC)."""
        a = t.answers
        with self.read() as conn:
            rows = conn.execute(
                select(a.c.question_id, a.c.revision, a.c.value, a.c.client_time_ms)
                .where(a.c.attempt_id == attempt_id)
                .order_by(a.c.question_id)
            ).all()
        return [
            CurrentAnswer(r.question_id, int(r.revision), r.value, r.client_time_ms) for r in rows
        ]

    def answer_change_count(self, attempt_id: int) -> int:
        """How many revisions were ever stored for this attempt (grows with every change)."""
        with self.read() as conn:
            return _answer_change_count(conn, attempt_id)

    # -- tokens -------------------------------------------------------------------------

    def store_token(
        self,
        token: str,
        *,
        kind: str,
        created_at_ms: int,
        expires_ms: int,
        candidate_id: int | None = None,
        attempt_id: int | None = None,
        admin_username: str | None = None,
        client_id: str | None = None,
    ) -> None:
        with self.write() as conn:
            conn.execute(
                t.tokens.insert().values(
                    token_sha256=token_digest(token),
                    kind=kind,
                    candidate_id=candidate_id,
                    attempt_id=attempt_id,
                    admin_username=admin_username,
                    client_id=client_id,
                    created_at_ms=created_at_ms,
                    expires_ms=expires_ms,
                )
            )

    def resolve_token(self, token: str, *, now_ms: int, cached: bool = False) -> Token | None:
        """The token's owner, or None if unknown or expired.

        ``cached=True`` may answer from a per-process cache up to CACHE_TTL_S old: for
        paths that re-check the token inside their own transaction (answer upload).
        """
        digest = token_digest(token)
        found: Token | None = self._tokens.get(digest) if cached else None
        if found is None:
            with self.read() as conn:
                row = conn.execute(
                    select(t.tokens).where(t.tokens.c.token_sha256 == digest)
                ).first()
            if row is None:
                return None
            found = Token(
                row.kind,
                row.candidate_id,
                row.attempt_id,
                row.admin_username,
                row.client_id,
                row.expires_ms,
            )
            self._tokens.put(digest, found)
        return found if found.expires_ms > now_ms else None

    def token_and_attempt(self, token: str) -> tuple[Token, Attempt] | None:
        """A token and the attempt it is for, in one read (None: unknown, or no attempt).

        Every candidate request but the upload starts here. It is not cached: a take-over
        (the old PC's token revoked) or a submission shows at once in every worker of a
        farm, for the price of one indexed join instead of two transactions.
        """
        tk = t.tokens
        with self.read() as conn:
            row = conn.execute(
                select(t.attempts, tk.c.kind.label("token_kind"),
                       tk.c.candidate_id.label("token_candidate_id"),
                       tk.c.attempt_id.label("token_attempt_id"),
                       tk.c.admin_username.label("token_admin_username"),
                       tk.c.client_id.label("token_client_id"),
                       tk.c.expires_ms.label("token_expires_ms"))
                .select_from(tk.join(t.attempts, t.attempts.c.id == tk.c.attempt_id))
                .where(tk.c.token_sha256 == token_digest(token))
            ).first()
        if row is None:
            return None
        found = Token(row.token_kind, row.token_candidate_id, row.token_attempt_id,
                      row.token_admin_username, row.token_client_id, row.token_expires_ms)
        return found, _attempt(row)

    def revoke_other_tokens(self, *, attempt_id: int, keep_client_id: str) -> Revocation:
        """One writer per attempt: the candidate tokens of other PCs stop working.

        The rows stay (kind ``candidate_revoked``) so the old PC is told why (401 ``revoked``).
        Returns how many tokens stopped and which PCs lost the right to write (their
        answers made after this moment are not the candidate's: server/take_over.py).
        """
        tk = t.tokens
        others = ((tk.c.attempt_id == attempt_id)
                  & ((tk.c.client_id != keep_client_id) | tk.c.client_id.is_(None)))
        with self.write() as conn:
            writers = conn.execute(
                select(tk.c.client_id).distinct()
                .where(others & (tk.c.kind == CANDIDATE_TOKEN) & tk.c.client_id.is_not(None))
            ).scalars().all()
            result = conn.execute(
                tk.update()
                .where(others & tk.c.kind.in_((CANDIDATE_TOKEN, CANDIDATE_VIEW_TOKEN)))
                .values(kind=REVOKED_TOKEN)
            )
            return Revocation(count=int(result.rowcount or 0),
                              writers=tuple(sorted(str(w) for w in writers)))

    def writer_client_id(self, attempt_id: int) -> str | None:
        """The PC (client id) holding the attempt: the latest writing token's, or None."""
        tk = t.tokens
        with self.read() as conn:
            row = conn.execute(
                select(tk.c.client_id)
                .where((tk.c.attempt_id == attempt_id) & (tk.c.kind == CANDIDATE_TOKEN))
                .order_by(tk.c.created_at_ms.desc())
                .limit(1)
            ).first()
        return None if row is None else row.client_id

    def cancel_login_requests(self, *, attempt_id: int, client_id: str, now_ms: int) -> None:
        """This PC got in: its own held requests must not be approved later (no phantoms)."""
        lr = t.login_requests
        with self.write() as conn:
            conn.execute(
                lr.update()
                .where(
                    (lr.c.attempt_id == attempt_id)
                    & (lr.c.status == "pending")
                    & (lr.c.client_id == client_id)
                )
                .values(status="cancelled", used_at_ms=now_ms)
            )

    # -- events -------------------------------------------------------------------------

    def add_event(
        self, *, attempt_id: int | None, kind: str, payload: Mapping[str, Any], at_ms: int
    ) -> None:
        with self.write() as conn:
            conn.execute(
                t.events.insert().values(
                    attempt_id=attempt_id, kind=kind, payload=dict(payload), at_ms=at_ms
                )
            )

    def events(self, *, attempt_id: int | None = None, kind: str | None = None) -> list[Event]:
        query = select(t.events).order_by(t.events.c.id)
        if attempt_id is not None:
            query = query.where(t.events.c.attempt_id == attempt_id)
        if kind is not None:
            query = query.where(t.events.c.kind == kind)
        with self.read() as conn:
            rows = conn.execute(query).all()
        return [Event(r.id, r.attempt_id, r.kind, dict(r.payload), r.at_ms) for r in rows]


def _answer_change_count(conn: Connection, attempt_id: int) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(t.answer_revisions)
            .where(t.answer_revisions.c.attempt_id == attempt_id)
        ).scalar_one()
    )


def _use_explicit_sqlite_transactions(engine: Engine) -> None:
    # WORKAROUND: pysqlite opens transactions lazily and only before writes, which breaks
    # snapshot reads and makes two writers fail with "database is locked" when they
    # upgrade. Take over BEGIN ourselves (SQLAlchemy's documented pysqlite recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Switching a fresh file to WAL needs it to itself: several workers starting at
        # once can get "database is locked" here without the busy wait, so try again.
        for attempt in range(50):
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.1)
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: WAL is fsynced at every commit, so an acknowledged answer survives a power
        # cut (NORMAL may lose the last commits; the client never resends those).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _candidate(row: Row[Any]) -> Candidate:
    return Candidate(
        row.id, row.student_no, row.id_number, row.name, row.center_id, row.password_hash
    )


def _exam(row: Row[Any]) -> Exam:
    return Exam(
        id=row.id,
        title=row.title,
        start_ms=int(row.start_ms),
        end_ms=int(row.end_ms),
        paper_id=row.paper_id,
        package_path=row.package_path,
        package_sha256=row.package_sha256,
        package_size=int(row.package_size),
        paper_key_sealed=bytes(row.paper_key_sealed),
        answer_keys_sealed=bytes(row.answer_keys_sealed),
    )


def _login_request(row: Row[Any]) -> LoginRequest:
    return LoginRequest(
        id=int(row.id),
        attempt_id=int(row.attempt_id),
        client_id=row.client_id,
        seen_ip=row.seen_ip,
        status=row.status,
        requested_at_ms=int(row.requested_at_ms),
        approved_by=row.approved_by,
        approved_at_ms=row.approved_at_ms,
        used_at_ms=row.used_at_ms,
    )


def _attempt(row: Row[Any]) -> Attempt:
    return Attempt(
        id=row.id,
        exam_id=row.exam_id,
        candidate_id=row.candidate_id,
        status=row.status,
        login_count=row.login_count,
        last_contact_ms=row.last_contact_ms,
        submitted_at_ms=row.submitted_at_ms,
        client_answered_count=row.client_answered_count,
        score=row.score,
        max_score=row.max_score,
        scored_at_ms=row.scored_at_ms,
        review_status=row.review_status,
        review_reason=row.review_reason,
    )
