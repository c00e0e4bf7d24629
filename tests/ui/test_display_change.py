"""The primary screen changes size mid-exam (a projector switched to mirroring, the
resolution or the scaling changed): the full-screen exam window fits the new screen, and
the page, the answers typed, the flag, the zoom and the notice stay as they were.

Offscreen Qt cannot resize its screen, so the real primary QScreen's geometryChanged is
emitted with the new geometry, as Qt does after WM_DISPLAYCHANGE / a RandR event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel
from screen_support import offline_window, show_page
from test_screen_layout import cut_off_controls

from client.ui.answer_editors import EssayEditor, FillBlankEditor
from client.ui.input_simulation import type_text
from client.ui.lockdown_guard import present_full_screen

pytestmark = pytest.mark.qt


def screen_becomes(qtbot: Any, window: Any, geometry: QRect) -> None:
    screen = QGuiApplication.primaryScreen()
    screen.geometryChanged.emit(geometry)
    qtbot.waitUntil(lambda: window.geometry() == geometry)
    QApplication.processEvents()


def test_the_exam_window_refits_a_changed_screen_and_keeps_everything(qtbot: Any,
                                                                      tmp_path: Path) -> None:
    window = offline_window(qtbot, tmp_path)
    present_full_screen(window)
    qtbot.waitExposed(window)
    show_page(window, "exam")
    guard = window.lockdown
    assert guard.engaged
    page = window.exam_page
    page.show_question(6)
    fill_in = page.panes[6].editor
    assert isinstance(fill_in, FillBlankEditor)
    type_text(fill_in.fields[0], "Beijing")
    page.show_question(7)
    essay = page.panes[7].editor
    assert isinstance(essay, EssayEditor)
    type_text(essay.text, "网络中断时，答案先保存在本机。")
    page.toggle_flag()
    page.zoom(+2)
    notice = QLabel("检测到离开考试窗口（第 1 次），已记录并会告知监考教师。")
    notice.setWordWrap(True)
    page.insert_notice(notice)
    before = (page.current, fill_in.value(), essay.value(), page.flagged_numbers(),
              page.font_scale)
    try:
        for width, height in ((1024, 768), (1093, 614), (1920, 1080)):
            screen_becomes(qtbot, window, QRect(0, 0, width, height))
            assert window.isFullScreen() and window.isVisible()
            assert cut_off_controls(window) == [], (width, height)
            assert (page.current, fill_in.value(), essay.value(), page.flagged_numbers(),
                    page.font_scale) == before
            assert window.exam_page is page and notice.isVisibleTo(window)
        assert guard.engaged and guard.focus_log.focus_losses == 0
    finally:
        screen = QGuiApplication.primaryScreen()
        screen.geometryChanged.emit(screen.geometry())  # as it really is, for later tests
        show_page(window, "result")


def test_after_the_exam_the_window_no_longer_follows_the_screen(qtbot: Any,
                                                               tmp_path: Path) -> None:
    window = offline_window(qtbot, tmp_path)
    present_full_screen(window)
    qtbot.waitExposed(window)
    show_page(window, "exam")
    show_page(window, "result")  # released: a resize is the desktop's business again
    before = window.geometry()
    QGuiApplication.primaryScreen().geometryChanged.emit(QRect(0, 0, 1024, 768))
    qtbot.wait(50)
    assert window.geometry() == before
