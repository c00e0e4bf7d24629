"""A screen lock, suspend or user switch during the exam is recorded as what it is and not
as 切屏: the real exam window loses the activation while a 'locked' period is open (the
lock arriving as Windows sends it, a WM_WTSSESSION_CHANGE MSG through Qt's native event
filter), and the proctor's line tells the two apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from screen_support import offline_window
from session_lock_support import exam_in_front, proctor_line, take_front, windows_says

from client.lockdown.focus import LATE_NOTICE_MS
from client.lockdown.session_change import SessionChange
from client.lockdown.windows import session_notify as wn
from client.ui.lockdown_guard import FOCUS_GRACE_MS

pytestmark = pytest.mark.qt


@pytest.fixture
def exam_window(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    yield from exam_in_front(qtbot, tmp_path)


def test_losing_the_window_while_locked_is_not_a_switch(qtbot: Any, exam_window: Any) -> None:
    guard = exam_window.lockdown
    assert windows_says(guard, wn.WTS_SESSION_LOCK) == (False, 0)
    assert guard.focus_log.interrupted
    other = take_front(qtbot)  # the lock screen has the foreground
    qtbot.wait(FOCUS_GRACE_MS * 3)
    assert not guard.focus_log.away and guard.focus_log.focus_losses == 0
    exam_window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is exam_window)
    assert windows_says(guard, wn.WTS_SESSION_UNLOCK) == (False, 0)
    assert not guard.focus_log.interrupted
    assert [e.kind for e in guard.focus_log.events] == ["session_locked"]
    assert guard.focus_log.events[0].ended_ms is not None
    assert guard.notice is not None and "屏幕锁定已记录" in guard.notice.text()
    assert "不计为离开考试窗口" in guard.notice.text()
    assert proctor_line(exam_window).startswith("未离开考试窗口；锁屏 1 次")
    other.close()


def test_the_deactivation_before_the_lock_notice_is_the_lock(qtbot: Any,
                                                            exam_window: Any) -> None:
    guard = exam_window.lockdown
    take_front(qtbot)  # Windows deactivates first...
    qtbot.waitUntil(lambda: guard.focus_log.away)  # ...long enough to count as 切屏...
    assert guard.focus_log.focus_losses == 1
    assert windows_says(guard, wn.PBT_APMSUSPEND,  # ...then says why
                        message=wn.WM_POWERBROADCAST) == (False, 0)
    assert guard.focus_log.focus_losses == 0 and not guard.focus_log.away
    loss, sleep = guard.focus_log.events
    assert loss.detail["withdrawn"] == "suspended" and sleep.kind == "suspended"
    assert sleep.started_ms == loss.started_ms
    assert windows_says(guard, wn.PBT_APMRESUMEAUTOMATIC,
                        message=wn.WM_POWERBROADCAST) == (False, 0)
    assert proctor_line(exam_window).startswith("未离开考试窗口；睡眠唤醒 1 次")


def test_still_elsewhere_after_the_unlock_is_a_switch(qtbot: Any, exam_window: Any) -> None:
    guard = exam_window.lockdown
    assert windows_says(guard, wn.WTS_SESSION_LOCK) == (False, 0)
    take_front(qtbot)
    # unlocked, and another program in front (unnamed here, as on Linux: it might be the
    # lock screen going away, so it counts once LATE_NOTICE_MS have passed)
    assert windows_says(guard, wn.WTS_SESSION_UNLOCK) == (False, 0)
    qtbot.waitUntil(lambda: guard.focus_log.away, timeout=LATE_NOTICE_MS + 5_000)
    assert guard.focus_log.focus_losses == 1
    assert [e.kind for e in guard.focus_log.events] == ["session_locked", "focus_lost"]


def test_session_messages_before_the_exam_are_ignored(qtbot: Any, tmp_path: Path) -> None:
    window = offline_window(qtbot, tmp_path)
    guard = window.lockdown
    guard.session_changed(SessionChange.LOCKED)
    assert not guard.engaged and guard.focus_log.events == []


def test_a_sleep_qt_reports_is_recorded_as_sleep_not_a_switch(qtbot: Any,
                                                              exam_window: Any) -> None:
    """Where no Windows power message comes (Linux), the platform's application state
    feeds the same decision: Qt's real applicationStateChanged signal, suspended for half
    an hour, then active again, is one 睡眠唤醒 with its time, and no 切屏."""
    guard = exam_window.lockdown
    app = QApplication.instance()
    app.applicationStateChanged.emit(Qt.ApplicationState.ApplicationSuspended)
    assert guard.focus_log.interrupted
    assert guard.notice is not None and "电脑休眠已记录" in guard.notice.text()
    qtbot.wait(FOCUS_GRACE_MS * 2)
    app.applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)
    assert not guard.focus_log.interrupted and guard.focus_log.focus_losses == 0
    (sleep,) = guard.focus_log.events
    assert sleep.kind == "suspended" and sleep.ended_ms is not None
    assert sleep.detail == {"via": "qt"}
    assert proctor_line(exam_window).startswith("未离开考试窗口；睡眠唤醒 1 次")
    # Inactive is the foreground only: after the wake-up a loss counts again.
    other = take_front(qtbot)
    qtbot.waitUntil(lambda: guard.focus_log.focus_losses == 1)
    other.close()
