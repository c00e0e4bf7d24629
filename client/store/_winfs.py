"""Windows adapter: a rename that is flushed to disk before it returns."""

from __future__ import annotations

import sys
from pathlib import Path

MOVEFILE_REPLACE_EXISTING = 0x1
MOVEFILE_WRITE_THROUGH = 0x8


def move_file_write_through(source: Path, target: Path) -> None:
    """MoveFileExW with MOVEFILE_WRITE_THROUGH: returns once the rename is on disk.

    WORKAROUND: os.replace uses MoveFileExW without WRITE_THROUGH, so on Windows a power
    cut right after it can lose the rename; Windows has no directory fsync to fix that.
    """
    if sys.platform != "win32":
        raise OSError("move_file_write_through is Windows-only")
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    move = kernel32.MoveFileExW
    move.argtypes = (wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.DWORD)
    move.restype = wintypes.BOOL
    flags = MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH
    if not move(str(source), str(target), flags):
        raise ctypes.WinError(ctypes.get_last_error())
