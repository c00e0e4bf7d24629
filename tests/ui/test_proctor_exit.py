"""The proctor's way out of a broken PC mid-exam: the lockdown refuses every close, so the
only orderly exit is the unlocked proctor panel's 退出考试客户端. It asks first (without a
nested event loop), logs who did it (the log reaches the server), ends the lockdown as at
the end of an exam, forgets the resume ticket and closes the client; the answers stay in
this PC's store and come back with the next login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from ui_support import log_in, open_window

from client.session.resume import ticket_path
from client.ui.main_window import ExamWindow
from server.offline_import import PROCTOR_EVENT_KIND
from server.testing import LiveServer, live_server

# Two logins on a live server (about 10 s here; more on a busy PC).
pytestmark = [pytest.mark.qt, pytest.mark.slow]



def in_the_exam(qtbot: Any, server: LiveServer, data_dir: Path) -> ExamWindow:
    demo = server.demo
    assert demo is not None
    window = open_window(qtbot, server, data_dir, integrity=None)
    log_in(qtbot, window, demo.username, demo.password)
    qtbot.waitUntil(lambda: window.current_page == "exam", timeout=30_000)
    return window


def unlocked_panel(qtbot: Any, window: ExamWindow, server: LiveServer) -> Any:
    assert server.demo is not None
    window.open_proctor_panel()
    panel = window.proctor_panel
    assert panel is not None
    # Locked, the panel offers a password prompt and nothing else: no way out for a
    # candidate who found the shortcut.
    assert not panel.exit_button.isVisibleTo(panel)
    panel.name_edit.setText(server.demo.proctor_name)
    panel.password_edit.setText(server.demo.proctor_password)
    qtbot.mouseClick(panel.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.is_unlocked, timeout=20_000)
    assert panel.exit_button.isVisibleTo(panel)
    return panel


def test_the_proctor_closes_a_running_exam_and_the_answers_come_back(
        qtbot: Any, tmp_path: Path, pc_keyring: Path) -> None:
    data_dir = tmp_path / "pc"
    with live_server(tmp_path / "server", demo=True, start_in_s=1, duration_s=1800) as server:
        demo = server.demo
        assert demo is not None
        window = in_the_exam(qtbot, server, data_dir)
        guard = window.lockdown
        page = window.exam_page
        assert page is not None and guard.engaged
        pane = page.panes[0]
        option = pane.item.options[1].id
        qtbot.mouseClick(pane.editor.button(option), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "已保存" in page.save_state.text()
                        or "已同步" in page.save_state.text(), timeout=10_000)
        assert ticket_path(data_dir).is_file()

        # The candidate cannot close the window (Alt+F4, the taskbar).
        window.windowHandle().close()
        window.close()
        qtbot.wait(20)
        assert window.isVisible() and guard.engaged

        panel = unlocked_panel(qtbot, window, server)
        qtbot.mouseClick(panel.exit_button, Qt.MouseButton.LeftButton)
        box = panel.exit_dialog
        assert isinstance(box, QMessageBox) and box.isVisible()
        text = box.text()
        assert "答案已保存在本机" in text and "授权" in text and "另一台电脑" in text
        assert "计时不会暂停" in text
        # Cancelled, nothing happens.
        box.reject()
        qtbot.wait(20)
        assert window.isVisible() and guard.engaged and panel.isVisible()

        qtbot.mouseClick(panel.exit_button, Qt.MouseButton.LeftButton)
        box = panel.exit_dialog
        assert box is not None
        confirm = next(button for button in box.buttons()
                       if button.objectName() == "exitConfirmButton")
        assert box.defaultButton() is not confirm  # Enter does not close an exam
        qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
        assert not guard.engaged  # released as at the end of the exam
        assert not panel.isVisible()
        assert not ticket_path(data_dir).exists()  # left on purpose: no automatic resume
        assert "resume:" not in (pc_keyring.read_text() if pc_keyring.exists() else "")

        # Who closed it reached the server (proctor log), with the proctor's name.
        events = [event.payload for event in server.db.events(kind=PROCTOR_EVENT_KIND)]
        exits = [event for event in events if event["kind"] == "proctor.client_exited"]
        assert len(exits) == 1 and exits[0]["detail"]["name"] == demo.proctor_name

        # The next login on this PC gets the saved answers back.
        again = in_the_exam(qtbot, server, data_dir)
        try:
            assert again.exam_page is not None
            assert again.exam_page.answers[pane.item.id] == option
            assert QApplication.activeModalWidget() is None
        finally:
            again.shutdown()
