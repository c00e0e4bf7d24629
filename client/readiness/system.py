"""Checks of the PC itself: operating system, memory, free disk, the answer-data folder.

Each check is split in two: a collector that reads the machine (``*_facts``) and an
``evaluate_*`` function that decides from plain data, so the Windows rules are tested on
Linux with the numbers a lab PC reports.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import psutil

from client.i18n import _
from client.readiness.result import CheckResult, Status

GIB = 1024**3
MIB = 1024**2

# Windows 10 RTM is build 10240; Windows 11 starts at 22000 (it still reports major 10).
WINDOWS_10_BUILD = 10240
WINDOWS_11_BUILD = 22000
# Qt 6 supports Windows 10 from 1809 (build 17763); the LTSB 2016 (1607, 14393) images
# that labs keep often run it, but nobody tests there.
QT6_SUPPORTED_BUILD = 17763

# A "4 GB" PC reports 3.7-3.9 GiB total: firmware and integrated graphics reserve the rest.
MEMORY_PASS_BYTES = int(3.5 * GIB)
MEMORY_WARN_BYTES = int(1.75 * GIB)

# Answers take kilobytes; the paper package (listening audio), logs, evidence photos and
# the database journal take tens of megabytes. 500 MiB leaves room for a crash dump too.
DISK_PASS_BYTES = 2 * GIB
DISK_WARN_BYTES = 500 * MIB


@dataclass(frozen=True)
class OsFacts:
    system: str            # platform.system(): "Windows", "Linux", ...
    release: str           # "10", "6.1.0-18-amd64"
    build: int | None      # Windows build number
    description: str       # platform.platform(), for the report
    machine: str = "AMD64"  # platform.machine(): "AMD64", "ARM64", "x86"


def os_facts() -> OsFacts:
    build: int | None = None
    if sys.platform == "win32":
        build = sys.getwindowsversion().build
    return OsFacts(system=platform.system(), release=platform.release(), build=build,
                   description=platform.platform(), machine=platform.machine())


# Builds of the Windows versions the 2025 plan still names, to say which one a PC runs.
_OLD_WINDOWS = ((7600, "Windows 7"), (9200, "Windows 8"), (9600, "Windows 8.1"))


def _old_windows_name(build: int) -> str:
    name = "Windows Vista"
    for first_build, known in _OLD_WINDOWS:
        if build >= first_build:
            name = known
    return name


def evaluate_os(facts: OsFacts) -> CheckResult:
    detail = {"system": facts.system, "release": facts.release, "build": facts.build,
              "platform": facts.description, "machine": facts.machine}
    if facts.system != "Windows" or facts.build is None:
        return CheckResult("os", Status.WARN, _(
            "操作系统为 {platform}，不是考点使用的 Windows，仅用于开发和测试").format(
                platform=facts.description), detail)
    if facts.build < WINDOWS_10_BUILD:
        return CheckResult("os", Status.FAIL, _(
            "{name}（内部版本 {build}）不能用于考试：考试客户端只支持 64 位的 Windows 10"
            "（1809 及以上）和 Windows 11，因为它的图形界面库 Qt 6 和 Python 已不支持 "
            "Windows 7/8/8.1。请将此电脑升级到 64 位 Windows 10/11，或换用符合要求的电脑"
            ).format(name=_old_windows_name(facts.build), build=facts.build), detail)
    if facts.machine.lower() in ("x86", "i386", "i686"):
        return CheckResult("os", Status.FAIL, _(
            "本机为 32 位 Windows（内部版本 {build}）：考试客户端只支持 64 位的 Windows 10"
            "（1809 及以上）和 Windows 11，Qt 6 没有 32 位版本。请安装 64 位 Windows（需 64 位"
            "处理器和至少 4 GB 内存），或换用符合要求的电脑").format(build=facts.build), detail)
    name = "Windows 11" if facts.build >= WINDOWS_11_BUILD else "Windows 10"
    if facts.build < QT6_SUPPORTED_BUILD:
        return CheckResult("os", Status.WARN, _(
            "{name}（内部版本 {build}）早于 1809 版，图形界面库未在此版本上测试，"
            "请在考前完整试考一次").format(name=name, build=facts.build), detail)
    return CheckResult("os", Status.PASS, _("{name}（内部版本 {build}）").format(
        name=name, build=facts.build), detail)


def evaluate_memory(*, total_bytes: int, available_bytes: int) -> CheckResult:
    detail = {"total_bytes": total_bytes, "available_bytes": available_bytes}
    total = total_bytes / GIB
    if total_bytes < MEMORY_WARN_BYTES:
        return CheckResult("memory", Status.FAIL, _(
            "内存只有 {total:.1f} GB，考试客户端至少需要 2 GB，建议 4 GB").format(total=total),
            detail)
    if total_bytes < MEMORY_PASS_BYTES:
        return CheckResult("memory", Status.WARN, _(
            "内存 {total:.1f} GB，低于建议的 4 GB：考试时请关闭其他程序").format(total=total),
            detail)
    return CheckResult("memory", Status.PASS, _("内存 {total:.1f} GB（可用 {free:.1f} GB）").format(
        total=total, free=available_bytes / GIB), detail)


def check_memory() -> CheckResult:
    memory = psutil.virtual_memory()
    return evaluate_memory(total_bytes=int(memory.total), available_bytes=int(memory.available))


def existing_ancestor(path: Path) -> Path:
    """The folder itself or its nearest existing parent (the data folder may not exist yet)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def evaluate_disk(*, path: Path, free_bytes: int) -> CheckResult:
    detail = {"path": str(path), "free_bytes": free_bytes}
    free = free_bytes / GIB
    if free_bytes < DISK_WARN_BYTES:
        return CheckResult("disk", Status.FAIL, _(
            "数据目录所在磁盘只剩 {free:.2f} GB，至少需要 0.5 GB：请清理磁盘或换一个数据目录"
        ).format(free=free), detail)
    if free_bytes < DISK_PASS_BYTES:
        return CheckResult("disk", Status.WARN, _(
            "数据目录所在磁盘剩余 {free:.2f} GB，建议至少 2 GB").format(free=free), detail)
    return CheckResult("disk", Status.PASS, _("数据目录所在磁盘剩余 {free:.1f} GB").format(
        free=free), detail)


def check_disk(data_dir: Path) -> CheckResult:
    probe = existing_ancestor(data_dir)
    return evaluate_disk(path=data_dir, free_bytes=shutil.disk_usage(probe).free)


def system_drive() -> str | None:
    """``C:`` on Windows (from the environment every Windows process gets), else None."""
    if sys.platform != "win32":
        return None
    return os.environ.get("SYSTEMDRIVE", "C:")  # Windows names are case-insensitive


def is_on_drive(path: Path | str, drive: str) -> bool:
    return PureWindowsPath(str(path)).drive.casefold() == drive.casefold()


def probe_writable(directory: Path) -> str | None:
    """Create the folder if needed and write, flush and delete a file; None or the error."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".readiness-") as handle:
            handle.write(b"ready")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def evaluate_data_dir(*, path: Path, configured: bool, write_error: str | None,
                      system_drive: str | None) -> CheckResult:
    detail: dict[str, object] = {"path": str(path), "configured": configured,
                                 "write_error": write_error, "system_drive": system_drive}
    if write_error is not None:
        return CheckResult("data_dir", Status.FAIL, _(
            "无法写入数据目录 {path}：请管理员给考生账户该目录的修改权限，或在 user.ini 的 "
            "[data] directory 中换一个目录").format(path=path), detail)
    if system_drive is not None and is_on_drive(path, system_drive):
        return CheckResult("data_dir", Status.WARN, _(
            "数据目录 {path} 在系统盘 {drive}：若机房装有还原卡/还原软件，重启后答案数据会被清空。"
            "请在 user.ini 的 [data] directory 中指定不被还原的分区（如 D:\\ExamClientData）"
        ).format(path=path, drive=system_drive), detail)
    if not configured:
        return CheckResult("data_dir", Status.PASS, _(
            "数据目录 {path}（默认位置）可写入").format(path=path), detail)
    return CheckResult("data_dir", Status.PASS, _("数据目录 {path} 可写入").format(path=path),
                       detail)


def check_data_dir(data_dir: Path, *, configured: bool) -> CheckResult:
    return evaluate_data_dir(path=data_dir, configured=configured,
                             write_error=probe_writable(data_dir), system_drive=system_drive())


# -- exam-day Windows settings ------------------------------------------------------------

# The hours a lab PC must not sleep, blank or restart on an exam day (08:00-18:00 covers
# morning, afternoon and make-up sessions); Windows allows active hours of up to 18 h.
EXAM_DAY_START_HOUR = 8
EXAM_DAY_END_HOUR = 18


@dataclass(frozen=True)
class ExamDaySettings:
    """What Windows will do on its own during an exam; None = could not be read (or not
    Windows). Timeouts in seconds, 0 = never."""

    sleep_after_s: int | None = None
    hibernate_after_s: int | None = None
    display_off_after_s: int | None = None
    screen_saver_active: bool | None = None
    screen_saver_after_s: int | None = None
    active_hours_start: int | None = None  # Windows Update: no automatic restart between
    active_hours_end: int | None = None    # these hours (0-23)
    no_auto_restart_with_user: bool | None = None  # policy NoAutoRebootWithLoggedOnUsers


def active_hours_cover(start: int, end: int, *, first: int, last: int) -> bool:
    """Do active hours [start, end) (they may wrap past midnight) cover [first, last)?"""
    hours = {(start + offset) % 24 for offset in range((end - start) % 24 or 24)}
    return all(hour in hours for hour in range(first, last))


def evaluate_exam_day(facts: ExamDaySettings, *, is_windows: bool) -> CheckResult:
    """Sleep, hibernation, screen saver and Windows Update restarts during the exam day."""
    detail = {key: getattr(facts, key) for key in facts.__dataclass_fields__}
    if not is_windows:
        return CheckResult("exam_day", Status.PASS, _(
            "考试日 Windows 设置（睡眠、屏保、更新重启）只在 Windows 上检查"), detail)
    problems: list[str] = []
    if facts.sleep_after_s:
        problems.append(_("接通电源 {minutes} 分钟后睡眠").format(
            minutes=facts.sleep_after_s // 60))
    if facts.hibernate_after_s:
        problems.append(_("接通电源 {minutes} 分钟后休眠").format(
            minutes=facts.hibernate_after_s // 60))
    if facts.screen_saver_active and facts.screen_saver_after_s:
        problems.append(_("{minutes} 分钟后启动屏幕保护程序").format(
            minutes=facts.screen_saver_after_s // 60))
    if not facts.no_auto_restart_with_user:
        start, end = facts.active_hours_start, facts.active_hours_end
        if start is None or end is None:
            problems.append(_("未设置 Windows 更新的使用时段，更新后可能在考试中自动重启"))
        elif not active_hours_cover(start, end, first=EXAM_DAY_START_HOUR,
                                    last=EXAM_DAY_END_HOUR):
            problems.append(_("Windows 更新的使用时段为 {start}:00–{end}:00，没有覆盖考试日 "
                              "{first}:00–{last}:00，更新后可能自动重启").format(
                start=start, end=end, first=EXAM_DAY_START_HOUR, last=EXAM_DAY_END_HOUR))
    unreadable = facts.sleep_after_s is None and facts.screen_saver_active is None
    if problems:
        return CheckResult("exam_day", Status.WARN, _(
            "考试日 Windows 设置：{problems}。请按部署指南第 13 节统一设置").format(
            problems="；".join(problems)), detail)
    if unreadable:
        return CheckResult("exam_day", Status.WARN, _(
            "无法读取本机的睡眠和屏保设置，请按部署指南第 13 节人工确认"), detail)
    return CheckResult("exam_day", Status.PASS, _(
        "考试日 Windows 设置正常：不睡眠、无屏保、更新不会在考试时段重启"), detail)


def check_exam_day() -> CheckResult:
    from client.readiness.windows_settings import read_exam_day_settings

    return evaluate_exam_day(read_exam_day_settings(), is_windows=sys.platform == "win32")
