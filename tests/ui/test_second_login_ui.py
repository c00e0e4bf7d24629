"""A candidate who moved to another PC mid-exam is held on the login page until the
proctor types the one-time authorization code; then the exam continues there."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from ui_support import log_in, open_window

from client.config import load_settings
from client.session.authorization import authorization_code, window_of
from client.session.exam_session import Phase
from client.session.factory import create_session
from server.offline_package import exam_codes
from server.testing import live_server

pytestmark = pytest.mark.qt


def test_proctor_code_lets_the_candidate_in_on_a_second_pc(qtbot: Any, tmp_path: Path) -> None:
    with live_server(tmp_path / "server", demo=True, start_in_s=1, duration_s=1800) as server:
        demo = server.demo
        assert demo is not None
        time.sleep(1.2)
        first_pc = create_session(load_settings([]).with_overrides({
            "server/url": server.url, "server/center_id": demo.center_id,
            "data/directory": tmp_path / "pc-1"}))
        first_pc.login(username=demo.username, password=demo.password)
        first_pc.close()

        window = open_window(qtbot, server, tmp_path / "pc-2", integrity=None)
        log_in(qtbot, window, demo.username, demo.password)
        qtbot.waitUntil(lambda: window.login_page.code_box.isVisible(), timeout=15_000)
        assert window.session.phase is Phase.AUTHORIZING
        assert "非首次登录" in window.login_page.code_message.text()

        window.login_page.code_edit.setText("ABCD2345")  # a wrong code is refused
        qtbot.mouseClick(window.login_page.code_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.login_page.error.isVisible(), timeout=10_000)
        assert window.current_page == "login"

        codes = exam_codes(server.db, server.context.keys, demo.exam_id)
        assert codes is not None
        code = authorization_code(proctor_secret=codes.proctor_secret, exam_id=demo.exam_id,
                                  student_no=demo.username,
                                  window=window_of(server.clock.now_ms()))
        window.login_page.code_edit.setText(code)
        qtbot.mouseClick(window.login_page.code_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.current_page == "exam", timeout=20_000)
        window.shutdown()
