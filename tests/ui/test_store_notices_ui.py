"""The proctor sees what happened to this PC's answer store, on the exam page itself.

A candidate answers, the client goes away, the store's main file is damaged (a torn
header after a power cut). Logging in again recovers every answer and the exam page says
so in a notice bar (never a dialog) for the rest of the exam, after checking with the
server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from ui_support import log_in, open_window

from client.session.view_model import store_notices
from client.store.paths import store_paths
from client.ui.checks import IntegrityChecks
from client.ui.main_window import ExamWindow
from server.testing import live_server

pytestmark = pytest.mark.qt


def first_single_choice(window: ExamWindow) -> tuple[int, str, str]:
    page = window.exam_page
    assert page is not None
    for index, item in enumerate(page.items):
        if item.type.value == "single":
            return index, item.id, item.options[0].id
    raise AssertionError("the demo paper has a single-choice item")


def test_a_recovered_store_is_announced_on_the_exam_page(
    qtbot: Any, tmp_path: Path, clean_integrity: IntegrityChecks
) -> None:
    with live_server(tmp_path / "server", demo=True, start_in_s=5, duration_s=1800) as server:
        demo = server.demo
        assert demo is not None
        data_dir = tmp_path / "client"
        window = open_window(qtbot, server, data_dir, integrity=clean_integrity)
        log_in(qtbot, window, demo.username, demo.password)
        qtbot.waitUntil(lambda: window.current_page == "waiting", timeout=15_000)
        # Whatever the store check found at login is on the waiting page too.
        notices = store_notices(window.session)
        qtbot.waitUntil(lambda: all(notice in window.waiting_page.clock_warning.text()
                                    for notice in notices), timeout=5_000)
        qtbot.waitUntil(lambda: window.current_page == "exam", timeout=20_000)
        assert window.store_notice is None or "已恢复" not in window.store_notice.text()

        index, question_id, option = first_single_choice(window)
        page = window.exam_page
        assert page is not None
        page.show_question(index)
        qtbot.mouseClick(page.panes[index].editor.button(option), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "已同步" in page.save_state.text(), timeout=20_000)
        attempt = window.session.attempt.login
        store = store_paths(data_dir, exam_id=attempt.exam.id,
                            candidate_id=attempt.candidate_id).db
        window.shutdown()
        window.close()

        with store.open("r+b") as damaged:  # a torn first page: nothing decrypts
            damaged.write(b"\xa5" * 4096)

        again = open_window(qtbot, server, data_dir, integrity=clean_integrity)
        log_in(qtbot, again, demo.username, demo.password)
        qtbot.waitUntil(lambda: again.current_page == "exam", timeout=30_000)
        report = again.session.recovery_report
        assert report is not None and report.recovered
        # The store was rebuilt before this PC's token was read back from it; the server
        # was asked right after the login, so the notice does not send anyone looking.
        assert report.server_checked and report.server_error is None
        notice = again.store_notice
        assert notice is not None and again.exam_page.isAncestorOf(notice)
        # A widget added to a shown layout is shown by a queued call: wait for the event
        # loop to turn, as a person looking at the screen would.
        qtbot.waitUntil(notice.isVisible, timeout=5_000)
        assert report.message() in notice.text()
        assert "已恢复" in notice.text() and str(store.parent) in notice.text()
        assert "未能连接服务器" not in notice.text()
        assert again.exam_page is not None
        assert again.exam_page.answers[question_id] == option
        # Shown: the report kept for a process that died before showing it is gone.
        assert not (store.parent / "recovery-report.json").exists()
        again.shutdown()
