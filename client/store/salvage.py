"""Read whatever rows can still be read out of a damaged or old store file.

SQLCipher authenticates every page (HMAC), so a row that reads back is genuine; a damaged
page only makes its own rows unreadable. A full scan stops at the first bad page, so on
failure every row is tried by its key (seq), which walks around damaged leaf pages.
Always run on a working copy: opening a file replays its WAL and may write to it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from client.store import connection, patches, schema
from client.store.connection import Connection, DatabaseError
from client.store.model import REVISION_COLUMNS, Revision, revision_from_row
from client.store.paths import wal_path

log = logging.getLogger(__name__)

_PATCH_COLUMN = ", patch_of"
_NO_PATCH_COLUMN = ", NULL"  # files before schema 3: every row holds its whole value
# When max(seq) is unreadable, probing stops after this many seq values in a row that
# read fine but hold no row (the end of the table has been passed), and in any case at
# the file size divided by the smallest possible row.
_MISSES_AFTER_LAST_ROW = 1000
_MIN_ROW_BYTES = 24


@dataclass
class Salvage:
    revisions: list[Revision] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    blobs: list[tuple[str, bytes, str, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    readable: bool = False  # the file decrypted at all (page 1 and the schema)
    # The encoded value of every revision read, by (question_id, revision), and the rows
    # holding a patch whose base this file did not hold: resolve_across() looks for
    # those bases in the other files of the same store.
    texts: dict[tuple[str, int], str] = field(default_factory=dict)
    pending: list[tuple[object, ...]] = field(default_factory=list)
    # The seq of every revision read: the store's own numbering (a backup made with
    # SQLite's backup API or a WAL replay keeps it), compared with the reach record.
    seqs: set[int] = field(default_factory=set)


@contextlib.contextmanager
def _quiet_cipher_log(conn: Connection) -> Iterator[None]:
    # SQLCipher logs one stderr line per page that fails its HMAC; a salvage probe hits
    # thousands of them. The level is process-wide, so it is restored afterwards.
    level = str(conn.execute("PRAGMA cipher_log_level").fetchone()[0])
    conn.execute("PRAGMA cipher_log_level = NONE")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cipher_log_level = {level}")


def read_rows(db: Path, *, key: bytes) -> Salvage:
    """Every readable revision, meta entry and blob of *db* (a working copy)."""
    result = Salvage()
    if not db.exists() or db.stat().st_size == 0:
        result.errors.append("no database file")
        return result
    try:
        conn = connection.connect(db, key=key)
    except Exception as exc:  # any failure just means: nothing salvageable here
        result.errors.append(str(exc))
        return result
    try:
        with _quiet_cipher_log(conn):
            try:
                conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
            except DatabaseError as exc:
                result.errors.append(f"unreadable: {exc}")
                return result
            result.readable = True
            _read_revisions(conn, db, result)
            _read_meta(conn, result)
            _read_blobs(conn, result)
    finally:
        conn.close()
    return result


def _read_revisions(conn: Connection, db: Path, result: Salvage) -> None:
    try:
        patched = schema.schema_version(conn) >= 3
    except DatabaseError:
        patched = True  # the header is unreadable: so is everything; try the newest shape
    columns = REVISION_COLUMNS + (_PATCH_COLUMN if patched else _NO_PATCH_COLUMN) + ", seq"
    try:
        rows = conn.execute(f"SELECT {columns} FROM revisions ORDER BY seq").fetchall()
    except DatabaseError as exc:
        result.errors.append(f"revisions scan: {exc}")
        rows = _probe_rows(conn, db, columns, result)
    _resolve(rows, result)


def _probe_rows(
    conn: Connection, db: Path, columns: str, result: Salvage
) -> list[tuple[object, ...]]:
    """Rows read one seq at a time, around pages that fail (in save order)."""
    rows: list[tuple[object, ...]] = []
    try:
        upper: int | None = int(
            conn.execute("SELECT coalesce(max(seq), 0) FROM revisions").fetchone()[0])
    except DatabaseError:
        upper = None  # seq has no gaps (rows are never deleted): probe until rows stop
    size = db.stat().st_size + (wal_path(db).stat().st_size if wal_path(db).exists() else 0)
    cap = upper if upper is not None else size // _MIN_ROW_BYTES
    failed = misses = 0
    seq = 0
    while seq < cap and misses < _MISSES_AFTER_LAST_ROW:
        seq += 1
        try:
            row = conn.execute(
                f"SELECT {columns} FROM revisions WHERE seq = ?", (seq,)
            ).fetchone()
        except DatabaseError:
            failed += 1
            continue
        misses = misses + 1 if row is None else 0
        if row is not None:
            rows.append(tuple(row))
    if failed:
        result.errors.append(f"{failed} revision rows unreadable")
    return rows


def from_rows(rows: Sequence[tuple[object, ...]]) -> Salvage:
    """A Salvage of rows read elsewhere (the redo log), shaped as ``_read_revisions``
    reads them: REVISION_COLUMNS, patch_of, seq; in seq order."""
    result = Salvage(readable=True)
    _resolve(rows, result)
    return result


def _resolve(rows: Sequence[tuple[object, ...]], result: Salvage) -> None:
    """Revisions from raw rows in save order (a patch's base is always saved before it);
    patches whose base this file lacks wait in ``pending``."""
    for row in rows:
        _add_row(row, result, texts=result.texts)


def _add_row(
    row: tuple[object, ...], result: Salvage, *, texts: dict[tuple[str, int], str]
) -> None:
    try:
        question_id, number, stored = str(row[0]), int(str(row[1])), str(row[2])
        if row[7] is None:
            text = stored
        else:
            base = texts.get((question_id, int(str(row[7]))))
            if base is None:
                result.pending.append(row)
                return
            text = patches.apply_stored(base, stored)
        revision = revision_from_row(row, text=text)
    except ValueError:  # an undecodable row is not worth failing a salvage for
        return
    texts[(question_id, number)] = text
    result.revisions.append(revision)
    with contextlib.suppress(IndexError, TypeError, ValueError):
        result.seqs.add(int(str(row[8])))


def resolve_across(salvages: Sequence[Salvage]) -> None:
    """Apply pending patches with bases found in any of *salvages* (files of one store:
    a revision's value is the same wherever it was read). Whatever still lacks its base
    is lost, at most the rest of one chain (patches.KEYFRAME_EVERY), and said so."""
    texts: dict[tuple[str, int], str] = {}
    for salvage in salvages:
        texts.update(salvage.texts)
    waiting = [(salvage, row) for salvage in salvages for row in salvage.pending]
    for salvage in salvages:
        salvage.pending = []
    # Bases have lower revision numbers than their patches: one pass in that order.
    waiting.sort(key=lambda item: (str(item[1][0]), int(str(item[1][1]))))
    for salvage, row in waiting:
        _add_row(row, salvage, texts=texts)
    for salvage in salvages:
        if salvage.pending:
            salvage.errors.append(
                f"{len(salvage.pending)} revisions lost with the revision they patch")


def _read_meta(conn: Connection, result: Salvage) -> None:
    try:
        rows = conn.execute("SELECT name, value FROM meta").fetchall()
        result.meta = {str(name): str(value) for name, value in rows}
    except DatabaseError as exc:
        result.errors.append(f"meta: {exc}")


def _read_blobs(conn: Connection, result: Salvage) -> None:
    try:
        names = [str(r[0]) for r in conn.execute("SELECT name FROM blobs").fetchall()]
    except DatabaseError as exc:  # also: a version 1 file has no blobs table
        result.errors.append(f"blobs: {exc}")
        return
    for name in names:
        try:
            row = conn.execute(
                "SELECT data, content_type, created_ms FROM blobs WHERE name = ?", (name,)
            ).fetchone()
        except DatabaseError:
            result.errors.append(f"blob {name!r} unreadable")
            continue
        result.blobs.append((name, bytes(row[0]), str(row[1]), int(row[2])))

