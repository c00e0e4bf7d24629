"""Opening a SQLCipher connection with the settings every store file relies on.

- ``PRAGMA key = "x'..'"``: a raw 256-bit key, so no PBKDF2 runs at open (the memory-hard
  KDF already ran in the key envelope) and opening stays fast.
- the file salt is derived from the key (raw key + explicit salt form), so the store, its
  backup snapshot and any copy share page keys: a WAL from the store can be replayed onto
  the backup when the store file itself is destroyed (recovery.py). The key is random
  per store, so a per-key salt loses nothing.
- ``cipher_compatibility = 4``: pinned so a future SQLCipher major version reads old files.
- ``locking_mode = EXCLUSIVE`` before WAL: no -shm file, and a second client instance on
  the same store gets a clear "already running" error instead of sharing the file.
- ``journal_mode = WAL`` + ``synchronous = FULL``: every commit fsyncs the WAL before it
  returns, so a committed save survives a power cut (docs/durability.md).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any, Protocol

from sqlcipher3 import dbapi2 as sqlcipher

from client.i18n import _
from client.store.errors import (
    SQLITE_BUSY,
    SQLITE_CANTOPEN,
    SQLITE_LOCKED,
    SQLITE_READONLY,
    StoreCorruptError,
    StoreError,
    StoreIOError,
    cannot_open_error,
    disk_full_error,
    is_disk_full,
    sqlite_error_code,
)

KEY_BYTES = 32
PAGE_SIZE = 4096  # SQLCipher 4 default; a healthy store file is a whole number of pages

DatabaseError = sqlcipher.DatabaseError  # base of every sqlcipher3 error worth catching
OperationalError = sqlcipher.OperationalError  # disk, lock and I/O trouble


class Cursor(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """The DB-API surface the store uses (sqlcipher3 ships no type hints)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Any, /) -> Cursor: ...
    def backup(self, target: Any, /) -> None: ...
    def close(self) -> None: ...


class StoreLockedError(StoreError):
    """Another process (a second client instance) holds the store open."""

    retryable = True


def connect(
    path: Path, *, key: bytes, exclusive: bool = True, busy_timeout_s: float = 2.0
) -> Connection:
    """Open *path* with *key* and the durability settings.

    *exclusive* is off only for short-lived helper files (the snapshot being written),
    where exclusive mode would leave a stale rollback journal behind.
    """
    if len(key) != KEY_BYTES:
        raise ValueError("store key must be 32 bytes")
    try:
        conn: Connection = sqlcipher.connect(
            str(path), isolation_level=None, timeout=busy_timeout_s
        )
    except DatabaseError as exc:
        raise open_error(exc, path) from exc
    try:
        conn.execute(f"PRAGMA key = {key_literal(key)}")
        conn.execute("PRAGMA cipher_compatibility = 4")
        apply_settings(conn, exclusive=exclusive)
    except DatabaseError as exc:
        conn.close()
        raise open_error(exc, path) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def connect_for_check(path: Path, *, key: bytes) -> Connection:
    """A read-only connection for the open-time integrity check.

    Read-only because closing a read-write connection checkpoints the WAL into the main
    file and deletes the WAL: on a damaged store that would destroy the evidence and the
    very frames recovery replays. (Not exclusive: SQLite refuses read-only WAL access in
    exclusive mode; the -shm file it creates is harmless and removed afterwards.)
    """
    try:
        conn: Connection = sqlcipher.connect(
            path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None, timeout=2.0
        )
        conn.execute(f"PRAGMA key = {key_literal(key)}")
        conn.execute("PRAGMA cipher_compatibility = 4")
    except DatabaseError as exc:
        raise open_error(exc, path) from exc
    return conn


def key_literal(key: bytes) -> str:
    """SQLCipher's raw key with explicit salt: "x'<64 hex key><32 hex salt>'"."""
    if len(key) != KEY_BYTES:
        raise ValueError("store key must be 32 bytes")
    salt = hmac.new(key, b"ExamClient/sqlcipher-salt/v1", hashlib.sha256).digest()[:16]
    return f"\"x'{key.hex()}{salt.hex()}'\""


def connect_immutable(path: Path, *, key: bytes) -> Connection:
    """Read a file that nothing writes (the backup snapshot) without creating -wal/-shm
    files beside it or taking locks: SQLite's ``immutable=1`` URI parameter."""
    try:
        conn: Connection = sqlcipher.connect(
            path.resolve().as_uri() + "?immutable=1", uri=True, isolation_level=None
        )
        conn.execute(f"PRAGMA key = {key_literal(key)}")
        conn.execute("PRAGMA cipher_compatibility = 4")
    except DatabaseError as exc:
        raise open_error(exc, path) from exc
    return conn


def apply_settings(conn: Connection, *, exclusive: bool = True) -> None:
    """The non-cipher settings; shared with the plain-SQLite baseline in benchmarks/store.py."""
    if exclusive:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA temp_store = MEMORY")  # never spill decrypted rows to temp files


def enable_wal(conn: Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreIOError(
            "store.no_wal", _("答案文件无法进入安全写入模式。"), journal_mode=mode
        )


def integrity_problems(conn: Connection) -> list[str]:
    """Every page's HMAC (cipher_integrity_check) and the b-tree structure (integrity_check).

    Returns the problems found; an empty list means the file is healthy.
    """
    problems = [str(row[0]) for row in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
    rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check").fetchall()]
    if rows != ["ok"]:
        problems.extend(rows)
    return problems


def open_error(exc: BaseException, path: Path) -> StoreError:
    """Map an sqlite error raised while opening/reading a store to the error a person sees."""
    code = sqlite_error_code(exc)
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return StoreLockedError(
            "store.locked",
            _("答案文件正被另一个考试客户端使用。请关闭其他考试客户端窗口后重试。"),
            path=str(path),
        )
    if is_disk_full(exc):
        return disk_full_error(path=str(path))
    if code in (SQLITE_READONLY, SQLITE_CANTOPEN):
        return cannot_open_error(exc, path)
    return StoreCorruptError(
        "store.corrupt",
        _("答案文件已损坏或无法解密。"),
        path=str(path),
        error=str(exc),
    )
