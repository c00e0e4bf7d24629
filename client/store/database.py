"""AnswerStore: the encrypted SQLCipher file that holds every answer revision.

Confined to one thread (StoreWriter's): sqlite connections refuse use from another thread.
Every method that changes data commits before it returns, and returns only once the
change survives a power cut: the candidate's store (``track_reach``) runs the WAL at
synchronous=NORMAL and makes a transaction that adds revisions durable with one flush of
its redo log (redo.py), any other transaction by flushing the WAL; helper stores run at
synchronous=FULL (the COMMIT flushes the WAL).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.i18n import _
from client.store import backup, connection, patches, reach, redo, schema
from client.store.backup import DEFAULT_SNAPSHOT_POLICY, SnapshotPolicy
from client.store.connection import PAGE_SIZE, Connection, DatabaseError, OperationalError
from client.store.errors import (
    SQLITE_BUSY,
    SQLITE_CORRUPT,
    SQLITE_LOCKED,
    SQLITE_NOTADB,
    StoreCorruptError,
    StoreError,
    cannot_open_error,
    disk_full_error,
    io_error,
    is_disk_full,
    sqlite_error_code,
)
from client.store.fsutil import fsync_file, replace_durably
from client.store.model import (
    REVISION_COLUMNS,
    JsonValue,
    Revision,
    ServerAnswer,
    decode_value,
    encode_value,
    revision_from_row,
)
from client.store.paths import backup_path_for, shm_path, wal_path
from client.store.reach import ChainKeys, reach_path_for
from client.store.redo import (
    REDO_IDS_META,
    REDO_META,
    RedoKeys,
    RedoLog,
    RedoRow,
    new_file_id,
    redo_path_for,
)

log = logging.getLogger(__name__)

REVISION_FLOOR_META = "revision_floor"
# Checkpoints normally follow each backup snapshot (AnswerStore._checkpoint). When no
# snapshot can be written (no room, or no snapshot policy), the WAL is checkpointed after
# this many commits anyway, so that it cannot grow without bound.
CHECKPOINT_WITHOUT_SNAPSHOT_COMMITS = 1000
_STORED_COLUMNS = REVISION_COLUMNS + ", patch_of"  # what reading a revision needs (patches.py)


@dataclass(frozen=True)
class _StoredText:
    """The encoded value of one stored revision, and how many patches led to it."""

    revision: int
    text: str
    depth: int


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class AnswerStore:
    """One candidate's answers for one exam. Create with ``AnswerStore.open``."""

    def __init__(
        self,
        conn: Connection,
        *,
        path: Path | None,
        key: bytes | None,
        snapshot_policy: SnapshotPolicy | None,
        redo_log: RedoLog | None = None,
        replayed: int = 0,
    ) -> None:
        # Direct construction is for AnswerStore.open and for benchmarks/store.py, which
        # runs the same code over a plain-SQLite connection to measure the cipher's cost.
        self._conn = conn
        # No automatic checkpoints: see _checkpoint for when the WAL is copied into the
        # main file. Once reset, a WAL that grew is cut back to this size.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute(f"PRAGMA journal_size_limit = {4 * 1024 * 1024}")
        self._commits_since_checkpoint = 0
        self._commits = 0  # every commit of this connection (a snapshot compares it)
        # The WAL holds nothing the main file lacks (after a complete checkpoint, before
        # the next commit restarts it): a snapshot then must not copy it (backup.py).
        self._wal_backfilled = False
        self._job: backup.SnapshotJob | None = None
        self._job_commits = self._job_saves = 0
        self._path = path
        self._key = key
        self._snapshot_policy = snapshot_policy
        self._redo = redo_log
        # Rows put back from the redo log at open (lost from the WAL, e.g. a power cut).
        self.replayed_from_redo = replayed
        self._revision_floor = int(self.get_meta(REVISION_FLOOR_META) or 0)
        # Each question's latest text saved since this store was opened and since the
        # last checkpoint not preceded by a snapshot. Only these are patched against: such
        # a base is always in the WAL or in the backup snapshot, so recovery from the
        # backup + WAL (when the main file is damaged) never meets a patch without its
        # base. Used only when its revision number is the one asked for.
        self._latest: dict[str, _StoredText] = {}
        # Every row below this seq is synced (schema.py, version 3): the outbox reads
        # from here. One scan at open; afterwards it only moves up.
        self._unsynced_from = self._first_unsynced_seq()
        self._saves_since_snapshot = 0
        self._last_snapshot_mono = time.monotonic()
        if snapshot_policy is not None and key is not None:
            backup.snapshot_worker()  # started now, not when the first snapshot is due
        if snapshot_policy is not None and path is not None and not backup_path_for(
            path
        ).exists():
            self.request_snapshot()  # no snapshot yet: make one at the first pause

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        key: bytes,
        create: bool = True,
        snapshot_policy: SnapshotPolicy | None = DEFAULT_SNAPSHOT_POLICY,
        track_reach: bool = False,
    ) -> AnswerStore:
        """Open (or, with *create*, atomically create) the store and verify it.

        Raises StoreCorruptError (codes store.missing, store.truncated, store.corrupt,
        store.behind_record, store.diverged) when the file is damaged or lacks revisions
        it once held; client.store.recovery turns that into a recovery.
        *snapshot_policy* None: never write a rolling backup (helper copies, tests).
        *track_reach*: compare the store with, and keep, the record of how far it
        reached (client/store/reach.py): the candidate's store, not helper copies.
        """
        try:
            if not path.exists():
                if not create:
                    raise StoreCorruptError("store.missing", _msg_missing(), path=str(path))
                cls.create_file(path, key=key)
            size = path.stat().st_size
        except OSError as exc:
            raise cannot_open_error(exc, path) from exc
        if size == 0 or size % PAGE_SIZE:
            # Checked before SQLite sees the file: SQLite deletes the WAL of an empty
            # database file, which would destroy the last committed answers.
            raise StoreCorruptError(
                "store.truncated", _msg_corrupt(), path=str(path), size=size
            )
        keys = RedoKeys(key) if track_reach else None
        checked = cls._check(path, key=key, keys=keys)
        conn = connection.connect(path, key=key)
        redo_log: RedoLog | None = None
        replayed = 0
        try:
            conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
            connection.enable_wal(conn)
            found_version = schema.migrate(conn)
            if keys is not None and checked is not None:
                point, replayed = _replay(conn, checked, path)
                # Every row up to *point* must be durable before the log starts over
                # there: commits made at synchronous=NORMAL may still be in the OS cache.
                _sync_wal(path)
                # The store names the log before it exists (autocommit, synchronous=FULL).
                next_id = new_file_id()
                _name_log(conn, previous=checked.log_id, following=next_id)
                # That COMMIT (synchronous=FULL) flushed it; flushed explicitly because the
                # order is the point (and tests/torture learns of it only here).
                _sync_wal(path)
                try:
                    redo_log = RedoLog(redo_path_for(path), keys, current=point,
                                       file_id=next_id)
                    _name_log(conn, previous=next_id, following=next_id)
                except OSError as exc:
                    # No room for a new log (full disk) or the old one cannot be replaced:
                    # the store opens without one, at synchronous=FULL (every commit
                    # flushes the WAL), as after a failed record; the old log stays valid.
                    log.error("cannot start the redo log of %s over: %s", path, exc)
                if redo_log is not None:
                    if conn.execute("SELECT 1 FROM meta WHERE name = ?",
                                    (REDO_META,)).fetchone() is None:
                        # Marks that a missing log is a loss (written after the log exists).
                        conn.execute("INSERT INTO meta (name, value) VALUES (?, '1')",
                                     (REDO_META,))
                        if conn.execute("SELECT 1 FROM revisions LIMIT 1").fetchone() is None:
                            # A new store: the marker goes into the main file now, so that
                            # losing the WAL and the log together is reported, never a
                            # store that looks as if it never had either. (No row exists
                            # yet, so no row leaves the WAL before a backup holds it.)
                            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    reach_path_for(path).unlink(missing_ok=True)  # an earlier version's
                    conn.execute("PRAGMA synchronous = NORMAL")
        except DatabaseError as exc:
            _close_quietly(conn, redo_log)
            raise connection.open_error(exc, path) from exc
        except OSError as exc:
            _close_quietly(conn, redo_log)
            raise cannot_open_error(exc, path) from exc
        except BaseException:
            _close_quietly(conn, redo_log)
            raise
        store = cls(conn, path=path, key=key, snapshot_policy=snapshot_policy,
                    redo_log=redo_log, replayed=replayed)
        if found_version < schema.CURRENT_VERSION:
            # A backup of the old version would be read with the old version's rules.
            store.request_snapshot()
        return store

    @staticmethod
    def _check(path: Path, *, key: bytes, keys: RedoKeys | None) -> _Checked | None:
        """Decrypt and verify every page (read-only, see connection.connect_for_check);
        with *keys*, also that the store holds every revision its redo log (or an earlier
        version's reach record) says it reached, or gets the missing ones from the log.
        Returns where the store is and what to replay, or None without *keys*."""
        conn = connection.connect_for_check(path, key=key)
        failure: StoreCorruptError | None = None
        checked: _Checked | None = None
        try:
            conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
            problems = connection.integrity_problems(conn)
            if keys is not None and not problems:
                checked, failure = _check_reach(conn, path, keys)
        except DatabaseError as exc:
            raise connection.open_error(exc, path) from exc
        finally:
            conn.close()
            with contextlib.suppress(OSError):
                shm_path(path).unlink()
        if problems:
            raise StoreCorruptError(
                "store.corrupt", _msg_corrupt(), path=str(path), problems=problems[:10]
            )
        if failure is not None:
            raise failure
        return checked

    @staticmethod
    def create_file(path: Path, *, key: bytes) -> None:
        """Build a new store under a temporary name, then rename it into place.

        So a store file that exists is always a complete, initialised store, and an empty
        or missing one after that always means damage (never "not created yet").
        """
        temp = path.with_name(path.name + ".new")
        backup.discard(temp)
        try:
            conn = connection.connect(temp, key=key)
            try:
                connection.enable_wal(conn)
                schema.migrate(conn)
                conn.execute(
                    "INSERT INTO meta (name, value) VALUES ('created_ms', ?)", (str(_wall_ms()),)
                )
            finally:
                conn.close()  # checkpoints: the whole store is now in the temp file
            fsync_file(temp)
            replace_durably(temp, path)
        except DatabaseError as exc:
            backup.discard(temp)
            raise connection.open_error(exc, path) from exc
        except BaseException:
            backup.discard(temp)
            raise

    @property
    def path(self) -> Path | None:
        return self._path

    # -- answers -------------------------------------------------------------------------

    def save(
        self, *, question_id: str, value: JsonValue, server_time_ms: int | None
    ) -> Revision:
        """Store a new revision of *question_id*; durable when this returns."""
        text = encode_value(value)  # before BEGIN: a bad value must not touch the file
        self._checkpoint_if_overdue()  # before choosing a patch base: it may clear them
        wall_ms, mono_ns = _wall_ms(), time.monotonic_ns()
        with self._write():
            last = self._last_revision(question_id)
            number = max(last + 1, self._revision_floor)
            previous = self._latest.get(question_id)
            if previous is not None and previous.revision != last:
                previous = None
            stored, is_patch = patches.storage_form(
                previous=None if previous is None else previous.text,
                new=text,
                chain_depth=0 if previous is None else previous.depth,
            )
            cursor = self._conn.execute(
                f"INSERT INTO revisions ({_STORED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                (question_id, number, stored, wall_ms, mono_ns, server_time_ms,
                 last if is_patch else None),
            )
            self._record_row(cursor, question_id, number, stored, last if is_patch else None,
                             wall_ms=wall_ms, mono_ns=mono_ns, server_time_ms=server_time_ms,
                             synced=False)
        depth = previous.depth + 1 if is_patch and previous is not None else 0
        self._latest[question_id] = _StoredText(revision=number, text=text, depth=depth)
        self._saves_since_snapshot += 1
        return Revision(
            question_id=question_id,
            revision=number,
            value=decode_value(text),
            wall_time_ms=wall_ms,
            mono_time_ns=mono_ns,
            server_time_ms=server_time_ms,
            synced=False,
        )

    def current_answers(self) -> dict[str, Revision]:
        rows = self._conn.execute(
            f"""SELECT {_STORED_COLUMNS} FROM revisions r
                WHERE revision = (SELECT max(revision) FROM revisions
                                  WHERE question_id = r.question_id)
                ORDER BY seq"""
        ).fetchall()
        return {rev.question_id: rev for rev in self._revisions_from_rows(rows)}

    def revisions(self, question_id: str | None = None) -> list[Revision]:
        """Every revision in save order (for export and merge), optionally of one question."""
        if question_id is None:
            rows = self._conn.execute(f"SELECT {_STORED_COLUMNS} FROM revisions ORDER BY seq")
        else:
            rows = self._conn.execute(
                f"SELECT {_STORED_COLUMNS} FROM revisions WHERE question_id = ? ORDER BY seq",
                (question_id,),
            )
        return self._revisions_from_rows(rows.fetchall())

    def unsynced(self, *, limit: int) -> list[Revision]:
        rows = self._conn.execute(
            f"SELECT seq, {_STORED_COLUMNS} FROM revisions "
            "WHERE seq >= ? AND synced = 0 ORDER BY seq LIMIT ?",
            (self._unsynced_from, limit),
        ).fetchall()
        if rows:
            self._unsynced_from = int(rows[0][0])
        return self._revisions_from_rows(row[1:] for row in rows)

    def mark_synced(self, acks: Iterable[tuple[str, int]]) -> None:
        """The server holds these revisions; lower ones of the same question are superseded."""
        pairs = list(acks)
        if not pairs:
            return
        with self._write():
            self._conn.executemany(
                "UPDATE revisions SET synced = 1 "
                "WHERE question_id = ? AND revision <= ? AND synced = 0",
                pairs,
            )

    def import_server_answers(self, answers: Iterable[ServerAnswer]) -> list[Revision]:
        """Seed from the server (resume on another PC, recovery); never lowers a revision.

        A server revision above the local one is stored as synced; local revisions at or
        below a server revision count as synced (the server ignores lower revisions).
        """
        imported: list[Revision] = []
        wall_ms, mono_ns = _wall_ms(), time.monotonic_ns()
        latest: dict[str, _StoredText] = {}
        with self._write():
            for answer in answers:
                text = encode_value(answer.value)
                if answer.revision > self._last_revision(answer.question_id):
                    cursor = self._conn.execute(
                        f"INSERT INTO revisions ({REVISION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 1)",
                        (answer.question_id, answer.revision, text, wall_ms, mono_ns,
                         answer.server_time_ms),
                    )
                    self._record_row(cursor, answer.question_id, answer.revision, text, None,
                                     wall_ms=wall_ms, mono_ns=mono_ns,
                                     server_time_ms=answer.server_time_ms, synced=True)
                    latest[answer.question_id] = _StoredText(answer.revision, text, depth=0)
                    imported.append(
                        Revision(answer.question_id, answer.revision, decode_value(text),
                                 wall_ms, mono_ns, answer.server_time_ms, True)
                    )
                self._conn.execute(
                    "UPDATE revisions SET synced = 1 "
                    "WHERE question_id = ? AND revision <= ? AND synced = 0",
                    (answer.question_id, answer.revision),
                )
        self._latest.update(latest)
        self._saves_since_snapshot += len(imported)
        return imported

    def restore_revisions(self, revisions: Iterable[Revision]) -> int:
        """Insert revisions recovered from elsewhere as they were; existing ones win."""
        count = 0
        latest: dict[str, _StoredText] = {}
        with self._write():
            for rev in revisions:
                text = encode_value(rev.value)
                cursor = self._conn.execute(
                    f"INSERT OR IGNORE INTO revisions ({REVISION_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (rev.question_id, rev.revision, text, rev.wall_time_ms,
                     rev.mono_time_ns, rev.server_time_ms, int(rev.synced)),
                )
                inserted = int(getattr(cursor, "rowcount", 0) or 0)
                count += inserted
                if inserted:
                    self._record_row(cursor, rev.question_id, rev.revision, text, None,
                                     wall_ms=rev.wall_time_ms, mono_ns=rev.mono_time_ns,
                                     server_time_ms=rev.server_time_ms, synced=rev.synced)
                known = latest.get(rev.question_id) or self._latest.get(rev.question_id)
                if inserted and (known is None or rev.revision > known.revision):
                    latest[rev.question_id] = _StoredText(rev.revision, text, depth=0)
        self._latest.update(latest)
        self._saves_since_snapshot += count
        return count

    def restore_meta(self, items: dict[str, str]) -> None:
        """Insert meta entries recovered from elsewhere; existing ones win."""
        with self._write():
            self._conn.executemany(
                "INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)", list(items.items())
            )
        floor = self.get_meta(REVISION_FLOOR_META)
        self._revision_floor = max(self._revision_floor, int(floor or 0))

    def restore_blobs(self, blobs: Iterable[tuple[str, bytes, str, int]]) -> int:
        """Insert (name, data, content_type, created_ms) recovered from elsewhere."""
        count = 0
        with self._write():
            for name, data, content_type, created_ms in blobs:
                cursor = self._conn.execute(
                    "INSERT OR IGNORE INTO blobs (name, data, content_type, created_ms) "
                    "VALUES (?, ?, ?, ?)",
                    (name, data, content_type, created_ms),
                )
                count += int(getattr(cursor, "rowcount", 0) or 0)
        return count

    def unsynced_count(self) -> int:
        """How many revisions the server has not acknowledged (without loading them)."""
        first, count, last = self._conn.execute(
            "SELECT min(seq), count(*), (SELECT max(seq) FROM revisions) FROM revisions "
            "WHERE seq >= ? AND synced = 0",
            (self._unsynced_from,),
        ).fetchone()
        if first is not None:
            self._unsynced_from = int(first)
        elif last is not None:
            self._unsynced_from = int(last) + 1  # all synced: the next save is the start
        return int(count)

    def _first_unsynced_seq(self) -> int:
        row = self._conn.execute(
            "SELECT coalesce((SELECT min(seq) FROM revisions WHERE synced = 0),"
            " (SELECT coalesce(max(seq), 0) + 1 FROM revisions))"
        ).fetchone()
        return int(row[0])

    def revision_count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM revisions").fetchone()[0])

    def has_revision(self, question_id: str, revision: int) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM revisions WHERE question_id = ? AND revision = ?",
            (question_id, revision),
        ).fetchone()
        return row is not None

    def max_revision(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(revision), 0) FROM revisions").fetchone()
        return int(row[0])

    def _last_revision(self, question_id: str) -> int:
        row = self._conn.execute(
            "SELECT coalesce(max(revision), 0) FROM revisions WHERE question_id = ?",
            (question_id,),
        ).fetchone()
        return int(row[0])

    def _revisions_from_rows(self, rows: Iterable[Any]) -> list[Revision]:
        """Revisions from rows of ``_STORED_COLUMNS`` in save order, patches applied."""
        seen: dict[str, _StoredText] = {}  # a patch's base is usually the row before
        result: list[Revision] = []
        for row in rows:
            question_id, number, stored, patch_of = str(row[0]), int(row[1]), str(row[2]), row[7]
            if patch_of is None:
                current = _StoredText(number, stored, depth=0)
            else:
                base = seen.get(question_id)
                if base is None or base.revision != patch_of:
                    base = self._stored_text(question_id, int(patch_of))
                current = _StoredText(
                    number, self._apply_patch(question_id, number, base.text, stored),
                    depth=base.depth + 1,
                )
            seen[question_id] = current
            result.append(revision_from_row(row, text=current.text))
        return result

    def _stored_text(self, question_id: str, revision: int) -> _StoredText:
        """The encoded value of one stored revision: its whole value or its chain applied."""
        cached = self._latest.get(question_id)
        if cached is not None and cached.revision == revision:
            return cached
        chain: list[tuple[int, str]] = []  # (revision, patch), newest first
        number = revision
        while True:
            row = self._conn.execute(
                "SELECT value, patch_of FROM revisions WHERE question_id = ? AND revision = ?",
                (question_id, number),
            ).fetchone()
            if row is None:
                raise _broken_chain(self._path, question_id, number)
            if row[1] is None:
                text = str(row[0])
                break
            if int(row[1]) >= number:  # a loop: refused by the schema's CHECK anyway
                raise _broken_chain(self._path, question_id, number)
            chain.append((number, str(row[0])))
            number = int(row[1])
        for patched_revision, patch in reversed(chain):
            text = self._apply_patch(question_id, patched_revision, text, patch)
        return _StoredText(revision, text, depth=len(chain))

    def _apply_patch(self, question_id: str, revision: int, base: str, patch: str) -> str:
        try:
            return patches.apply_stored(base, patch)
        except ValueError as exc:
            raise _broken_chain(self._path, question_id, revision) from exc

    @property
    def revision_floor(self) -> int:
        return self._revision_floor

    def raise_revision_floor(self, floor: int) -> None:
        """Make every later revision number at least *floor* (used after a lossy recovery)."""
        if floor > self._revision_floor:
            self.set_meta(REVISION_FLOOR_META, str(floor))
            self._revision_floor = floor

    # -- meta ----------------------------------------------------------------------------

    def get_meta(self, name: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        with self._write():
            self._conn.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def all_meta(self) -> dict[str, str]:
        rows = self._conn.execute("SELECT name, value FROM meta").fetchall()
        return {str(name): str(value) for name, value in rows}

    # -- encrypted blobs (face captures, evidence photos) ---------------------------------

    def put_blob(self, *, name: str, data: bytes, content_type: str) -> None:
        """Store *data* encrypted; replaces an existing blob of that name."""
        with self._write():
            self._conn.execute(
                "INSERT OR REPLACE INTO blobs (name, data, content_type, created_ms) "
                "VALUES (?, ?, ?, ?)",
                (name, bytes(data), content_type, _wall_ms()),
            )
        self._saves_since_snapshot += 1

    def get_blob(self, name: str) -> bytes | None:
        row = self._conn.execute("SELECT data FROM blobs WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0])

    def blob_names(self) -> list[str]:
        rows = self._conn.execute("SELECT name FROM blobs ORDER BY created_ms, rowid").fetchall()
        return [str(row[0]) for row in rows]

    def delete_blob(self, name: str) -> None:
        with self._write():
            self._conn.execute("DELETE FROM blobs WHERE name = ?", (name,))

    # -- maintenance ---------------------------------------------------------------------

    def integrity_problems(self) -> list[str]:
        return connection.integrity_problems(self._conn)

    def request_snapshot(self) -> None:
        """Make the next snapshot_if_due() write one (e.g. the backup was unreadable)."""
        self._saves_since_snapshot = max(self._saves_since_snapshot, 1)
        self._last_snapshot_mono = float("-inf")

    def snapshot_if_due(self) -> bool:
        """At a pause: start a snapshot on its own thread when the policy says so, and
        finish one that is done (checkpoint). Saves never wait for a snapshot; never
        raises. True while a snapshot is running or when one was just finished."""
        if self._job is not None:
            if self._job.done():
                self._finish_job()
            return True
        policy = self._snapshot_policy
        if policy is not None and policy.due(
            saves_since=self._saves_since_snapshot,
            seconds_since=time.monotonic() - self._last_snapshot_mono,
        ) and self._start_job():
            return True
        self._checkpoint_if_overdue()  # not written (not due, or no room): bound the WAL
        return False

    def snapshot(self) -> bool:
        """Write the rolling backup now and wait for it (recovery, close, tests). A failed
        snapshot is logged, never fatal: the store already holds every answer durably."""
        if self._job is not None:
            self._finish_job()
        return self._start_job() and self._finish_job()

    def _start_job(self) -> bool:
        if self._path is None or self._key is None:
            return False
        self._last_snapshot_mono = time.monotonic()
        try:
            if not backup.has_room_for_snapshot(store_file=self._path):
                log.warning("not enough free space for a backup snapshot of %s", self._path)
                return False
        except OSError as exc:
            log.warning("backup snapshot of %s failed: %s", self._path, exc)
            return False
        self._job = backup.SnapshotJob(store_file=self._path, target=backup_path_for(self._path),
                                       key=self._key, copy_wal=not self._wal_backfilled)
        self._job_commits, self._job_saves = self._commits, self._saves_since_snapshot
        return True

    def _finish_job(self) -> bool:
        job, self._job = self._job, None
        if job is None or not job.wait():
            return False
        self._saves_since_snapshot = max(0, self._saves_since_snapshot - self._job_saves)
        if self._commits == self._job_commits:
            # Nothing was committed since the copy began, so every row is in the backup:
            # the WAL may now go into the main file (see _checkpoint). Otherwise the next
            # snapshot checkpoints.
            self._checkpoint(after_snapshot=True)
        return True

    def _checkpoint_if_overdue(self) -> None:
        """The WAL's bound when snapshots are not being written."""
        if self._job is not None:
            return  # a snapshot is copying the main file: it must not change meanwhile
        if self._commits_since_checkpoint >= CHECKPOINT_WITHOUT_SNAPSHOT_COMMITS:
            self._checkpoint(after_snapshot=False)

    def _checkpoint(self, *, after_snapshot: bool) -> None:
        """Copy the WAL into the main file; never raises (the WAL keeps everything).

        Right after a snapshot, so that every committed row is in the backup or in the
        WAL and a damaged main file loses nothing (recovery.py replays the WAL onto the
        backup). Without a snapshot, rows only in the main file can no longer serve as a
        patch base: the next long save of every question is stored whole.
        """
        next_id: bytes | None = None
        if self._redo is not None:
            # Name the next log in the store before the checkpoint makes it durable in the
            # main file; the current log stays valid (previous) until it is replaced.
            next_id = new_file_id()
            try:
                with self._write():
                    _name_log(self._conn, previous=self._redo.file_id, following=next_id)
            except StoreError as exc:
                log.warning("cannot name the next redo log of %s: %s", self._path, exc)
                next_id = None
        try:
            _busy, frames, backfilled = self._conn.execute(
                "PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self._wal_backfilled = int(frames) == int(backfilled)
        except DatabaseError as exc:
            log.warning("checkpoint of %s failed: %s", self._path, exc)
            return
        finally:
            if not after_snapshot:
                self._latest.clear()
        self._commits_since_checkpoint = 0
        if (self._redo is not None and self._wal_backfilled and self._path is not None
                and next_id is not None):
            # SQLite synced the WAL before and the main file after a complete checkpoint
            # (also at synchronous=NORMAL); the main file is flushed once more here so the
            # log is never started over past rows that are not durable in it.
            try:
                _fsync_path(self._path)
            except OSError as exc:
                log.warning("cannot flush %s after a checkpoint: %s", self._path, exc)
                return
            self._redo.rotate(file_id=next_id)
            if self._redo.file_id == next_id:
                # Replaced: from now on only the new log is this store's (flushed, so a
                # power cut cannot bring the pair back with the old log in it).
                # Copied into the main file at once, so the WAL again holds nothing the
                # main file lacks (a snapshot then copies the main file only).
                try:
                    with self._write():
                        _name_log(self._conn, previous=next_id, following=next_id)
                    _busy, frames, backfilled = self._conn.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self._wal_backfilled = int(frames) == int(backfilled)
                except (StoreError, DatabaseError) as exc:
                    log.warning("cannot name the redo log of %s: %s", self._path, exc)

    def wal_size(self) -> int:
        if self._path is None:
            return 0
        with contextlib.suppress(FileNotFoundError):
            return wal_path(self._path).stat().st_size
        return 0

    def settle_record(self) -> None:
        """Kept for callers of the reach record: every redo record is durable when its
        save returns, so there is nothing left to settle."""

    def close(self) -> None:
        """Take a last snapshot if answers changed since the previous one (only with a
        snapshot policy: helper copies never leave a backup beside them), then close."""
        try:
            if self._job is not None:
                self._finish_job()
            if self._saves_since_snapshot and self._snapshot_policy is not None:
                self.snapshot()
        finally:
            try:
                self._conn.close()  # checkpoints (synced) and removes the WAL
            finally:
                if self._redo is not None:
                    self._redo.close()

    def _record_row(self, cursor: Any, question_id: str, revision: int, stored: str,
                    patch_of: int | None, *, wall_ms: int, mono_ns: int,
                    server_time_ms: int | None, synced: bool) -> None:
        if self._redo is not None:
            self._redo.add_row(RedoRow(int(cursor.lastrowid), question_id, revision, stored,
                                       patch_of, wall_ms, mono_ns, server_time_ms, synced))

    # -- transactions --------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One durable write transaction; on any failure nothing of it is kept."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                # SQLite may already have rolled back (disk full, I/O error): ignore that.
                with contextlib.suppress(DatabaseError):
                    self._conn.execute("ROLLBACK")
                if self._redo is not None:
                    self._redo.rollback()
                raise
        except DatabaseError as exc:
            raise _write_error(exc, self._path) from exc
        self._make_durable()
        self._commits_since_checkpoint += 1
        self._commits += 1
        self._wal_backfilled = False


    def _make_durable(self) -> None:
        """After a COMMIT at synchronous=NORMAL: flush the redo record of its revision
        rows (one flush, the save's only one), or the WAL for any other transaction."""
        redo_log = self._redo
        if redo_log is None:
            return  # synchronous=FULL: the COMMIT flushed the WAL
        if redo_log.pending:
            try:
                redo_log.commit()
                return
            except OSError as exc:
                # The answer is still made durable, through the WAL, from now on at every
                # commit; the log on disk stays valid up to here and starts over at the
                # next open.
                log.error("cannot write the redo log of %s: %s", self._path, exc)
                self._redo = None
                redo_log.close()
                with contextlib.suppress(DatabaseError):
                    self._conn.execute("PRAGMA synchronous = FULL")
        try:
            _sync_wal(self._path)
        except OSError as exc:
            raise io_error(path=str(self._path), error=str(exc)) from exc


@dataclass(frozen=True)
class _Checked:
    """Where a store is after its open-time check, and the rows its redo log holds that
    the store lacks (to be replayed before it is used)."""

    point: reach.Point
    replay: tuple[redo.RedoTransaction, ...] = ()
    log_id: bytes = b""  # the file id of the log found at open (none: empty)


def _name_log(conn: Connection, *, previous: bytes, following: bytes) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                 (REDO_IDS_META, f"{previous.hex()},{following.hex()}"))


def _check_reach(conn: Connection, path: Path,
                 keys: RedoKeys) -> tuple[_Checked | None, StoreCorruptError | None]:
    """The store (on the read-only check connection) against its redo log."""
    patched = schema.schema_version(conn) >= 3
    try:
        contents = redo.read_log(redo_path_for(path), keys)
    except redo.RedoUnreadable as exc:
        # Another store's log (another key) or a damaged header: never replayed, and
        # whatever it held cannot be counted.
        log.error("redo log of %s refused: %s", path, exc)
        return None, StoreCorruptError("store.redo_unreadable", _msg_corrupt(),
                                       path=str(path), error=str(exc))
    if contents is None:
        had_log = patched and conn.execute(
            "SELECT 1 FROM meta WHERE name = ?", (REDO_META,)).fetchone() is not None
        if had_log:
            return None, StoreCorruptError("store.redo_missing", _msg_corrupt(),
                                           path=str(path))
        return _check_legacy_record(conn, path, keys.chain, patched=patched)
    chain = reach.read_chain(conn, keys.chain, want=redo.wanted_seqs(contents),
                             patched=patched)
    verdict = redo.judge(contents, chain, keys)
    if contents.damaged_pages:
        log.error("redo log of %s: %d damaged pages", path, contents.damaged_pages)
    if not verdict.complete:
        return None, StoreCorruptError(
            "store.diverged" if verdict.diverged else "store.behind_record",
            _msg_corrupt(), path=str(path), lost=verdict.lost, held=verdict.held,
            expected=verdict.expected)
    if contents.damaged_tail:
        return None, StoreCorruptError("store.redo_damaged", _msg_corrupt(), path=str(path),
                                       held=verdict.held, expected=verdict.expected)
    named = conn.execute("SELECT value FROM meta WHERE name = ?",
                         (REDO_IDS_META,)).fetchone() if patched else None
    if named is not None and contents.file_id.hex() not in str(named[0]).split(","):
        # A log of this store (same key) from before its last restart, copied back: it
        # may lack acknowledged rows that the store's lost WAL held. Not trusted.
        log.error("redo log of %s is not the one the store names", path)
        return None, StoreCorruptError("store.redo_stale", _msg_corrupt(), path=str(path))
    point = chain.last
    if verdict.replay:
        last = verdict.replay[-1]
        point = reach.Point(last.last, last.digest)
    return _Checked(point, verdict.replay, contents.file_id), None


def _check_legacy_record(conn: Connection, path: Path, keys: ChainKeys, *,
                         patched: bool) -> tuple[_Checked | None, StoreCorruptError | None]:
    """A store last kept by a version with the reach record (answers.reach), or none."""
    record = reach.read_record(reach_path_for(path), keys)
    want = () if record is None else (record.base.seq, record.top.seq)
    chain = reach.read_chain(conn, keys, want=want, patched=patched)
    if record is None:
        if chain.count:
            log.warning("no redo log for %s: starting it over", path)
        return _Checked(chain.last), None
    verdict = reach.judge(record, chain)
    if not verdict.complete:
        return None, StoreCorruptError(
            "store.diverged" if verdict.diverged else "store.behind_record",
            _msg_corrupt(), path=str(path), lost=verdict.lost, held=verdict.held,
            expected=verdict.expected)
    return _Checked(chain.last), None


def _replay(conn: Connection, checked: _Checked, path: Path) -> tuple[reach.Point, int]:
    """Put the log's rows the store lacks back into it, as they were (seq included), in
    one transaction flushed at synchronous=FULL. Returns the point reached and the count."""
    rows = [row for transaction in checked.replay for row in transaction.rows]
    if not rows:
        return checked.point, 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            f"INSERT INTO revisions (seq, {_STORED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(row.seq, row.question_id, row.revision, row.stored, row.wall_time_ms,
              row.mono_time_ns, row.server_time_ms, int(row.synced), row.patch_of)
             for row in rows])
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(DatabaseError):
            conn.execute("ROLLBACK")
        raise
    log.warning("%s: %d revisions the WAL had lost put back from the redo log", path,
                len(rows))
    return checked.point, len(rows)


def _sync_wal(path: Path | None) -> None:
    """Flush the store's WAL (what synchronous=FULL does at each COMMIT)."""
    if path is None:
        return
    with contextlib.suppress(FileNotFoundError):
        _fsync_path(wal_path(path))


def _fsync_path(path: Path) -> None:
    # Opened for writing: on Windows os.fsync (FlushFileBuffers) needs a writable handle.
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _close_quietly(conn: Connection, redo_log: RedoLog | None) -> None:
    with contextlib.suppress(DatabaseError):
        conn.close()
    if redo_log is not None:
        redo_log.close()


def _write_error(exc: BaseException, path: Path | None) -> StoreError | BaseException:
    detail: dict[str, Any] = {"path": str(path), "error": str(exc)}
    if is_disk_full(exc):
        return disk_full_error(**detail)
    code = sqlite_error_code(exc)
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return StoreCorruptError("store.corrupt", _msg_corrupt(), **detail)
    if code in (SQLITE_BUSY, SQLITE_LOCKED) or isinstance(exc, OperationalError):
        return io_error(**detail)
    return exc  # IntegrityError, ProgrammingError: a bug, not a disk problem


def _broken_chain(path: Path | None, question_id: str, revision: int) -> StoreCorruptError:
    # Cannot happen in a file this code wrote (patch_of is checked and never deleted);
    # a file that decrypts but breaks the chain is treated like any other damage.
    return StoreCorruptError("store.corrupt", _msg_corrupt(), path=str(path),
                             question_id=question_id, revision=revision)


def _msg_corrupt() -> str:
    return _("答案文件已损坏或无法解密。")


def _msg_missing() -> str:
    return _("答案文件缺失。")
