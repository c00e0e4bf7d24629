"""The rolling encrypted snapshot kept beside the store (answers.backup.db).

It is a second, independent copy for when the store file itself is damaged (torn page,
bad sector, truncation). Made with SQLite's online backup API into a temporary file
encrypted with the same data key, checked, fsync'ed, then renamed over the old snapshot,
so at every instant there is one complete snapshot on disk.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from client.store import connection
from client.store.connection import Connection
from client.store.fsutil import fsync_file, replace_durably
from client.store.paths import shm_path, wal_path

log = logging.getLogger(__name__)

# Never let a snapshot take the last free space the answers themselves need.
SPARE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SnapshotPolicy:
    every_saves: int = 50
    every_seconds: float = 30.0

    def due(self, *, saves_since: int, seconds_since: float) -> bool:
        if saves_since <= 0:
            return False
        return saves_since >= self.every_saves or seconds_since >= self.every_seconds


DEFAULT_SNAPSHOT_POLICY = SnapshotPolicy()


def has_room_for_snapshot(*, store_file: Path) -> bool:
    size = store_file.stat().st_size
    wal = wal_path(store_file)
    if wal.exists():
        size += wal.stat().st_size
    return shutil.disk_usage(store_file.parent).free >= 2 * size + SPARE_BYTES


def write_snapshot(source: Connection, *, target: Path, key: bytes) -> None:
    """Copy the committed state of *source* into *target* atomically (raises on failure)."""
    temp = target.with_name(target.name + ".tmp")
    discard(temp)
    try:
        dest = connection.connect(temp, key=key, exclusive=False)
        try:
            source.backup(dest)
            # The copy carries the source's WAL flag; quick_check also proves the copy
            # decrypts with the key before it replaces the previous good snapshot.
            result = [str(row[0]) for row in dest.execute("PRAGMA quick_check").fetchall()]
        finally:
            dest.close()  # the last connection checkpoints and deletes temp's -wal/-shm
        if result != ["ok"]:
            raise OSError(f"snapshot failed its check: {result[:3]}")
        fsync_file(temp)
        # A -wal left beside the old snapshot by an interrupted reader must never be
        # replayed onto the new one.
        with contextlib.suppress(FileNotFoundError):
            wal_path(target).unlink()
        replace_durably(temp, target)
    except BaseException:
        discard(temp)
        raise


def discard(path: Path) -> None:
    """Remove a temporary snapshot and its journal files, ignoring ones that do not exist."""
    for name in (path, wal_path(path), shm_path(path), path.with_name(path.name + "-journal")):
        with contextlib.suppress(FileNotFoundError):
            name.unlink()
