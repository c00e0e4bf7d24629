"""Errors of the answer store. Each carries a stable code (docs/support.md) and zh_CN text."""

from __future__ import annotations

import errno

from client.errors import UserFacingError
from client.i18n import _

# SQLite primary result codes (https://sqlite.org/rescode.html) that decide retry vs. give up.
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26


class StoreError(UserFacingError):
    """Anything the answer store cannot do; ``retryable`` says whether trying again may help."""

    retryable = False


class StoreDiskFullError(StoreError):
    """No space left: the answer is kept in memory and saving is retried."""

    retryable = True


class StoreIOError(StoreError):
    """The disk refused a read or write (removed drive, I/O error); retried by the writer."""

    retryable = True


class StoreCorruptError(StoreError):
    """The store file fails its integrity check or lost data; recovery takes over."""


class StoreKeyError(StoreError):
    """The store key cannot be unwrapped (wrong candidate, damaged key file)."""


class DataDirError(StoreError):
    """The data directory is unusable; raised before the exam starts."""


def disk_full_error(**detail: object) -> StoreDiskFullError:
    return StoreDiskFullError(
        "store.disk_full",
        _("磁盘空间已满，答案暂时保存在内存中并会自动重试。请立即告知监考老师清理磁盘空间。"),
        **detail,
    )


def io_error(**detail: object) -> StoreIOError:
    return StoreIOError(
        "store.io_error",
        _("写入答案文件失败，答案暂时保存在内存中并会自动重试。请告知监考老师检查数据盘。"),
        **detail,
    )


def sqlite_error_code(exc: BaseException) -> int | None:
    """The primary SQLite result code of a sqlite3/sqlcipher3 exception, if it has one."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return True
    if sqlite_error_code(exc) == SQLITE_FULL:
        return True
    # Older sqlite3 builds carry no error code: fall back to SQLite's fixed message.
    return "database or disk is full" in str(exc)


def cannot_open_error(exc: BaseException, path: object) -> StoreError:
    """An OS error while creating/opening a store file, as the error a person sees."""
    if is_disk_full(exc):
        return disk_full_error(path=str(path), error=str(exc))
    return StoreIOError(
        "store.cannot_open",
        _("无法打开答案文件：数据目录不可写或不存在。请告知监考老师。"),
        path=str(path),
        error=str(exc),
    )
