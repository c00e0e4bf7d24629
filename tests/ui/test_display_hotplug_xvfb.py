"""A second monitor plugged in and unplugged mid-exam on a real X server (Xvfb, the xcb
platform): Qt's own screenAdded / screenRemoved, from the X server's RandR notice, not
emitted by the test. The exam window stays full screen on the primary display, the page
and the answers stay, each change is recorded and shown, and none is 切屏. A projector
extending the desktop to the right and one mirroring it (overlapping the primary).

Runs when the tests run under xcb: scripts/test.sh runs this file with xvfb-run
(QT_QPA_PLATFORM=xcb); under offscreen it is skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from screen_support import offline_window, show_page
from test_screen_layout import cut_off_controls
from xrandr_monitors import XDisplay

from client.ui.input_simulation import type_text
from client.ui.lockdown_guard import present_full_screen

pytestmark = [pytest.mark.qt]


@pytest.fixture
def x_display() -> Iterator[XDisplay]:
    if QGuiApplication.platformName() != "xcb":
        pytest.skip("needs a real X server (scripts/test.sh runs it under xvfb-run)")
    display = XDisplay()
    if display.randr_version() < (1, 5):
        display.close()
        pytest.skip("the X server has no RandR 1.5 monitors")
    display.mark_first_output_primary()
    yield display
    display.close()


@pytest.fixture
def exam_window(qtbot: Any, tmp_path: Path, x_display: XDisplay) -> Iterator[Any]:
    window = offline_window(qtbot, tmp_path)
    present_full_screen(window)
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    show_page(window, "exam")
    yield window
    window.lockdown.release()


@pytest.mark.parametrize(("name", "x"), [("EXTEND", None), ("MIRROR", 0)],
                         ids=["extends-right", "mirrors"])
def test_a_monitor_plugged_in_and_out_mid_exam(qtbot: Any, exam_window: Any,
                                              x_display: XDisplay, name: str,
                                              x: int | None) -> None:
    guard = exam_window.lockdown
    primary = QGuiApplication.primaryScreen()
    page = exam_window.exam_page
    page.show_question(7)
    type_text(page.panes[7].editor.text, "答案先保存在本机。")
    before = (page.current, page.panes[7].editor.value())
    count = len(QGuiApplication.screens())
    left = primary.geometry().width() if x is None else x
    with x_display.monitor_plugged_in(name, x=left, y=0, width=1024, height=768):
        qtbot.waitUntil(lambda: len(QGuiApplication.screens()) == count + 1, timeout=10_000)
        qtbot.waitUntil(lambda: guard.notice is not None
                        and f"{count} → {count + 1}" in guard.notice.text())
        QApplication.processEvents()
        assert QGuiApplication.primaryScreen() is primary  # the X server's choice, kept
        assert exam_window.isFullScreen() and exam_window.isVisible()
        assert exam_window.windowHandle().screen() is primary
        assert exam_window.geometry() == primary.geometry()
        assert cut_off_controls(exam_window) == []
        added = guard.focus_log.events[-1]
        assert (added.kind, added.detail["added"], added.detail["exam_display"]) == (
            "display_changed", [name], primary.name())
    qtbot.waitUntil(lambda: len(QGuiApplication.screens()) == count, timeout=10_000)
    qtbot.waitUntil(lambda: f"{count + 1} → {count}" in guard.notice.text())
    removed = guard.focus_log.events[-1]
    assert removed.detail["removed"] == [name]
    assert exam_window.isFullScreen() and exam_window.windowHandle().screen() is primary
    assert exam_window.geometry() == primary.geometry()
    assert (page.current, page.panes[7].editor.value()) == before
    assert exam_window.exam_page is page
    assert guard.engaged and guard.focus_log.focus_losses == 0
