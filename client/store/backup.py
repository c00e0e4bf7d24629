"""The rolling encrypted snapshot kept beside the store (answers.backup.db).

It is a second, independent copy for when the store file itself is damaged (torn page,
bad sector, truncation). Made on a thread of its own (SnapshotJob), so that saves never
wait for it: the store's files are copied as they are, the copy is opened (SQLite replays
the copied WAL onto the copied main file, then checkpoints it on close), checked, fsync'ed
and renamed over the old snapshot, so at every instant there is one complete snapshot.

Why copying files is a consistent snapshot while the store keeps committing: between
checkpoints SQLite only appends to the WAL and never writes the main file (automatic
checkpoints are off, and AnswerStore runs none while a job runs). A copied WAL therefore
ends in whole committed transactions followed at most by a torn frame, which SQLite's
frame checksums stop at, exactly as after a crash. The one exception is the first write
after a complete checkpoint, which restarts the WAL from its beginning; then the WAL holds
nothing the main file lacks, and the job is told not to copy it (``copy_wal``).
(SQLite's online backup API is not used: it must run on the store's own connection, which
is the writer's, since the store is opened with exclusive locking.)
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from client.store import connection
from client.store.connection import Connection, DatabaseError
from client.store.errors import StoreError
from client.store.fsutil import copy_flushed_in_steps, fsync_file, replace_durably
from client.store.paths import shm_path, wal_path

log = logging.getLogger(__name__)

# Never let a snapshot take the last free space the answers themselves need.
SPARE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SnapshotPolicy:
    every_saves: int = 50
    every_seconds: float = 30.0
    # At most one snapshot started per this many seconds: a burst of saves must not keep
    # the disk busy copying the whole store over and over.
    min_seconds: float = 5.0

    def due(self, *, saves_since: int, seconds_since: float) -> bool:
        if saves_since <= 0 or seconds_since < self.min_seconds:
            return False
        return saves_since >= self.every_saves or seconds_since >= self.every_seconds


DEFAULT_SNAPSHOT_POLICY = SnapshotPolicy()


def has_room_for_snapshot(*, store_file: Path) -> bool:
    size = store_file.stat().st_size
    wal = wal_path(store_file)
    if wal.exists():
        size += wal.stat().st_size
    return shutil.disk_usage(store_file.parent).free >= 2 * size + SPARE_BYTES


_worker: ThreadPoolExecutor | None = None
_worker_lock = threading.Lock()


def snapshot_worker() -> ThreadPoolExecutor:
    """The one thread that makes snapshots, started once (AnswerStore.open): starting a
    thread waits until it runs, which a save must not wait for on a busy PC."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = ThreadPoolExecutor(max_workers=1,
                                         thread_name_prefix="answer-store-snapshot")
            _worker.submit(lambda: None).result()
        return _worker


class SnapshotJob:
    """One snapshot of *store_file* being made on the snapshot thread (see module doc)."""

    def __init__(self, *, store_file: Path, target: Path, key: bytes, copy_wal: bool) -> None:
        self.result: Future[None] = snapshot_worker().submit(
            _copy, store_file=store_file, target=target, key=key, copy_wal=copy_wal)

    def done(self) -> bool:
        return self.result.done()

    def wait(self) -> bool:
        """True when the snapshot was written; a failure is logged, never raised."""
        try:
            self.result.result()
        except (OSError, DatabaseError, StoreError) as exc:
            log.warning("backup snapshot failed: %s", exc)
            return False
        return True


def _copy(**kwargs: object) -> None:
    copy_snapshot(**kwargs)  # type: ignore[arg-type]  # looked up now: tests wrap it


def copy_snapshot(*, store_file: Path, target: Path, key: bytes, copy_wal: bool = True) -> None:
    """Snapshot a store that may be committing meanwhile, but not checkpointing."""
    temp = target.with_name(target.name + ".tmp")
    discard(temp)
    try:
        copy_flushed_in_steps(store_file, temp)
        if copy_wal:
            with contextlib.suppress(FileNotFoundError):
                copy_flushed_in_steps(wal_path(store_file), wal_path(temp))
        _finish(temp, target=target, key=key, source=None)
    except BaseException:
        discard(temp)
        raise


def write_snapshot(source: Connection, *, target: Path, key: bytes) -> None:
    """Copy the committed state of *source* into *target* atomically (raises on failure)."""
    temp = target.with_name(target.name + ".tmp")
    discard(temp)
    try:
        _finish(temp, target=target, key=key, source=source)
    except BaseException:
        discard(temp)
        raise


def _finish(temp: Path, *, target: Path, key: bytes, source: Connection | None) -> None:
    dest = connection.connect(temp, key=key, exclusive=False)
    try:
        if source is not None:
            source.backup(dest)
        # The copy carries the source's WAL flag; quick_check also proves the copy
        # decrypts with the key before it replaces the previous good snapshot.
        result = [str(row[0]) for row in dest.execute("PRAGMA quick_check").fetchall()]
    finally:
        dest.close()  # the last connection checkpoints and deletes temp's -wal/-shm
    if result != ["ok"]:
        raise OSError(f"snapshot failed its check: {result[:3]}")
    if wal_path(temp).exists():
        raise OSError("snapshot copy kept a WAL after closing")
    fsync_file(temp)
    # A -wal left beside the old snapshot by an interrupted reader must never be
    # replayed onto the new one.
    with contextlib.suppress(FileNotFoundError):
        wal_path(target).unlink()
    replace_durably(temp, target)


def discard(path: Path) -> None:
    """Remove a temporary snapshot and its journal files, ignoring ones that do not exist."""
    for name in (path, wal_path(path), shm_path(path), path.with_name(path.name + "-journal")):
        with contextlib.suppress(FileNotFoundError):
            name.unlink()
