"""Offline answer files imported as jobs: stored first, then merged by workers.

A web upload of a hall's files used to be one request that merged them all (100 files:
33 s, past any proxy timeout). Now the upload only streams each file to disk
(``<data>/imports/<batch>/<n>.examans``, the per-file limit counted while copying) and
queues one job per file; the admin's page follows the batch (queued / processing / done /
failed per file, and a totals line) while workers merge.

Workers: every server process runs one job loop (:func:`work_forever`). On PostgreSQL a
loop claims the oldest queued file with ``FOR UPDATE SKIP LOCKED``, so the loops of a farm
share the queue and never take the same file. On SQLite (one machine, one writer) only
the process holding the ``import-jobs`` lease runs its loop (server/leader.py).

Each file is merged by :func:`server.offline_import.import_offline_file`: one
transaction per file, so a worker that dies mid-file leaves nothing half-merged. Its job
stays ``processing`` with its claim time; once that is older than ``STALE_CLAIM_MS`` any
loop takes the file again (retried, at most ``MAX_TRIES`` times, then failed). A retry of
a file that did commit before the crash changes nothing: the merge keeps the highest
revision per question and the import record is keyed by the file's SHA-256.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    String,
    Table,
    and_,
    func,
    or_,
    select,
    update,
)
from starlette.concurrency import run_in_threadpool

from client.i18n import _
from server import schema as t
from server.context import ServerContext
from server.db import Database
from server.lazy_tables import create_once
from server.leader import Leadership
from server.merge import Outcome
from server.offline_import import (
    MAX_FILE_BYTES,
    ImportReport,
    ImportScope,
    ImportStatus,
    QuestionChange,
    ensure_tables,
    import_offline_file,
)
from server.offline_marks import MarksOutcome

log = logging.getLogger(__name__)

QUEUED = "queued"
PROCESSING = "processing"
DONE = "done"
FAILED = "failed"
STATES = (QUEUED, PROCESSING, DONE, FAILED)

# A claim older than this belongs to a worker that died: the file is taken again. A file
# takes well under a second to merge; minutes leave room for a database that is slow.
STALE_CLAIM_MS = 5 * 60 * 1000
MAX_TRIES = 3
IDLE_POLL_S = 1.0  # how often an idle loop looks for files other processes queued
COPY_CHUNK = 1024 * 1024

import_jobs = Table(
    "import_jobs",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(32), nullable=False, index=True),
    Column("position", Integer, nullable=False),  # order within the upload
    Column("file_name", String(255), nullable=False),
    Column("stored_path", String(500), nullable=True),  # under <data>/imports; None: refused
    # The app host whose disk holds the file: only its loops take it (several hosts
    # behind one nginx each keep their own data directory).
    Column("stored_on", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("tries", Integer, nullable=False, default=0),
    Column("claimed_by", String(100), nullable=True),
    Column("claimed_at_ms", BigInteger, nullable=True),
    Column("scope_exam_id", String(100), nullable=True),
    Column("scope_center_id", String(100), nullable=True),
    Column("imported_by", String(100), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("finished_at_ms", BigInteger, nullable=True),
    Column("report", JSON, nullable=True),  # the ImportReport, once done or failed
)


def ensure_job_table(db: Database) -> None:
    ensure_tables(db)
    create_once(db, tables=[import_jobs])


def imports_dir(ctx: ServerContext) -> Path:
    return ctx.settings.data_dir / "imports"


# -- queueing -----------------------------------------------------------------------------

@dataclass(frozen=True)
class IncomingFile:
    name: str  # the base name it was uploaded under (signed into the file)
    stream: BinaryIO


def store_batch(ctx: ServerContext, files: Iterable[IncomingFile], *,
                scope: ImportScope) -> str:
    """Copy each file to disk (refusing one over MAX_FILE_BYTES while copying) and queue
    a job per file; returns the batch id for the progress page."""
    ensure_job_table(ctx.db)
    batch_id = uuid.uuid4().hex
    folder = imports_dir(ctx) / batch_id
    folder.mkdir(parents=True, exist_ok=True)
    now = ctx.clock.now_ms()
    rows: list[dict[str, Any]] = []
    for position, incoming in enumerate(files):
        target = folder / f"{position}.examans"
        size = _copy_limited(incoming.stream, target)
        row: dict[str, Any] = {
            "batch_id": batch_id, "position": position, "file_name": incoming.name[:255],
            "stored_path": f"{batch_id}/{target.name}", "stored_on": socket.gethostname(),
            "size": size, "state": QUEUED,
            "tries": 0, "scope_exam_id": scope.exam_id, "scope_center_id": scope.center_id,
            "imported_by": scope.imported_by, "created_at_ms": now,
            # Every row has every key: an executemany takes its columns from the first.
            "finished_at_ms": None, "report": None}
        if size > MAX_FILE_BYTES:
            target.unlink(missing_ok=True)
            report = ImportReport(file_name=incoming.name, status=ImportStatus.REFUSED,
                                  code="offline.too_large", message=_("离线答卷文件过大"))
            row.update(stored_path=None, state=FAILED, finished_at_ms=now,
                       report=report_to_json(report))
        rows.append(row)
    if rows:
        with ctx.db.write() as conn:
            conn.execute(import_jobs.insert(), rows)
    return batch_id


def _copy_limited(source: BinaryIO, target: Path) -> int:
    """Copy up to MAX_FILE_BYTES + 1 bytes (more means too large); returns bytes seen."""
    seen = 0
    with target.open("wb") as out:
        while seen <= MAX_FILE_BYTES:
            chunk = source.read(min(COPY_CHUNK, MAX_FILE_BYTES + 1 - seen))
            if not chunk:
                break
            seen += len(chunk)
            out.write(chunk)
    return seen


# -- claiming and running -----------------------------------------------------------------

@dataclass(frozen=True)
class ClaimedJob:
    id: int
    batch_id: str
    file_name: str
    stored_path: str
    tries: int
    scope: ImportScope


def _takeable(*, now_ms: int, stale_ms: int) -> Any:
    j = import_jobs.c
    return and_(j.stored_on == socket.gethostname(),
                or_(j.state == QUEUED,
                    and_(j.state == PROCESSING, j.claimed_at_ms < now_ms - stale_ms)))


def has_work(db: Database, *, now_ms: int) -> bool:
    """Is there a file this host's loops could take? (one read; the idle poll)"""
    ensure_job_table(db)
    with db.read() as conn:
        return conn.execute(select(import_jobs.c.id).where(
            _takeable(now_ms=now_ms, stale_ms=STALE_CLAIM_MS)).limit(1)).first() is not None


def claim_next(db: Database, *, worker: str, now_ms: int,
               stale_ms: int = STALE_CLAIM_MS) -> ClaimedJob | None:
    """Take the oldest queued file stored on this host (or one whose worker died).

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets concurrent loops pass over a row another
    is claiming, so each file goes to exactly one of them. SQLite: the write lock makes
    the claim atomic (and one loop runs there anyway).
    """
    ensure_job_table(db)
    j = import_jobs.c
    query = (select(import_jobs).where(_takeable(now_ms=now_ms, stale_ms=stale_ms))
             .order_by(j.id).limit(1))
    if db.is_postgres:
        query = query.with_for_update(skip_locked=True)
    with db.write() as conn:
        while (row := conn.execute(query).first()) is not None and row.tries >= MAX_TRIES:
            # Its worker died MAX_TRIES times on it: stop trying, say so on the page.
            report = ImportReport(
                file_name=row.file_name, status=ImportStatus.REFUSED,
                code="offline.internal_error",
                message=_("服务器处理该文件时多次中断，未做任何修改，请重新上传或联系技术支持"))
            conn.execute(update(import_jobs).where(j.id == row.id).values(
                state=FAILED, finished_at_ms=now_ms, report=report_to_json(report)))
        if row is None:
            return None
        conn.execute(update(import_jobs).where(j.id == row.id).values(
            state=PROCESSING, claimed_by=worker[:100], claimed_at_ms=now_ms,
            tries=row.tries + 1))
    return ClaimedJob(id=row.id, batch_id=row.batch_id, file_name=row.file_name,
                      stored_path=row.stored_path, tries=row.tries + 1,
                      scope=ImportScope(center_id=row.scope_center_id,
                                        exam_id=row.scope_exam_id,
                                        imported_by=row.imported_by))


def run_one(ctx: ServerContext, *, worker: str) -> bool:
    """Claim and merge one file; False when the queue is empty."""
    job = claim_next(ctx.db, worker=worker, now_ms=ctx.clock.now_ms())
    if job is None:
        return False
    path = imports_dir(ctx) / job.stored_path
    try:
        data = path.read_bytes()
    except OSError as exc:
        report = ImportReport(
            file_name=job.file_name, status=ImportStatus.REFUSED, code="offline.unreadable",
            message=_("无法读取文件：{error}").format(error=exc.strerror or exc))
    else:
        # Never raises for a bad file; its merge is one transaction (server/offline_import.py).
        report = import_offline_file(ctx, data=data, file_name=job.file_name, scope=job.scope)
    if finish(ctx.db, job, report=report, now_ms=ctx.clock.now_ms()):
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # the batch's folder, once its last file is done
    return True


def finish(db: Database, job: ClaimedJob, *, report: ImportReport, now_ms: int) -> bool:
    """Record the job's outcome; False when it goes back to the queue (a retry)."""
    retry = report.code == "offline.internal_error" and job.tries < MAX_TRIES
    j = import_jobs.c
    with db.write() as conn:
        conn.execute(update(import_jobs).where(j.id == job.id).values(
            # A busy database: back to the queue (nothing was merged; the file stays).
            state=QUEUED if retry else (FAILED if report.status is ImportStatus.REFUSED
                                        else DONE),
            finished_at_ms=None if retry else now_ms,
            report=None if retry else report_to_json(report)))
    return not retry


def run_until_idle(ctx: ServerContext, *, worker: str) -> int:
    """Merge queued files until none is left; returns how many (CLI, tests)."""
    count = 0
    while run_one(ctx, worker=worker):
        count += 1
    return count


class JobWake:
    """Wakes this process's job loop when a file is queued here (from a request thread)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def wake(self) -> None:
        self._loop.call_soon_threadsafe(self.event.set)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def work_forever(ctx: ServerContext, wake: JobWake) -> None:
    """The job loop of one server process (started by server/app.py)."""
    worker = worker_name()
    leadership = (None if ctx.db.is_postgres else
                  Leadership(ctx.db, "import-jobs", lease_ms=int(10 * IDLE_POLL_S * 1000)))
    try:
        while True:
            try:
                if await run_in_threadpool(has_work, ctx.db, now_ms=ctx.clock.now_ms()) and (
                        leadership is None or await run_in_threadpool(
                            leadership.try_lead, now_ms=ctx.clock.now_ms())):
                    while await run_in_threadpool(run_one, ctx, worker=worker):
                        if leadership is not None:
                            await run_in_threadpool(leadership.try_lead,
                                                    now_ms=ctx.clock.now_ms())
            except Exception:  # the loop must survive a busy database
                log.exception("import job loop")
            wake.event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.event.wait(), timeout=IDLE_POLL_S)
    finally:
        if leadership is not None:
            await run_in_threadpool(leadership.release)



# -- progress -----------------------------------------------------------------------------

@dataclass(frozen=True)
class JobView:
    position: int
    file_name: str
    state: str
    report: ImportReport | None


@dataclass(frozen=True)
class BatchProgress:
    batch_id: str
    jobs: tuple[JobView, ...]
    imported_by: str

    def count(self, state: str) -> int:
        return sum(1 for job in self.jobs if job.state == state)

    @property
    def finished(self) -> bool:
        return all(job.state in (DONE, FAILED) for job in self.jobs)

    def answers(self, outcome: Outcome) -> int:
        return sum(job.report.counts.get(outcome.value, 0) for job in self.jobs
                   if job.report is not None)


def batch_progress(db: Database, batch_id: str) -> BatchProgress | None:
    ensure_job_table(db)
    with db.read() as conn:
        rows = conn.execute(select(import_jobs).where(import_jobs.c.batch_id == batch_id)
                            .order_by(import_jobs.c.position)).all()
    if not rows:
        return None
    return BatchProgress(
        batch_id=batch_id, imported_by=rows[0].imported_by,
        jobs=tuple(JobView(position=r.position, file_name=r.file_name, state=r.state,
                           report=report_from_json(r.report) if r.report else None)
                   for r in rows))


def queue_totals(db: Database) -> dict[str, int]:
    """Files per state over every batch (the whole farm's queue)."""
    ensure_job_table(db)
    with db.read() as conn:
        rows = conn.execute(select(import_jobs.c.state, func.count())
                            .group_by(import_jobs.c.state)).all()
    found = {state: int(n) for state, n in rows}
    return {state: found.get(state, 0) for state in STATES}


# -- reports as JSON ----------------------------------------------------------------------

def report_to_json(report: ImportReport) -> dict[str, Any]:
    value = dataclasses.asdict(report)
    value["status"] = report.status.value
    value["questions"] = [{**dataclasses.asdict(q), "outcome": q.outcome.value}
                          for q in report.questions]
    return value


def report_from_json(value: dict[str, Any]) -> ImportReport:
    fields = dict(value)
    fields["status"] = ImportStatus(fields["status"])
    fields["questions"] = tuple(QuestionChange(**{**q, "outcome": Outcome(q["outcome"])})
                                for q in fields.get("questions", ()))
    # Reports stored before marks travelled in the file lack these two.
    fields["marks"] = MarksOutcome(fields.get("marks", MarksOutcome.ABSENT.value))
    fields["marked"] = tuple(fields.get("marked", ()))
    return ImportReport(**fields)

