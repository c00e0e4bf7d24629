"""Checks of the PC itself, decided from the numbers lab PCs report."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from client.readiness.result import Status
from client.readiness.system import (
    GIB,
    MIB,
    ExamDaySettings,
    OsFacts,
    active_hours_cover,
    check_data_dir,
    check_disk,
    check_exam_day,
    evaluate_data_dir,
    evaluate_disk,
    evaluate_exam_day,
    evaluate_memory,
    evaluate_os,
    existing_ancestor,
    is_on_drive,
)


def windows(build: int) -> OsFacts:
    return OsFacts(system="Windows", release="10", build=build,
                   description=f"Windows-10-10.0.{build}-SP0")


@pytest.mark.parametrize(("build", "status", "name"), [
    (7601, Status.FAIL, "Windows 7"),      # Windows 7 SP1
    (9600, Status.FAIL, "Windows 8.1"),
    (14393, Status.WARN, "Windows 10"),    # LTSB 2016, common on lab images
    (19045, Status.PASS, "Windows 10"),    # 22H2
    (22631, Status.PASS, "Windows 11"),    # reports major version 10 too
])
def test_windows_versions(build: int, status: Status, name: str) -> None:
    result = evaluate_os(windows(build))
    assert result.status is status
    assert str(build) in result.message
    if status is not Status.FAIL:
        assert name in result.message
    else:
        assert "Windows 10" in result.message  # says what is needed


def test_a_non_windows_system_is_named_and_only_for_testing() -> None:
    result = evaluate_os(OsFacts(system="Linux", release="6.1.0", build=None,
                                 description="Linux-6.1.0-amd64-x86_64-with-glibc2.36"))
    assert result.status is Status.WARN
    assert "Linux-6.1.0" in result.message


@pytest.mark.parametrize(("total", "status"), [
    (int(1.5 * GIB), Status.FAIL),
    (2 * GIB, Status.WARN),
    (int(3.4 * GIB), Status.WARN),
    (int(3.8 * GIB), Status.PASS),   # a "4 GB" PC after firmware/graphics reservations
    (16 * GIB, Status.PASS),
])
def test_memory_thresholds(total: int, status: Status) -> None:
    assert evaluate_memory(total_bytes=total, available_bytes=total // 2).status is status


@pytest.mark.parametrize(("free", "status"), [
    (100 * MIB, Status.FAIL), (800 * MIB, Status.WARN), (5 * GIB, Status.PASS)])
def test_disk_thresholds(free: int, status: Status) -> None:
    assert evaluate_disk(path=Path("D:/ExamClientData"), free_bytes=free).status is status


def test_free_disk_is_measured_where_the_data_folder_will_be(tmp_path: Path) -> None:
    not_yet_created = tmp_path / "a" / "b" / "data"
    assert existing_ancestor(not_yet_created) == tmp_path
    result = check_disk(not_yet_created)
    assert result.detail["free_bytes"] > 0
    assert not not_yet_created.exists()  # measuring does not create it


def test_a_writable_data_folder_passes_and_is_created(tmp_path: Path) -> None:
    folder = tmp_path / "ExamClientData"
    result = check_data_dir(folder, configured=True)
    assert result.status is Status.PASS
    assert folder.is_dir()
    assert list(folder.iterdir()) == []  # the probe file is gone


def test_an_unwritable_data_folder_fails_with_the_path_and_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = check_data_dir(blocker / "data", configured=True)
    assert result.status is Status.FAIL
    assert str(blocker / "data") in result.message
    assert "[data] directory" in result.message
    assert result.detail["write_error"]


def test_a_data_folder_on_the_system_drive_warns_about_restore_software() -> None:
    result = evaluate_data_dir(path=Path("C:/Users/kaosheng/AppData/Local/ExamClient"),
                               configured=False, write_error=None, system_drive="C:")
    assert result.status is Status.WARN
    assert "还原" in result.message
    on_d = evaluate_data_dir(path=Path("D:/ExamClientData"), configured=True,
                             write_error=None, system_drive="C:")
    assert on_d.status is Status.PASS


def test_drive_comparison_uses_windows_rules() -> None:
    assert is_on_drive(r"c:\ProgramData\ExamClient", "C:")
    assert not is_on_drive(r"D:\ExamClientData", "C:")
    assert not is_on_drive(r"\\server\share\data", "C:")


@pytest.mark.skipif(sys.platform == "win32", reason="Linux has no system drive letter")
def test_no_system_drive_warning_off_windows(tmp_path: Path) -> None:
    result = check_data_dir(tmp_path / "data", configured=False)
    assert result.status is Status.PASS
    assert result.detail["system_drive"] is None


# -- exam-day Windows settings (issue 14) --------------------------------------------------

def exam_day(**changes: object) -> ExamDaySettings:
    """A lab PC set up as docs/deploy.md section 13 says, with *changes*."""
    ready = ExamDaySettings(sleep_after_s=0, hibernate_after_s=0, display_off_after_s=0,
                            screen_saver_active=False, screen_saver_after_s=600,
                            active_hours_start=7, active_hours_end=21,
                            no_auto_restart_with_user=None)
    return replace(ready, **changes)  # type: ignore[arg-type]


def test_a_room_set_up_for_the_exam_day_passes() -> None:
    assert evaluate_exam_day(exam_day(), is_windows=True).status is Status.PASS
    # the restart policy makes active hours irrelevant
    policy = exam_day(active_hours_start=None, active_hours_end=None,
                      no_auto_restart_with_user=True)
    assert evaluate_exam_day(policy, is_windows=True).status is Status.PASS


@pytest.mark.parametrize(("changes", "words"), [
    ({"sleep_after_s": 1800}, "30 分钟后睡眠"),
    ({"hibernate_after_s": 3600}, "60 分钟后休眠"),
    ({"screen_saver_active": True, "screen_saver_after_s": 300}, "5 分钟后启动屏幕保护程序"),
    ({"active_hours_start": None, "active_hours_end": None}, "未设置 Windows 更新的使用时段"),
    ({"active_hours_start": 8, "active_hours_end": 17}, "8:00–17:00"),
])
def test_each_setting_that_would_interrupt_an_exam_warns(changes: dict[str, object],
                                                         words: str) -> None:
    result = evaluate_exam_day(exam_day(**changes), is_windows=True)
    assert result.status is Status.WARN
    assert words in result.message
    assert "第 13 节" in result.message


def test_unreadable_settings_ask_for_a_manual_check() -> None:
    result = evaluate_exam_day(exam_day(sleep_after_s=None, screen_saver_active=None),
                               is_windows=True)
    assert result.status is Status.WARN and "人工确认" in result.message


@pytest.mark.parametrize(("start", "end", "covered"), [
    (8, 18, True), (7, 21, True), (9, 18, False), (8, 17, False),
    (20, 19, True),   # wraps past midnight
    (18, 8, False),   # night hours only
])
def test_active_hours_cover_the_exam_day(start: int, end: int, covered: bool) -> None:
    assert active_hours_cover(start, end, first=8, last=18) is covered


def test_the_check_runs_on_any_platform() -> None:
    result = check_exam_day()
    assert result.name == "exam_day"
    if sys.platform != "win32":
        assert result.status is Status.PASS and "只在 Windows 上检查" in result.message
