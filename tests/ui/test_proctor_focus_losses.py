"""The local proctor panel shows how often and how long the candidate left the exam window
in this exam: counted by the real lockdown guard, read back from the exam's store, and
still there after the client is restarted (a restart must not wipe the count)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from ui_support import log_in

from client.config import load_settings
from client.review.services import review_services_for
from client.session.factory import create_session
from client.ui.app import GuiOptions, build_window
from client.ui.main_window import ExamWindow
from server.testing import LiveServer, live_server

pytestmark = pytest.mark.qt


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server", demo=True, start_in_s=1, duration_s=3600) as live:
        yield live


def exam_window(qtbot: Any, server: LiveServer, data_dir: Path) -> ExamWindow:
    """The real window in the exam, with review services as the client runs them."""
    assert server.demo is not None
    settings = load_settings([]).with_overrides({
        "server/url": server.url, "server/center_id": server.demo.center_id,
        "data/directory": data_dir, "server/timeout_seconds": 15})
    window = build_window(create_session(settings), GuiOptions(
        server_url=server.url, review_factory=review_services_for))
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    log_in(qtbot, window, server.demo.username, server.demo.password)
    qtbot.waitUntil(lambda: window.current_page == "exam", timeout=60_000)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def leave_and_come_back(qtbot: Any, window: ExamWindow) -> None:
    guard = window.lockdown
    other = QLineEdit()  # another program's window takes the foreground
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: guard.focus_log.away)
    qtbot.wait(50)
    window.activateWindow()
    qtbot.waitUntil(lambda: not guard.focus_log.away)
    other.close()


def away_line(qtbot: Any, window: ExamWindow, server: LiveServer) -> str:
    assert server.demo is not None
    window.open_proctor_panel()
    panel = window.proctor_panel
    assert panel is not None
    panel.name_edit.setText(server.demo.proctor_name)
    panel.password_edit.setText(server.demo.proctor_password)
    qtbot.mouseClick(panel.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.is_unlocked, timeout=20_000)
    label = panel.status_labels["away"]
    qtbot.waitUntil(lambda: "离开考试窗口" in label.text(), timeout=20_000)
    text = label.text()
    panel.end_proctor_mode()
    return text


def test_proctor_panel_counts_focus_losses_across_a_restart(qtbot: Any, server: LiveServer,
                                                           tmp_path: Path) -> None:
    window = exam_window(qtbot, server, tmp_path / "pc")
    try:
        assert away_line(qtbot, window, server) == "未离开考试窗口"
        leave_and_come_back(qtbot, window)
        leave_and_come_back(qtbot, window)
        assert window.lockdown.focus_log.focus_losses == 2
        line = away_line(qtbot, window, server)
        assert line.startswith("离开考试窗口 2 次，共 ") and line.endswith("秒"), line
        assert "未记录返回" not in line
    finally:
        window.shutdown()  # what quitting the client does (answers and records are durable)
        window.hide()
    restarted = exam_window(qtbot, server, tmp_path / "pc")
    try:
        assert restarted.lockdown.focus_log.focus_losses == 0  # a new run starts at zero
        assert away_line(qtbot, restarted, server).startswith("离开考试窗口 2 次")
    finally:
        restarted.shutdown()


def test_proctor_panel_names_a_user_switch_as_leaving(qtbot: Any, server: LiveServer,
                                                     tmp_path: Path) -> None:
    """Attack review of issue 20: the candidate switches to another Windows user (the
    guard gets the session notices as the native filter delivers them) and comes back; the
    panel on the PC counts it as leaving and names it, read back from the exam's store."""
    from client.lockdown.session_change import SessionChange

    window = exam_window(qtbot, server, tmp_path / "pc")
    try:
        guard = window.lockdown
        guard.session_changed(SessionChange.SWITCHED_AWAY, "console")
        other = QLineEdit()  # what this session shows while another user has the console
        qtbot.addWidget(other)
        other.show()
        other.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is other)
        qtbot.wait(400)
        # Back at the console the exam window is in front first, then the notice comes
        # (the other order raced the guard's 300 ms grace on a loaded machine: the
        # re-activation came later and a second 切屏 was counted).
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        guard.session_changed(SessionChange.SWITCHED_BACK, "console")
        qtbot.waitUntil(lambda: not guard.focus_log.interrupted)
        other.close()
        line = away_line(qtbot, window, server)
        assert line.startswith("离开考试窗口 1 次，共 "), line
        assert line.endswith("（其中切换到其他用户或远程会话 1 次）"), line
    finally:
        window.shutdown()
