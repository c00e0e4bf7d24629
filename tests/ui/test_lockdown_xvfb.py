"""The Linux lockdown under a real X server (Xvfb, the xcb platform), against another real
program: a second process that takes the keyboard focus and fills the clipboard, as a
chat window would. Offscreen Qt has one process and no X clipboard owner, so there the
guard's X11 branch (QClipboard.ownsClipboard) never runs; here it does.

Runs when the tests run under xcb: scripts/test.sh runs this file with xvfb-run
(QT_QPA_PLATFORM=xcb); under offscreen it is skipped."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from screen_support import offline_window, show_page

from client.ui.lockdown_guard import present_full_screen

pytestmark = [pytest.mark.qt]

# Another program: a window that takes the input focus (no window manager under Xvfb:
# Qt sets the X input focus itself) and puts text on the clipboard, then stays alive as
# its owner (X11 serves the clipboard from the owning process) until told to quit.
OTHER_PROGRAM = r"""
import sys
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit
app = QApplication(sys.argv)
edit = QLineEdit("chat")
edit.setWindowTitle("chat window")
edit.setGeometry(100, 100, 300, 40)
if "--background" in sys.argv:  # a program in the background: shown, never focused
    edit.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    edit.setWindowFlag(Qt.WindowType.WindowDoesNotAcceptFocus)
edit.show()
def act():
    if "--background" not in sys.argv:
        edit.activateWindow()
        edit.setFocus()
    if "--copy" in sys.argv:
        app.clipboard().setText("answers from a chat window")
        watch.start(50)
    print("ready", flush=True)
def check_owner():
    # The X server tells this program when another client takes the selection.
    if not app.clipboard().ownsClipboard():
        print("lost", flush=True)
        watch.stop()
watch = QTimer()
watch.timeout.connect(check_owner)
QTimer.singleShot(300, act)
QTimer.singleShot(int(sys.argv[1]), app.quit)
sys.exit(app.exec())
"""


@pytest.fixture(autouse=True)
def _xcb_only() -> None:
    if QGuiApplication.platformName() != "xcb":
        pytest.skip("needs a real X server (scripts/test.sh runs it under xvfb-run)")


@pytest.fixture
def exam_window(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    window = offline_window(qtbot, tmp_path)
    present_full_screen(window)
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    show_page(window, "exam")
    yield window
    window.lockdown.release()


class OtherProgram:
    def __init__(self, *args: str, lifetime_ms: int = 8000) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", OTHER_PROGRAM, str(lifetime_ms), *args],
            stdout=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 20
        while "ready" not in self.lines:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise AssertionError("the other program did not start")
            time.sleep(0.02)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def test_full_screen_on_the_x_screen(exam_window: Any) -> None:
    screen = QGuiApplication.primaryScreen()
    assert exam_window.isFullScreen()
    assert exam_window.windowHandle().screen() is screen
    assert exam_window.geometry() == screen.geometry()


def test_another_program_taking_the_focus_is_a_switch(qtbot: Any, exam_window: Any) -> None:
    guard = exam_window.lockdown
    other = OtherProgram()
    try:
        qtbot.waitUntil(lambda: guard.focus_log.away, timeout=10_000)
        assert guard.focus_log.focus_losses == 1
        assert guard.notice is not None and "第 1 次" in guard.notice.text()
        exam_window.activateWindow()
        qtbot.waitUntil(lambda: not guard.focus_log.away, timeout=10_000)
        assert guard.focus_log.events[0].away_ms is not None
    finally:
        other.stop()


def test_another_programs_clipboard_is_emptied_and_the_exams_own_kept(
        qtbot: Any, exam_window: Any) -> None:
    clipboard = QApplication.clipboard()
    other = OtherProgram("--copy")
    try:
        # The exam empties what another program put there: that program is told by the
        # X server that it no longer owns the clipboard.
        qtbot.waitUntil(lambda: "lost" in other.lines, timeout=10_000)
        exam_window.activateWindow()
        qtbot.waitUntil(lambda: not exam_window.lockdown.focus_log.away, timeout=10_000)
    finally:
        other.stop()
    clipboard.setText("copied inside the exam")  # the exam owns it: kept
    qtbot.wait(300)
    assert clipboard.text() == "copied inside the exam"


def test_a_background_program_filling_the_clipboard_while_the_exam_has_the_focus(
        qtbot: Any, exam_window: Any) -> None:
    """The exam keeps the focus (no switch), yet a program in the background (a remote
    tool) puts text on the clipboard: X11 says the exam does not own it, so it is emptied.
    Judged by the focus alone, as offscreen must, it would have stayed for Ctrl+V."""
    other = OtherProgram("--copy", "--background")
    try:
        qtbot.waitUntil(lambda: "lost" in other.lines, timeout=10_000)
        assert exam_window.lockdown.focus_log.focus_losses == 0  # never left the exam
        assert QApplication.clipboard().text() == ""
    finally:
        other.stop()
