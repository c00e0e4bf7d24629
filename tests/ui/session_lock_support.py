"""What the screen-lock tests share: the exam window in front with its lockdown engaged,
another program taking the activation, and a session notice fed as Windows sends it."""

from __future__ import annotations

import ctypes
import ctypes.wintypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QLineEdit
from screen_support import offline_window, show_page

from client.lockdown.away_time import away_totals
from client.lockdown.windows import session_notify as wn
from client.ui.lockdown_guard import present_full_screen
from client.ui.session_events import SessionEventFilter


def exam_in_front(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    """The body of an ``exam_window`` fixture: the exam page, full screen, active."""
    window = offline_window(qtbot, tmp_path)
    present_full_screen(window)
    qtbot.waitExposed(window)
    back_to(qtbot, window)
    show_page(window, "exam")
    assert window.lockdown.engaged
    yield window
    window.lockdown.release()


def take_front(qtbot: Any) -> QLineEdit:
    """A top-level window that is not the exam's takes the activation."""
    other = QLineEdit()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is other)
    return other


def back_to(qtbot: Any, window: Any) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def windows_says(guard: Any, wparam: int, *, message: int = wn.WM_WTSSESSION_CHANGE,
                 session: int | None = None,
                 own_session: int | None = None) -> tuple[bool, int]:
    """What Qt's event dispatcher does with a message Windows posts: the native filter
    (the one the guard installs on Windows) gets the MSG's address. *session* is the
    notice's session id (lParam); *own_session* the exam's, when the filter checks it."""
    msg = ctypes.wintypes.MSG()
    msg.message, msg.wParam = message, wparam
    if session is not None:
        msg.lParam = session
    result: tuple[bool, int] = SessionEventFilter(
        guard.session_changed, own_session=own_session).nativeEventFilter(
        b"windows_generic_MSG", ctypes.addressof(msg))
    return result


def proctor_line(window: Any) -> str:
    return str(away_totals(window._focus_records()).proctor_text())
