"""The essay limit never loses a character: typing in the middle of a full essay is refused
at the cursor (the old editor cut as many characters from the END), a long paste is trimmed
with a message and undone in one Ctrl+Z, and the input method composes at the limit."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QInputMethodEvent, QTextCursor
from PySide6.QtWidgets import QApplication
from screen_support import exam_page

from client.ui.answer_editors import EssayEditor
from client.ui.input_simulation import type_text

pytestmark = pytest.mark.qt

LIMIT = 20
FULL = "春眠不觉晓处处闻啼鸟夜来风雨声花落知多少"  # exactly 20 characters


@pytest.fixture
def essay(qtbot: Any) -> EssayEditor:
    page = exam_page(essay_limit=LIMIT)
    qtbot.addWidget(page)
    page.show()
    page.show_question(len(page.items) - 1)
    editor = page.panes[-1].editor
    assert isinstance(editor, EssayEditor)
    return editor


def put_cursor(editor: EssayEditor, position: int, *, select_to: int | None = None) -> None:
    cursor = editor.text.textCursor()
    cursor.setPosition(position)
    if select_to is not None:
        cursor.setPosition(select_to, QTextCursor.MoveMode.KeepAnchor)
    editor.text.setTextCursor(cursor)


def test_typing_in_the_middle_of_a_full_essay_keeps_its_ending(qtbot: Any,
                                                               essay: EssayEditor) -> None:
    essay.text.setFocus()
    type_text(essay.text, FULL)
    assert essay.text.toPlainText() == FULL
    put_cursor(essay, 5)
    type_text(essay.text, "XYZ")
    assert essay.text.toPlainText() == FULL  # nothing cut from the end
    assert "已达字数上限" in essay.counter.text() and "20 / 20" in essay.counter.text()
    assert essay.counter.property("full") == "true"
    # A selection is room: typing over two characters puts two in their place.
    put_cursor(essay, 2, select_to=4)
    type_text(essay.text, "AB")
    assert essay.text.toPlainText() == FULL[:2] + "AB" + FULL[4:]
    # Deleting makes room again, exactly as much as deleted.
    put_cursor(essay, 10)
    qtbot.keyClick(essay.text, Qt.Key.Key_Backspace)
    type_text(essay.text, "QR")
    assert essay.text.toPlainText() == FULL[:2] + "AB" + FULL[4:9] + "Q" + FULL[10:]
    assert essay.value() == essay.text.toPlainText()


def test_a_long_paste_is_trimmed_with_a_message_and_undone_whole(qtbot: Any,
                                                                 essay: EssayEditor) -> None:
    essay.text.setFocus()
    type_text(essay.text, "开头结尾")
    put_cursor(essay, 2)
    source = QMimeData()
    source.setText("粘" * 100_000)
    essay.text.insertFromMimeData(source)
    assert essay.text.toPlainText() == "开头" + "粘" * 16 + "结尾"
    assert "99984 字未粘贴" in essay.counter.text()
    essay.text.undo()
    assert essay.text.toPlainText() == "开头结尾"


def test_paste_through_the_clipboard_and_ctrl_v(qtbot: Any, essay: EssayEditor) -> None:
    essay.text.setFocus()
    QApplication.clipboard().setText("甲乙丙" * 10)
    qtbot.keyClick(essay.text, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert essay.text.toPlainText() == ("甲乙丙" * 10)[:LIMIT]
    assert "10 字未粘贴" in essay.counter.text()
    QApplication.clipboard().clear()


def test_input_method_composes_at_the_limit_and_commits_what_fits(qtbot: Any,
                                                                  essay: EssayEditor) -> None:
    essay.text.setFocus()
    type_text(essay.text, FULL[:19])
    # Composing (pinyin pre-edit) is not text yet: allowed even with one character left.
    essay.text.inputMethodEvent(QInputMethodEvent("zhongwen", []))
    assert essay.text.toPlainText() == FULL[:19]
    committed = QInputMethodEvent("", [])
    committed.setCommitString("中文")
    essay.text.inputMethodEvent(committed)
    assert essay.text.toPlainText() == FULL[:19] + "中"
    assert "已达字数上限" in essay.counter.text()
    # At the limit, a commit in the middle is refused and the ending stays.
    put_cursor(essay, 3)
    again = QInputMethodEvent("", [])
    again.setCommitString("字")
    essay.text.inputMethodEvent(again)
    assert essay.text.toPlainText() == FULL[:19] + "中"


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 40), st.text("天地玄黄ab", min_size=1,
                                                            max_size=30), st.booleans()),
                      min_size=1, max_size=12))
def test_no_edit_ever_removes_text_that_was_not_selected(qtbot: Any, essay: EssayEditor,
                                                         edits: list[tuple[int, str, bool]]
                                                         ) -> None:
    essay.set_value(None)
    essay.text.setFocus()
    for position, text, paste in edits:
        before = essay.text.toPlainText()
        position = min(position, len(before))
        put_cursor(essay, position)
        if paste:
            source = QMimeData()
            source.setText(text)
            essay.text.insertFromMimeData(source)
        else:
            type_text(essay.text, text)
        after = essay.text.toPlainText()
        room = LIMIT - len(before)
        inserted = text[:max(0, room)]
        assert after == before[:position] + inserted + before[position:]
        assert len(after) <= LIMIT
