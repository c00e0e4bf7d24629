"""The console's actions in the real exam window (offscreen), real server, real HTTP:

- a message from the proctor appears on the exam page as a banner while the candidate
  types into an answer: the focus stays in the answer and the typing goes on; 知道了 makes
  the console show 已读, and the list can be reopened;
- extra time given during the exam moves the window's countdown and says so in a notice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_actions import console_action, room_tiles
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from ui_support import log_in

from client.config import load_settings
from client.session.factory import create_session
from client.ui.answer_editors import FillBlankEditor
from client.ui.app import GuiOptions, build_window
from client.ui.main_window import ExamWindow
from server.testing import LiveServer, live_server

pytestmark = pytest.mark.qt
SHOTS = os.environ.get("EXAM_MESSAGE_SCREENSHOTS")  # scripts/console_client_screenshots.py


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server", demo=True, start_in_s=1, duration_s=3600) as live:
        yield live


def window_for(qtbot: Any, server: LiveServer, data_dir: Path) -> ExamWindow:
    assert server.demo is not None
    settings = load_settings([]).with_overrides({
        "server/url": server.url, "server/center_id": server.demo.center_id,
        "data/directory": data_dir, "server/timeout_seconds": 15,
        "sync/heartbeat_seconds": 0.3})
    window = build_window(create_session(settings), GuiOptions(server_url=server.url))
    qtbot.addWidget(window)
    window.show()
    return window


def into_the_exam(qtbot: Any, window: ExamWindow, server: LiveServer) -> None:
    assert server.demo is not None
    log_in(qtbot, window, server.demo.username, server.demo.password)
    qtbot.waitUntil(lambda: window.current_page == "exam", timeout=60_000)


def test_a_message_is_shown_without_taking_the_focus_from_the_answer(
        qtbot: Any, server: LiveServer, tmp_path: Path) -> None:
    window = window_for(qtbot, server, tmp_path / "pc")
    try:
        into_the_exam(qtbot, window, server)
        page = window.exam_page
        assert page is not None
        index = next(i for i, pane in enumerate(page.panes)
                     if isinstance(pane.editor, FillBlankEditor))
        page.show_question(index, focus_editor=True)
        window.activateWindow()
        field = page.panes[index].editor.fields[0]  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: QApplication.focusWidget() is field, timeout=5_000)
        qtbot.keyClicks(field, "12")

        candidate_id = int(window.session.attempt.login.candidate_id)
        console_action(server, action="message", candidate_ids=[candidate_id],
                       text="请保持安静，不要交头接耳")
        qtbot.waitUntil(lambda: window.message_banner is not None
                        and window.message_banner.isVisible(), timeout=10_000)
        banner = window.message_banner
        assert banner is not None
        assert banner.text.text() == "请保持安静，不要交头接耳"
        assert "监考教师 王老师" in banner.title.text()
        # The candidate was typing: the answer keeps the focus and the keys.
        assert QApplication.focusWidget() is field
        assert QApplication.activeWindow() is window
        qtbot.keyClicks(field, "34")
        assert field.text() == "1234"
        # The console shows 已送达 (the PC's next heartbeat said it holds it).
        qtbot.waitUntil(lambda: room_tiles(server)[0]["messages"][0]["delivered_at_ms"]
                        is not None, timeout=10_000)
        if SHOTS:
            window.grab().save(str(Path(SHOTS) / "client-message-banner.png"))

        # 知道了: read (the console says 已读); the list stays reachable.
        qtbot.mouseClick(banner.read_button, Qt.MouseButton.LeftButton)
        assert QApplication.focusWidget() is field  # a NoFocus button keeps it there
        qtbot.waitUntil(lambda: room_tiles(server)[0]["messages"][0]["read_at_ms"]
                        is not None, timeout=10_000)
        assert banner.isVisible() and not banner.text.isVisible()
        assert "监考消息（1 条）" in banner.title.text()
        qtbot.mouseClick(banner.list_button, Qt.MouseButton.LeftButton)
        assert "请保持安静，不要交头接耳" in banner.history.text()
        assert window.session.unread_messages() == []
    finally:
        window.shutdown()


def test_extra_time_moves_the_windows_countdown_and_says_so(
        qtbot: Any, server: LiveServer, tmp_path: Path) -> None:
    window = window_for(qtbot, server, tmp_path / "pc")
    try:
        into_the_exam(qtbot, window, server)
        page = window.exam_page
        assert page is not None and server.demo is not None
        base_end = server.demo.end_ms
        server.clock.set_now(base_end - 10 * 60_000)  # type: ignore[attr-defined]
        window.session.api.server_time_ms()
        qtbot.waitUntil(lambda: page.timer.text().startswith(("00:09", "00:10")),
                        timeout=5_000)
        before = page.timer.text()
        candidate_id = int(window.session.attempt.login.candidate_id)
        console_action(server, action="extra_time", candidate_id=candidate_id, minutes=30,
                       reason="电脑故障，补足时间")
        qtbot.waitUntil(lambda: window.extra_time_notice is not None, timeout=10_000)
        notice = window.extra_time_notice
        assert notice is not None and "延长考试时间" in notice.text()
        qtbot.waitUntil(lambda: page.timer.text().startswith(("00:39", "00:40")),
                        timeout=5_000)
        assert page.timer.text() != before
        assert window.session.phase.value == "running"
    finally:
        window.shutdown()


def test_a_pause_shows_the_paused_page_with_the_clock_stopped(
        qtbot: Any, server: LiveServer, tmp_path: Path) -> None:
    window = window_for(qtbot, server, tmp_path / "pc")
    try:
        into_the_exam(qtbot, window, server)
        assert server.demo is not None
        base_end = server.demo.end_ms
        server.clock.set_now(base_end - 10 * 60_000)  # type: ignore[attr-defined]
        window.session.api.server_time_ms()
        candidate_id = int(window.session.attempt.login.candidate_id)
        console_action(server, action="pause", candidate_id=candidate_id,
                       reason="考生身体不适，暂时离开")
        qtbot.waitUntil(lambda: window.current_page == "paused", timeout=10_000)
        stopped = window.paused_page.time_left.text()
        assert stopped.startswith(("00:09", "00:10"))
        qtbot.wait(1_500)
        assert window.paused_page.time_left.text() == stopped  # the clock stands still
        assert window.session.paused
        with pytest.raises(Exception, match="暂停"):
            window.session.save_answer("q1", "A")
        if SHOTS:
            window.grab().save(str(Path(SHOTS) / "client-paused.png"))

        # Five minutes later the proctor resumes: the paper is back, the end moved on.
        server.clock.advance(ms=5 * 60_000)
        resumed = console_action(server, action="resume", candidate_id=candidate_id,
                                 reason="考生已返回")
        qtbot.waitUntil(lambda: window.current_page == "exam", timeout=10_000)
        assert window.session.attempt.login.exam.end_ms == resumed["end_ms"]
        assert resumed["end_ms"] - base_end >= 5 * 60_000
        left = window.session.ms_until_end()
        assert left is not None and 9 * 60_000 < left <= 10 * 60_000
        assert window.session.phase.value == "running"
    finally:
        window.shutdown()


def test_a_message_before_the_start_is_shown_on_the_waiting_page(
        qtbot: Any, tmp_path: Path) -> None:
    with live_server(tmp_path / "server", demo=True, start_in_s=600,
                     duration_s=3600) as server:
        window = window_for(qtbot, server, tmp_path / "pc")
        try:
            assert server.demo is not None
            log_in(qtbot, window, server.demo.username, server.demo.password)
            qtbot.waitUntil(lambda: window.current_page == "waiting", timeout=60_000)
            candidate_id = int(window.session.attempt.login.candidate_id)
            console_action(server, action="message", candidate_ids=[candidate_id],
                           text="请把准考证放在桌面左上角")
            qtbot.waitUntil(lambda: window.waiting_message_banner is not None
                            and window.waiting_message_banner.isVisible(), timeout=10_000)
            banner = window.waiting_message_banner
            assert banner is not None and banner.text.text() == "请把准考证放在桌面左上角"
            qtbot.mouseClick(banner.read_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: room_tiles(server)[0]["messages"][0]["read_at_ms"]
                            is not None, timeout=10_000)
        finally:
            window.shutdown()
