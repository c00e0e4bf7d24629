"""``--resume`` after a crash: back on the exam page with every saved answer, no password;
refused (login page, clear message, nothing lost) after submission, after the end, on a PC
whose credential store does not hold the ticket's secret, and for an edited ticket.

Real server on 127.0.0.1, real SQCipher stores, a real file-backed keyring (the PC's
credential store: deleting its file is "another PC" / restore software wiped it), the real
exam window offscreen. The "crash" is the first window going away without logging out
(what a killed process leaves behind: the store, the token, the resume ticket).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import Qt
from ui_support import log_in, open_window

from client.session.exam_session import Phase
from client.session.resume import ticket_path
from client.ui.main_window import ExamWindow
from server.testing import LiveServer, live_server

# Each test logs in and opens the paper on a live server (15-30 s on a busy PC); the end
# test waits for a real (25 s) exam to end: the end must come from the server's clock.
pytestmark = [pytest.mark.qt, pytest.mark.slow]



def first_answer(window: ExamWindow, qtbot: Any) -> tuple[str, object]:
    """Answer the first (single-choice) question through its widget; its id and value."""
    page = window.exam_page
    assert page is not None
    page.show_question(0)
    pane = page.panes[0]
    option = pane.item.options[1].id
    qtbot.mouseClick(pane.editor.button(option), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.answers.get(pane.item.id) == option, timeout=5_000)
    return pane.item.id, option


def exam_with_a_saved_answer(qtbot: Any, server: LiveServer,
                             data_dir: Path) -> tuple[ExamWindow, str, object]:
    demo = server.demo
    assert demo is not None
    window = open_window(qtbot, server, data_dir, integrity=None)
    log_in(qtbot, window, demo.username, demo.password)
    qtbot.waitUntil(lambda: window.current_page == "exam", timeout=30_000)
    qid, value = first_answer(window, qtbot)
    qtbot.waitUntil(lambda: "已保存" in window.exam_page.save_state.text()
                    or "已同步" in window.exam_page.save_state.text(), timeout=10_000)
    return window, qid, value


def crash(window: ExamWindow) -> None:
    """The process dies mid-exam: nothing logs out, the ticket stays (as after a kill)."""
    window.shutdown()
    window.hide()


def resumed_window(qtbot: Any, server: LiveServer, data_dir: Path) -> ExamWindow:
    window = open_window(qtbot, server, data_dir, integrity=None)
    window.resume_exam()
    return window


def test_resume_lands_on_the_exam_page_with_the_answers(qtbot: Any, tmp_path: Path,
                                                        pc_keyring: Path) -> None:
    data_dir = tmp_path / "client"
    with live_server(tmp_path / "server", demo=True, start_in_s=2, duration_s=1800) as server:
        window, qid, value = exam_with_a_saved_answer(qtbot, server, data_dir)
        assert ticket_path(data_dir).is_file()
        sealed = ticket_path(data_dir).read_text(encoding="utf-8")
        assert server.demo is not None and server.demo.password not in sealed
        crash(window)

        again = resumed_window(qtbot, server, data_dir)
        qtbot.waitUntil(lambda: again.current_page == "exam", timeout=30_000)
        assert again.session.resumed
        assert again.login_page.password.text() == ""  # nobody typed a password
        page = again.exam_page
        assert page is not None
        assert page.answers[qid] == value
        assert again.session.ms_until_end() is not None
        qtbot.waitUntil(lambda: page.timer.text().count(":") == 2
                        and page.timer.text() != "--:--:--", timeout=5_000)

        # Answering goes on, then the submission ends every way back.
        qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(again.submit_dialog.confirm_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: again.session.phase is Phase.SUBMITTED, timeout=20_000)
        assert again.current_page == "result"
        assert not ticket_path(data_dir).exists()
        assert not pc_keyring.exists() or "resume:" not in pc_keyring.read_text()
        again.shutdown()

        after_submit = resumed_window(qtbot, server, data_dir)
        qtbot.waitUntil(lambda: after_submit.login_page.error.isVisible(), timeout=10_000)
        assert after_submit.current_page == "login"
        assert "没有可以自动恢复的考试" in after_submit.login_page.error.text()
        after_submit.shutdown()


def test_resume_after_the_end_goes_to_the_login_page(qtbot: Any, tmp_path: Path,
                                                     pc_keyring: Path) -> None:
    data_dir = tmp_path / "client"
    with live_server(tmp_path / "server", demo=True, start_in_s=2, duration_s=25) as server:
        window, _qid, _value = exam_with_a_saved_answer(qtbot, server, data_dir)
        end_ms = window.session.attempt.login.exam.end_ms
        crash(window)  # dies before the end: the ticket is still there
        assert ticket_path(data_dir).is_file()
        while (window.session.clock.now_ms() or 0) < end_ms + 500:
            time.sleep(0.2)

        late = resumed_window(qtbot, server, data_dir)
        qtbot.waitUntil(lambda: late.login_page.error.isVisible(), timeout=10_000)
        assert late.current_page == "login"
        assert "考试已结束或已交卷" in late.login_page.error.text()
        assert late.session.phase is Phase.LOGGED_OUT
        assert not ticket_path(data_dir).exists()
        late.shutdown()


def test_resume_on_a_pc_without_the_secret_asks_for_the_password(
        qtbot: Any, tmp_path: Path, pc_keyring: Path) -> None:
    """Restore software wiped the credential store (or the data folder came from another
    PC): the ticket does not open, the login page says so, the answers are all there after
    the candidate logs in with the password."""
    data_dir = tmp_path / "client"
    with live_server(tmp_path / "server", demo=True, start_in_s=2, duration_s=1800) as server:
        demo = server.demo
        assert demo is not None
        window, qid, value = exam_with_a_saved_answer(qtbot, server, data_dir)
        crash(window)
        pc_keyring.unlink()

        wiped = resumed_window(qtbot, server, data_dir)
        qtbot.waitUntil(lambda: wiped.login_page.error.isVisible(), timeout=10_000)
        assert wiped.current_page == "login"
        assert "无法在本机自动回到考试" in wiped.login_page.error.text()
        assert "答案不会丢失" in wiped.login_page.error.text()
        assert not ticket_path(data_dir).exists()

        log_in(qtbot, wiped, demo.username, demo.password)
        qtbot.waitUntil(lambda: wiped.current_page == "exam", timeout=30_000)
        assert wiped.exam_page is not None and wiped.exam_page.answers[qid] == value
        wiped.shutdown()


def test_a_copied_or_edited_ticket_does_not_open(qtbot: Any, tmp_path: Path,
                                                 pc_keyring: Path) -> None:
    data_dir = tmp_path / "client"
    with live_server(tmp_path / "server", demo=True, start_in_s=2, duration_s=1800) as server:
        window, _qid, _value = exam_with_a_saved_answer(qtbot, server, data_dir)
        crash(window)
        ticket = ticket_path(data_dir)
        stolen = ticket.read_bytes()

        # Another PC: the whole data folder copied, its own (empty) credential store.
        other_pc = tmp_path / "other-pc"
        shutil.copytree(data_dir, other_pc)
        keyring.get_keyring().file_path = str(tmp_path / "other-store" / "keyring_pass.cfg")
        elsewhere = resumed_window(qtbot, server, other_pc)
        qtbot.waitUntil(lambda: elsewhere.login_page.error.isVisible(), timeout=10_000)
        assert elsewhere.current_page == "login"
        assert "无法在本机自动回到考试" in elsewhere.login_page.error.text()
        elsewhere.shutdown()

        # This PC again, the ticket edited to name another exam: the seal breaks.
        keyring.get_keyring().file_path = str(pc_keyring)
        doc = json.loads(stolen)
        doc["exam_id"] = "another-exam"
        ticket.write_text(json.dumps(doc), encoding="utf-8")
        edited = resumed_window(qtbot, server, data_dir)
        qtbot.waitUntil(lambda: edited.login_page.error.isVisible(), timeout=10_000)
        assert edited.current_page == "login"
        assert edited.session.phase is Phase.LOGGED_OUT
        edited.shutdown()
