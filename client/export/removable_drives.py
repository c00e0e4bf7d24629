"""Where the proctor can put the offline answer file: removable drives first.

The deciding logic (what counts, in which order) takes plain data so it is tested on any
OS; the OS adapters only collect that data: on Windows GetLogicalDrives + GetDriveTypeW
(+ GetVolumeInformationW for the label, which also tells an empty card-reader slot from a
stick), on Linux /proc/mounts + /sys/block/<disk>/removable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from client.i18n import _

# GetDriveTypeW results (winbase.h)
DRIVE_UNKNOWN = 0
DRIVE_NO_ROOT_DIR = 1
DRIVE_REMOVABLE = 2
DRIVE_FIXED = 3
DRIVE_REMOTE = 4
DRIVE_CDROM = 5
DRIVE_RAMDISK = 6

LINUX_MEDIA_ROOTS = ("/media", "/run/media")


@dataclass(frozen=True)
class ExportLocation:
    path: Path
    label: str
    removable: bool


@dataclass(frozen=True)
class WindowsDrive:
    root: str                 # "E:\\"
    drive_type: int           # DRIVE_* above
    volume_label: str | None  # None: no medium in the drive (empty card reader, no disc)


def order_locations(locations: Iterable[ExportLocation]) -> list[ExportLocation]:
    """Removable drives first, then the rest; each group by path; duplicates dropped."""
    unique: dict[Path, ExportLocation] = {}
    for location in locations:
        known = unique.get(location.path)
        if known is None or (location.removable and not known.removable):
            unique[location.path] = location
    return sorted(unique.values(), key=lambda loc: (not loc.removable, str(loc.path)))


def locations_from_windows_drives(drives: Iterable[WindowsDrive]) -> list[ExportLocation]:
    found: list[ExportLocation] = []
    for drive in drives:
        if drive.volume_label is None:
            continue
        if drive.drive_type not in (DRIVE_REMOVABLE, DRIVE_FIXED, DRIVE_REMOTE):
            continue
        removable = drive.drive_type == DRIVE_REMOVABLE
        kind = _("可移动磁盘") if removable else (
            _("网络驱动器") if drive.drive_type == DRIVE_REMOTE else _("本地磁盘"))
        letter = drive.root.rstrip("\\")
        label = f"{letter} {drive.volume_label} [{kind}]" if drive.volume_label \
            else f"{letter} [{kind}]"
        found.append(ExportLocation(path=Path(drive.root), label=label, removable=removable))
    return order_locations(found)


def _unescape_mount_field(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as octal (\040 ...).
    return (field.replace("\\040", " ").replace("\\011", "\t")
            .replace("\\012", "\n").replace("\\134", "\\"))


def locations_from_linux_mounts(
    mounts_text: str,
    *,
    is_removable: Callable[[str], bool],
    media_roots: Iterable[str] = LINUX_MEDIA_ROOTS,
) -> list[ExportLocation]:
    """Mounted block devices that are removable or automounted below a media root."""
    roots = tuple(root.rstrip("/") + "/" for root in media_roots)
    found: list[ExportLocation] = []
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[0].startswith("/dev/"):
            continue
        device, mount_point = fields[0], _unescape_mount_field(fields[1])
        options = fields[3].split(",")
        if "ro" in options:
            continue
        removable = is_removable(device)
        if not removable and not mount_point.startswith(roots):
            continue
        # udisks mounts USB hard disks below /media even when sysfs calls them fixed:
        # they are still the thing a proctor carries away, so list them with the sticks.
        removable = removable or mount_point.startswith(roots)
        kind = _("可移动磁盘") if removable else _("本地磁盘")
        label = f"{mount_point} [{kind}]"
        found.append(ExportLocation(path=Path(mount_point), label=label, removable=removable))
    return order_locations(found)


def sysfs_removable(device: str, *, sys_root: Path = Path("/sys")) -> bool:
    """True if the disk holding *device* (/dev/sdb1, /dev/mmcblk0p1) says removable=1."""
    name = Path(os.path.realpath(device)).name
    block = sys_root / "class" / "block" / name
    try:
        resolved = block.resolve(strict=True)
    except OSError:
        return False
    disk = resolved.parent.name if (resolved / "partition").exists() else resolved.name
    try:
        return (sys_root / "block" / disk / "removable").read_text().strip() == "1"
    except OSError:
        return False


def _linux_locations() -> list[ExportLocation]:
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return locations_from_linux_mounts(mounts, is_removable=sysfs_removable)


def _windows_drives() -> list[WindowsDrive]:
    if sys.platform != "win32":
        return []
    import ctypes

    kernel32 = ctypes.windll.kernel32
    sem_failcriticalerrors = 0x0001
    # WHY: without this an empty card-reader slot pops a "no disk" system dialog.
    previous_mode = kernel32.SetErrorMode(sem_failcriticalerrors)
    drives: list[WindowsDrive] = []
    try:
        mask = kernel32.GetLogicalDrives()
        for index in range(26):
            if not mask & (1 << index):
                continue
            root = f"{chr(ord('A') + index)}:\\"
            drive_type = int(kernel32.GetDriveTypeW(ctypes.c_wchar_p(root)))
            label_buffer = ctypes.create_unicode_buffer(261)
            has_medium = kernel32.GetVolumeInformationW(
                ctypes.c_wchar_p(root), label_buffer, 261, None, None, None, None, 0)
            drives.append(WindowsDrive(root=root, drive_type=drive_type,
                                       volume_label=label_buffer.value if has_medium else None))
    finally:
        kernel32.SetErrorMode(previous_mode)
    return drives


def list_export_locations(*, extra: Iterable[ExportLocation] = ()) -> list[ExportLocation]:
    """Every place worth offering to the proctor on this machine, removable ones first."""
    if sys.platform == "win32":
        found = locations_from_windows_drives(_windows_drives())
    else:
        found = _linux_locations()
    return order_locations([*found, *extra])
