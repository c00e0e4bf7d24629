"""The lockdown on Linux with what Qt offers: a frameless full-screen window on the primary
screen that the candidate cannot close or minimise during the exam, focus losses counted,
shown in the notice slot and recorded, the clipboard kept empty of other programs' text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLineEdit
from screen_support import offline_window, show_page

from client.lockdown.policy import Profile
from client.ui.lockdown_guard import present_full_screen

pytestmark = pytest.mark.qt


@pytest.fixture
def exam_window(qtbot: Any, tmp_path: Path) -> Any:
    window = offline_window(qtbot, tmp_path)
    present_full_screen(window)
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    yield window
    window.lockdown.release()


def test_full_screen_frameless_on_the_primary_screen(exam_window: Any) -> None:
    assert exam_window.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert exam_window.isFullScreen()
    screen = QGuiApplication.primaryScreen()
    assert exam_window.windowHandle().screen() is screen
    assert exam_window.geometry() == screen.geometry()


def test_the_candidate_cannot_close_or_minimise_during_the_exam(qtbot: Any,
                                                                exam_window: Any) -> None:
    show_page(exam_window, "exam")
    guard = exam_window.lockdown
    assert guard.engaged and guard.profile is Profile.STRICT
    exam_window.windowHandle().close()  # what the taskbar's close asks for
    exam_window.close()
    qtbot.wait(20)
    assert exam_window.isVisible()
    exam_window.showMinimized()
    qtbot.waitUntil(lambda: exam_window.isFullScreen() and not exam_window.isMinimized())
    show_page(exam_window, "result")  # submitted: the lockdown ends
    assert not guard.engaged


def test_focus_loss_is_counted_shown_and_the_clipboard_emptied(qtbot: Any,
                                                               exam_window: Any) -> None:
    clipboard = QApplication.clipboard()
    clipboard.setText("copied before the exam")
    show_page(exam_window, "exam")
    guard = exam_window.lockdown
    assert clipboard.text() == ""  # emptied at the start
    # Another program takes the foreground (a top-level window that is not the exam's).
    other = QLineEdit()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: guard.focus_log.away)
    clipboard.setText("answers from a chat window")  # filled while the exam is away
    qtbot.waitUntil(lambda: clipboard.text() == "")
    assert guard.focus_log.focus_losses == 1
    assert guard.notice is not None and "第 1 次" in guard.notice.text()
    assert exam_window.exam_page.isAncestorOf(guard.notice)
    # The page does not move when the notice appears: the slot had its height already.
    exam_window.activateWindow()
    qtbot.waitUntil(lambda: not guard.focus_log.away)
    event = guard.focus_log.events[0]
    assert event.kind == "focus_lost" and event.away_ms is not None
    # Copying inside the exam is allowed while it has the focus.
    clipboard.setText("own text")
    qtbot.wait(20)
    assert clipboard.text() == "own text"
    # The exam's own dialogs are not a focus loss.
    from client.ui.submit_dialog import SubmitDialog

    dialog = SubmitDialog(unanswered=[], total=8, parent=exam_window)
    dialog.open()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    qtbot.wait(20)
    assert guard.focus_log.focus_losses == 1
    dialog.reject()
    show_page(exam_window, "result")
    assert clipboard.text() == ""  # emptied at the end


def test_notice_slot_keeps_the_page_still(qtbot: Any, exam_window: Any) -> None:
    show_page(exam_window, "exam")
    page = exam_window.exam_page
    qtbot.wait(10)
    before = page.stack.mapTo(page, page.stack.rect().topLeft())
    page.show_message("无法播放音频：请检查耳机")
    from PySide6.QtWidgets import QLabel

    notice = QLabel("摄像头提示")
    page.insert_notice(notice)
    qtbot.wait(10)
    assert page.stack.mapTo(page, page.stack.rect().topLeft()) == before
    assert page.save_state.text() == "答案已保存到本机"  # the save slot is not used for it


def test_every_window_of_the_exam_is_kept_out_of_screen_capture(qtbot: Any,
                                                                exam_window: Any) -> None:
    """The submit dialog, the proctor panel and a message box over it are windows of their
    own: each is excluded from capture as it is shown during the exam (on Windows with
    SetWindowDisplayAffinity; here the window handles the adapter is called with)."""
    from PySide6.QtWidgets import QMessageBox

    from client.proctor.proctor_log import ProctorLog
    from client.proctor.proctor_mode import ProctorMode
    from client.proctor.verifiers import ProctorVerifierSet
    from client.ui.lockdown_guard import CaptureExclusion
    from client.ui.proctor_panel import ProctorPanel
    from client.ui.submit_dialog import SubmitDialog

    class Events:
        def append(self, kind: str, payload: object) -> None:
            pass

    handles: list[int] = []

    def protect(hwnd: int) -> str:
        handles.append(hwnd)
        return "exclude_from_capture"

    guard = exam_window.lockdown
    guard.capture = CaptureExclusion(exam_window, protect)
    early = SubmitDialog(unanswered=[], total=8, parent=exam_window)
    early.open()  # open before the exam starts: protected when it does
    qtbot.waitExposed(early)
    assert handles == []
    show_page(exam_window, "exam")
    early_handle = int(early.winId())
    assert handles == [early_handle]
    early.reject()

    submit = SubmitDialog(unanswered=[1], total=8, parent=exam_window)
    submit.open()
    qtbot.waitExposed(submit)
    panel = ProctorPanel(
        mode=ProctorMode(verifiers=ProctorVerifierSet([]),
                         log=ProctorLog(sink=Events(), server_time_ms=lambda: None)),
        candidate_status=lambda: None, export=lambda folder: None,
        on_authorize_relogin=lambda who: None, locations=lambda: [], parent=exam_window)
    panel.open()
    qtbot.waitExposed(panel)
    box = QMessageBox(QMessageBox.Icon.Question, "退出", "?", QMessageBox.StandardButton.No,
                      panel)
    box.open()
    qtbot.waitExposed(box)
    other = QLineEdit()  # another program's window is none of the exam's business
    qtbot.addWidget(other)
    other.show()
    qtbot.waitExposed(other)
    assert set(handles) == {early_handle, int(submit.winId()), int(panel.winId()),
                            int(box.winId())}
    assert int(other.winId()) not in handles
    for dialog in (box, panel, submit):
        dialog.hide()
    show_page(exam_window, "result")  # the exam is over: nothing more to protect
    later = SubmitDialog(unanswered=[], total=8, parent=exam_window)
    later.open()
    qtbot.waitExposed(later)
    assert int(later.winId()) not in handles
    later.reject()


def test_a_second_display_plugged_in_is_recorded_and_the_exam_stays_on_the_primary(
        qtbot: Any, exam_window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Offscreen Qt has one screen and cannot add one: the count Qt reports is replaced
    # (Qt's own list, not our code), and Qt's real screenAdded/screenRemoved signals fire.
    show_page(exam_window, "exam")
    guard = exam_window.lockdown
    app = QApplication.instance()
    primary = QGuiApplication.primaryScreen()
    monkeypatch.setattr(QGuiApplication, "screens", staticmethod(lambda: [primary, primary]))
    app.screenAdded.emit(primary)
    qtbot.waitUntil(lambda: guard.notice is not None and "1 → 2" in guard.notice.text())
    assert exam_window.isFullScreen()
    assert exam_window.windowHandle().screen() is primary
    assert exam_window.geometry() == primary.geometry()
    monkeypatch.setattr(QGuiApplication, "screens", staticmethod(lambda: [primary]))
    app.screenRemoved.emit(primary)
    qtbot.waitUntil(lambda: "2 → 1" in guard.notice.text())
    changes = [e for e in guard.focus_log.events if e.kind == "display_changed"]
    assert [(e.detail["from"], e.detail["to"]) for e in changes] == [(1, 2), (2, 1)]
    assert guard.focus_log.focus_losses == 0  # a display change is not 切屏
