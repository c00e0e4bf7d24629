"""Attacks on the lock / suspend / user-switch handling of the real exam window (issue
20): session notices fed as Windows sends them (a WM_WTSSESSION_CHANGE MSG through the
guard's native event filter), another top-level window taking the activation, and the
program Windows would name as the foreground one (GetForegroundWindow cannot run here:
the guard's foreground_program stands in for that adapter)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import session_lock_support
from PySide6.QtWidgets import QApplication, QDialog
from session_lock_support import back_to, exam_in_front, proctor_line, take_front

from client.lockdown.windows import session_notify as wn
from client.ui.lockdown_guard import FOCUS_GRACE_MS

pytestmark = pytest.mark.qt

OWN_SESSION = 1


@pytest.fixture
def exam_window(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    yield from exam_in_front(qtbot, tmp_path)


def windows_says(guard: Any, wparam: int, *, session: int = OWN_SESSION,
                 message: int = wn.WM_WTSSESSION_CHANGE) -> None:
    """A notice for *session* (this exam's own unless told), through a filter that knows
    which session is the exam's."""
    session_lock_support.windows_says(guard, wparam, message=message, session=session,
                                      own_session=OWN_SESSION)


def test_a_forged_lock_does_not_hide_word_brought_to_the_front(qtbot: Any,
                                                               exam_window: Any) -> None:
    """A helper program posts WTS_SESSION_LOCK to the exam window while it is in front;
    then Word takes the foreground."""
    guard = exam_window.lockdown
    guard.foreground_program = lambda: "WINWORD.EXE"
    windows_says(guard, wn.WTS_SESSION_LOCK)
    assert guard.focus_log.interrupted
    other = take_front(qtbot)
    qtbot.waitUntil(lambda: guard.focus_log.away, timeout=FOCUS_GRACE_MS * 10)
    back_to(qtbot, exam_window)
    assert guard.focus_log.focus_losses == 1
    assert proctor_line(exam_window).startswith("离开考试窗口 1 次")
    other.close()


def test_a_program_brought_forward_later_in_a_forged_lock_is_seen(qtbot: Any,
                                                                  exam_window: Any) -> None:
    """First nothing named in front (as while Windows changes the foreground), then Word:
    the guard looks again while the "lock" lasts."""
    guard = exam_window.lockdown
    in_front = [""]
    guard.foreground_program = lambda: in_front[0]
    windows_says(guard, wn.WTS_SESSION_LOCK)
    other = take_front(qtbot)
    qtbot.wait(FOCUS_GRACE_MS * 3)
    assert not guard.focus_log.away
    in_front[0] = "WINWORD.EXE"
    word_from = guard.focus_log.now_ms()
    qtbot.waitUntil(lambda: guard.focus_log.away, timeout=FOCUS_GRACE_MS * 10)
    loss = guard.focus_log.events[-1]
    assert loss.detail["during"] == "session_locked"
    assert word_from <= loss.started_ms <= word_from + FOCUS_GRACE_MS * 2  # from then
    other.close()


def test_the_real_lock_screen_in_front_is_still_not_a_switch(qtbot: Any,
                                                              exam_window: Any) -> None:
    guard = exam_window.lockdown
    guard.foreground_program = lambda: "LockApp.exe"
    windows_says(guard, wn.WTS_SESSION_LOCK)
    other = take_front(qtbot)
    qtbot.wait(FOCUS_GRACE_MS * 5)
    back_to(qtbot, exam_window)
    windows_says(guard, wn.WTS_SESSION_UNLOCK)
    assert guard.focus_log.focus_losses == 0
    assert proctor_line(exam_window).startswith("未离开考试窗口；锁屏 1 次")
    other.close()


def test_after_the_unlock_the_time_away_starts_at_the_unlock(qtbot: Any,
                                                            exam_window: Any) -> None:
    """The re-check during the lock must not date a later 切屏 back to the lock."""
    guard = exam_window.lockdown
    guard.foreground_program = lambda: "LockApp.exe"
    windows_says(guard, wn.WTS_SESSION_LOCK)
    other = take_front(qtbot)
    qtbot.wait(FOCUS_GRACE_MS * 3)
    guard.foreground_program = lambda: "chrome.exe"
    unlocked_at = guard.focus_log.now_ms()
    windows_says(guard, wn.WTS_SESSION_UNLOCK)
    qtbot.waitUntil(lambda: guard.focus_log.away, timeout=FOCUS_GRACE_MS * 10)
    _lock, loss = guard.focus_log.events
    assert loss.kind == "focus_lost" and loss.started_ms >= unlocked_at
    assert "during" not in loss.detail
    other.close()


def test_lock_while_the_proctor_dialog_is_open(qtbot: Any, exam_window: Any) -> None:
    """The proctor's dialog (the exam's own window) has the focus when the PC is locked;
    the lock screen takes it; after the unlock the dialog is back in front: no 切屏, the
    lock closed."""
    guard = exam_window.lockdown
    guard.foreground_program = lambda: "LockApp.exe"
    dialog = QDialog(exam_window)
    dialog.setObjectName("proctorPanel")
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    qtbot.wait(FOCUS_GRACE_MS * 2)
    windows_says(guard, wn.WTS_SESSION_LOCK)
    other = take_front(qtbot)
    qtbot.wait(FOCUS_GRACE_MS * 3)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    windows_says(guard, wn.WTS_SESSION_UNLOCK)
    assert not guard.focus_log.interrupted and guard.focus_log.focus_losses == 0
    assert [(e.kind, e.ended_ms is not None) for e in guard.focus_log.events] == [
        ("session_locked", True)]
    dialog.close()
    other.close()


def test_a_user_switch_is_shown_to_the_proctor_as_leaving(qtbot: Any,
                                                          exam_window: Any) -> None:
    guard = exam_window.lockdown
    windows_says(guard, wn.WTS_CONSOLE_DISCONNECT)
    other = take_front(qtbot)
    assert "监考" in guard.notice.text() and "不计" not in guard.notice.text()
    qtbot.wait(FOCUS_GRACE_MS * 3)
    back_to(qtbot, exam_window)
    windows_says(guard, wn.WTS_CONSOLE_CONNECT)
    line = proctor_line(exam_window)
    assert line.startswith("离开考试窗口 1 次") and "切换到其他用户或远程会话 1 次" in line
    switch = guard.focus_log.events[0]
    assert switch.kind == "session_switched" and switch.finding()["severity"] == "block"
    other.close()


def test_a_lock_notice_for_another_session_changes_nothing(qtbot: Any,
                                                           exam_window: Any) -> None:
    guard = exam_window.lockdown
    windows_says(guard, wn.WTS_SESSION_LOCK, session=OWN_SESSION + 4)
    assert not guard.focus_log.interrupted
    other = take_front(qtbot)
    qtbot.waitUntil(lambda: guard.focus_log.away, timeout=FOCUS_GRACE_MS * 10)
    assert guard.focus_log.focus_losses == 1
    other.close()


def test_the_lock_screen_lingering_after_the_unlock_is_not_a_switch(
        qtbot: Any, exam_window: Any) -> None:
    """The unlock notice, then the lock screen still in front for a second (a busy old
    PC) before the exam window is back: no 切屏. Before, the guard counted one whenever
    the exam was not back within its 300 ms grace."""
    guard = exam_window.lockdown
    guard.foreground_program = lambda: "LockApp.exe"
    windows_says(guard, wn.WTS_SESSION_LOCK)
    other = take_front(qtbot)
    qtbot.wait(FOCUS_GRACE_MS * 2)
    windows_says(guard, wn.WTS_SESSION_UNLOCK)
    qtbot.wait(1_000)
    back_to(qtbot, exam_window)
    qtbot.wait(FOCUS_GRACE_MS * 2)
    assert guard.focus_log.focus_losses == 0
    assert [e.kind for e in guard.focus_log.events] == ["session_locked"]
    other.close()


def test_a_program_found_in_front_after_the_unlock_is_still_a_switch(
        qtbot: Any, exam_window: Any) -> None:
    """The lock screen goes, a browser is in front: 切屏, from when it is seen."""
    guard = exam_window.lockdown
    in_front = ["LockApp.exe"]
    guard.foreground_program = lambda: in_front[0]
    windows_says(guard, wn.WTS_SESSION_LOCK)
    other = take_front(qtbot)
    windows_says(guard, wn.WTS_SESSION_UNLOCK)
    qtbot.wait(FOCUS_GRACE_MS * 2)
    assert guard.focus_log.focus_losses == 0
    in_front[0] = "chrome.exe"
    qtbot.waitUntil(lambda: guard.focus_log.focus_losses == 1)
    other.close()


@pytest.mark.attack("lock")
def test_a_renamed_program_passing_for_the_lock_screen_in_a_forged_lock_is_seen(
        qtbot: Any, exam_window: Any) -> None:
    """A helper posts WTS_SESSION_LOCK, then the candidate's own program, copied into the
    profile as LockApp.exe, takes the foreground: the adapter names it by its file (plain
    strings here: the process name, its file, the Windows folder), so it is 切屏."""
    from client.lockdown.foreground import foreground_label

    fake = r"C:\Users\kaosheng\AppData\Local\Temp\LockApp.exe"
    guard = exam_window.lockdown
    guard.foreground_program = lambda: foreground_label(
        name="LockApp.exe", exe_path=fake, windows_dir=r"C:\Windows")
    windows_says(guard, wn.WTS_SESSION_LOCK)
    other = take_front(qtbot)
    qtbot.waitUntil(lambda: guard.focus_log.away, timeout=FOCUS_GRACE_MS * 10)
    back_to(qtbot, exam_window)
    assert guard.focus_log.focus_losses == 1
    assert any(e.detail.get("taken_by") == fake for e in guard.focus_log.events)
    assert proctor_line(exam_window).startswith("离开考试窗口 1 次")
    other.close()
