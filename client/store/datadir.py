"""Checks of the data directory, run before the exam starts (never in the middle of it).

- missing and cannot be created, or not writable (read-only medium, permissions): a
  DataDirError before the exam, so nobody starts answering into a store that cannot save;
- too little free space: an error below the hard minimum, a warning below the comfortable
  amount (the writer also copes with a full disk later, see writer.py);
- on the system drive: a warning, because lab restore software resets the system drive on
  reboot. Windows: the path's drive letter equals %SystemDrive%. Other systems: the path is
  on the same device (st_dev) as "/" (there is no drive letter; the root file system is
  what such tools reset), so a one-disk Linux PC always gets the warning.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from client.errors import UserFacingError
from client.i18n import _
from client.store.errors import DataDirError, is_disk_full

MIN_FREE_BYTES = 20 * 1024 * 1024  # below this the exam does not start
RECOMMENDED_FREE_BYTES = 200 * 1024 * 1024  # below this the proctor is warned


@dataclass(frozen=True)
class DataDirReport:
    path: Path
    free_bytes: int
    on_system_drive: bool
    warnings: tuple[UserFacingError, ...]  # shown to the proctor, not raised


def is_windows_system_drive(path: str, *, system_drive: str) -> bool:
    """Plain-data decision for Windows paths (testable anywhere)."""
    drive = path[:2] if len(path) >= 2 and path[1] == ":" else ""
    return bool(drive) and drive.casefold() == system_drive.strip().rstrip("\\").casefold()


def on_system_drive(path: Path) -> bool:
    if sys.platform == "win32":
        return is_windows_system_drive(
            str(path.resolve()), system_drive=os.environ.get("SYSTEMDRIVE", "C:")
        )
    return path.stat().st_dev == Path("/").stat().st_dev


def check_data_dir(
    path: Path,
    *,
    min_free_bytes: int = MIN_FREE_BYTES,
    recommended_free_bytes: int = RECOMMENDED_FREE_BYTES,
) -> DataDirReport:
    """Create *path* if needed and prove it can hold the store; raises DataDirError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if is_disk_full(exc):
            raise _low_space(path, free=0) from exc
        raise DataDirError(
            "store.datadir_missing",
            _("数据目录 {path} 不存在且无法创建（磁盘未连接或路径错误）。"
              "请告知监考老师检查 user.ini 中的数据目录设置。").format(path=path),
            path=str(path), error=str(exc),
        ) from exc
    if not path.is_dir():
        raise DataDirError(
            "store.datadir_missing",
            _("数据目录 {path} 不是文件夹。请告知监考老师检查 user.ini 中的数据目录设置。")
            .format(path=path),
            path=str(path),
        )
    _probe_write(path)
    free = shutil.disk_usage(path).free
    if free < min_free_bytes:
        raise _low_space(path, free=free)
    warnings: list[UserFacingError] = []
    if free < recommended_free_bytes:
        warnings.append(UserFacingError(
            "store.datadir_space_low",
            _("数据目录 {path} 剩余空间只有 {mb} MB，请监考老师尽快清理磁盘。")
            .format(path=path, mb=free // (1024 * 1024)),
            path=str(path), free_bytes=free,
        ))
    system = on_system_drive(path)
    if system:
        warnings.append(UserFacingError(
            "store.datadir_on_system_drive",
            _("数据目录 {path} 位于系统盘。若本机装有还原软件，重启后答案可能丢失；"
              "请在 user.ini 中把数据目录设到其他磁盘（如 D 盘）。").format(path=path),
            path=str(path),
        ))
    return DataDirReport(path=path, free_bytes=free, on_system_drive=system,
                         warnings=tuple(warnings))


def _probe_write(path: Path) -> None:
    """Create, write, fsync, rename and delete a file: everything the store will do."""
    probe = path / f".write-test-{os.getpid()}"
    renamed = probe.with_name(probe.name + ".renamed")
    try:
        with open(probe, "wb") as handle:
            handle.write(b"exam client write test\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(probe, renamed)
        renamed.unlink()
    except OSError as exc:
        for leftover in (probe, renamed):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if is_disk_full(exc):
            raise _low_space(path, free=0) from exc
        raise DataDirError(
            "store.datadir_readonly",
            _("数据目录 {path} 无法写入（只读磁盘或没有权限）。"
              "请告知监考老师检查 user.ini 中的数据目录设置。").format(path=path),
            path=str(path), error=str(exc),
        ) from exc


def _low_space(path: Path, *, free: int) -> DataDirError:
    return DataDirError(
        "store.datadir_full",
        _("数据目录 {path} 所在磁盘空间不足（剩余 {mb} MB），无法开始考试。"
          "请告知监考老师清理磁盘。")
        .format(path=path, mb=free // (1024 * 1024)),
        path=str(path), free_bytes=free,
    )
