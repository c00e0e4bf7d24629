"""Durable file operations: a rename or a new file is only safe after the directory is synced.

POSIX: a new name (create, rename) lives in the directory, so the directory itself must be
fsync'ed or a power cut can undo the rename even though the file's data was synced.
Windows: directories cannot be opened for fsync; NTFS journals metadata and
MoveFileExW(MOVEFILE_WRITE_THROUGH) returns only after the rename is flushed, so
``replace_durably`` uses it there (client/store/_winfs.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    """Make renames/creations in *directory* durable (no-op on Windows, see module doc)."""
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(source: Path, target: Path) -> None:
    """Atomically rename *source* over *target* and make the new name survive a power cut."""
    if sys.platform == "win32":
        from client.store._winfs import move_file_write_through

        move_file_write_through(source, target)
    else:
        os.replace(source, target)
        fsync_dir(target.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write *data* so that *path* holds either the old or the new content, never a mix."""
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    replace_durably(temp, path)


def copy_flushed_in_steps(source: Path, target: Path, *, step_bytes: int = 2**20) -> None:
    """Copy *source* to *target*, flushing every *step_bytes* to the disk as it goes.

    For the backup snapshot, copied while the candidate keeps saving: one flush of a
    whole 10 MB copy at the end is a burst that every save's own flush would queue behind
    for tens of milliseconds; flushed in 1 MiB steps, a save waits for one step at most.
    """
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(step_bytes):
            writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())


def move_aside(source: Path, target: Path) -> None:
    """Move a file (e.g. a damaged store) to *target*, durably on both sides."""
    target.parent.mkdir(parents=True, exist_ok=True)
    replace_durably(source, target)
    if source.parent != target.parent:
        fsync_dir(source.parent)
