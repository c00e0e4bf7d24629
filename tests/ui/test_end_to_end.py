"""A candidate takes the whole demo exam through the real widgets against the real server.

Login -> waiting room (server-time countdown, paper preloaded) -> exam (every question type
answered through its widget) -> submit confirmation listing unanswered items -> result page
showing the score the server computed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit
from ui_support import open_window

from client.paper.model import QuestionType
from client.resources import resource_path
from client.ui.checks import IntegrityChecks
from client.ui.input_simulation import type_text
from client.ui.main_window import ExamWindow
from server.testing import live_server

pytestmark = pytest.mark.qt

WRONG_ON_PURPOSE = 1  # index among objective items answered wrongly, to test scoring


def source_paper() -> dict[str, Any]:
    return json.loads(resource_path("demo", "paper", "paper.json").read_text(encoding="utf-8"))


def answer_plan() -> tuple[dict[str, Any], float, list[str]]:
    """What to answer per item, the objective score that earns, and items left empty."""
    plan: dict[str, Any] = {}
    expected = 0.0
    objective_seen = 0
    skipped: list[str] = []
    for section in source_paper()["sections"]:
        for item in section["items"]:
            kind = QuestionType(item["type"])
            if kind is QuestionType.ESSAY:
                plan[item["id"]] = "我认为网络中断时应先保存答案，再联系监考教师。"
                continue
            key = item["key"]
            if kind is QuestionType.FILL_BLANK:
                value: Any = [variants[0] for variants in key]
            else:
                value = key
            if objective_seen == WRONG_ON_PURPOSE:
                if kind is QuestionType.TRUE_FALSE:
                    value = not key
                elif kind is QuestionType.SINGLE:
                    value = next(o["id"] for o in item["options"] if o["id"] != key)
                else:
                    skipped.append(item["id"])
                    value = None
            else:
                expected += float(item["score"])
            objective_seen += 1
            plan[item["id"]] = value
    return plan, expected, skipped


def enter_answer(qtbot: Any, window: ExamWindow, index: int, value: Any) -> None:
    page = window.exam_page
    assert page is not None
    page.show_question(index)
    pane = page.panes[index]
    editor = pane.editor
    kind = pane.item.type
    if value is None:
        return
    if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
        for option_id in [value] if kind is QuestionType.SINGLE else value:
            qtbot.mouseClick(editor.button(option_id), Qt.MouseButton.LeftButton)
    elif kind is QuestionType.TRUE_FALSE:
        button = editor.true_button if value else editor.false_button
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    elif kind is QuestionType.FILL_BLANK:
        fields = editor.findChildren(QLineEdit)
        for field, text in zip(fields, value, strict=True):
            type_text(field, text)
            field.editingFinished.emit()
    else:
        type_text(editor.findChild(QPlainTextEdit), value)


def test_candidate_takes_the_demo_exam(qtbot: Any, tmp_path: Path,
                                       clean_integrity: IntegrityChecks) -> None:
    plan, expected_score, skipped = answer_plan()
    with live_server(tmp_path / "server", demo=True, start_in_s=3, duration_s=1800) as server:
        demo = server.demo
        assert demo is not None
        window = open_window(qtbot, server, tmp_path / "client", integrity=clean_integrity)

        # Login with the wrong password first: the message says which failure it is.
        window.login_page.username.setText(demo.username)
        window.login_page.password.setText("000000")
        qtbot.mouseClick(window.login_page.login_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.login_page.error.isVisible(), timeout=10_000)
        assert "密码错误" in window.login_page.error.text()

        window.login_page.password.setText(demo.password)
        qtbot.mouseClick(window.login_page.login_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.current_page == "waiting", timeout=15_000)
        assert demo.username in window.waiting_page.candidate.text()
        qtbot.waitUntil(lambda: window.integrity_panel.allowed, timeout=10_000)
        qtbot.waitUntil(lambda: window.current_page == "exam", timeout=20_000)

        page = window.exam_page
        assert page is not None
        ids = [item.id for item in page.items]
        assert set(ids) == set(plan)
        for index, qid in enumerate(ids):
            enter_answer(qtbot, window, index, plan[qid])
        for qid in ids:
            if plan[qid] is not None:
                assert page.answers[qid] is not None, qid

        # Every revision durable and acknowledged by the server.
        qtbot.waitUntil(lambda: "已同步" in page.save_state.text(), timeout=20_000)

        qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
        dialog = window.submit_dialog
        expected_unanswered = [ids.index(qid) + 1 for qid in skipped]
        for number in expected_unanswered:
            assert str(number) in dialog.unanswered_label.text()
        if not expected_unanswered:
            assert "均已作答" in dialog.unanswered_label.text()
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)

        qtbot.waitUntil(lambda: window.current_page == "result", timeout=15_000)
        qtbot.waitUntil(lambda: "/" in window.result_page.score.text(), timeout=20_000)
        shown = window.result_page.score.text()
        score_text, max_text = (part.strip() for part in shown.split("/"))
        assert math.isclose(float(score_text), expected_score)
        objective_max = sum(float(item["score"]) for section in source_paper()["sections"]
                            for item in section["items"] if item["type"] != "essay")
        assert math.isclose(float(max_text), objective_max)

        # The server's own record agrees with what the page shows.
        rows = server.db.exam_results(demo.exam_id)
        mine = next(row for row in rows if row.candidate.student_no == demo.username)
        assert mine.attempt is not None and mine.attempt.status == "submitted"
        assert mine.attempt.score is not None
        assert math.isclose(mine.attempt.score, expected_score)
        window.shutdown()


def test_candidate_switches_the_login_page_to_english(qtbot: Any, tmp_path: Path) -> None:
    from client import i18n

    with live_server(tmp_path / "server", demo=True, start_in_s=600) as server:
        window = open_window(qtbot, server, tmp_path / "client", integrity=None)
        try:
            assert window.login_page.login_button.text() == "登录"
            window.login_page.language.setCurrentIndex(1)
            assert window.login_page.login_button.text() == "Log in"
            window.login_page.username.setText("1999000000")
            window.login_page.password.setText("123456")
            qtbot.mouseClick(window.login_page.login_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: window.login_page.error.isVisible(), timeout=10_000)
            assert "no exam now" in window.login_page.error.text()
        finally:
            i18n.set_language("zh_CN")
            window.shutdown()
