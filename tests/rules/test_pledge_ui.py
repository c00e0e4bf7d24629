"""The pledge page in the real exam window: shown after the download, before the waiting
room; the waiting room and the exam stay closed until the candidate agrees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from rules_support import rebuild_package

from client.paper.exam_rules import Pledge
from server.pledges import acceptances, set_pledge
from server.testing import live_server

pytestmark = pytest.mark.qt

TEXT = "本人承诺：\n一、遵守考场纪律。\n二、独立完成考试。"


def test_candidate_must_agree_before_the_waiting_room(qtbot: Any, tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))
    from ui_support import log_in, open_window

    with live_server(tmp_path / "server", start_in_s=3, duration_s=600) as server:
        assert server.demo is not None
        set_pledge(server.db, exam_id=server.demo.exam_id, pledge=Pledge(text_zh=TEXT),
                   now_ms=server.clock.now_ms())
        rebuild_package(server)
        window = open_window(qtbot, server, tmp_path / "pc", integrity=None)
        log_in(qtbot, window, server.demo.username, server.demo.password)
        qtbot.waitUntil(lambda: window.current_page == "pledge", timeout=20_000)
        page = window.pledge_flow.page
        assert page.text.toPlainText() == TEXT
        assert not page.agree_button.isEnabled() and not page.skip_button.isVisible()
        server.clock.advance(ms=5_000)  # type: ignore[attr-defined]
        qtbot.wait(1500)  # the start time passes: still no way into the exam
        assert window.current_page == "pledge" and window.exam_page is None
        page.confirm.setChecked(True)
        qtbot.mouseClick(page.agree_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.current_page in ("waiting", "exam"), timeout=20_000)
        qtbot.waitUntil(lambda: window.current_page == "exam", timeout=20_000)
        candidate = server.db.find_candidate(student_no=server.demo.username)
        assert candidate is not None
        attempt = server.db.find_attempt(exam_id=server.demo.exam_id, candidate_id=candidate.id)
        assert attempt is not None
        qtbot.waitUntil(lambda: attempt.id in acceptances(server.db, [attempt.id]),
                        timeout=10_000)
        window.session.close()
