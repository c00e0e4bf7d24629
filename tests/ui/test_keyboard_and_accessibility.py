"""The exam with the keyboard alone, an accessibility walk of every page (names and
focus), the submit dialog that needs a deliberate press, and Qt's own dialogs in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialogButtonBox,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QRadioButton,
    QWidget,
)
from screen_support import EVERY_PAGE, exam_page, offline_window, proctor_panel, show_page

from client.ui.app import install_language
from client.ui.exam_page import is_answered
from client.ui.input_simulation import type_text
from client.ui.submit_dialog import SubmitDialog

pytestmark = pytest.mark.qt


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def key(qtbot: Any, which: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
        ) -> None:
    QTest.keyClick(focused(), which, modifier)
    qtbot.wait(1)


def tab_to(qtbot: Any, target: QWidget, *, limit: int = 80) -> None:
    for _ in range(limit):
        if focused() is target:
            return
        key(qtbot, Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {target}")


def test_the_whole_exam_with_the_keyboard_alone(qtbot: Any) -> None:
    page = exam_page()
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page)
    page.panes[0].editor.focus_first()
    submitted: list[bool] = []
    page.submitRequested.connect(lambda: submitted.append(True))

    # q1 single choice: Space picks A, Down moves to and picks B.
    key(qtbot, Qt.Key.Key_Space)
    key(qtbot, Qt.Key.Key_Down)
    assert page.answers["q1"] == "B"
    key(qtbot, Qt.Key.Key_PageDown)  # q2, focus follows into the answer
    assert page.current == 1 and isinstance(focused(), QRadioButton)
    key(qtbot, Qt.Key.Key_Space)
    key(qtbot, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)  # flag q2
    assert page.flagged == {"q2"} and "已标记" in page.flag_button.text()
    for _ in range(4):  # to q6 (true/false)
        key(qtbot, Qt.Key.Key_PageDown)
    assert page.current == 5
    key(qtbot, Qt.Key.Key_Space)
    assert page.answers["q6"] is True
    key(qtbot, Qt.Key.Key_PageDown)  # q7 fill-in: two blanks, Tab between them
    assert isinstance(focused(), QLineEdit)
    type_text(focused(), "abc")
    assert not is_answered(page.answers["q7"], page.items[6])  # 1 of 2 blanks
    key(qtbot, Qt.Key.Key_Tab)
    type_text(focused(), "def")
    assert is_answered(page.answers["q7"], page.items[6])
    key(qtbot, Qt.Key.Key_PageDown)  # q8 essay; Tab leaves it (no tab characters typed)
    assert isinstance(focused(), QPlainTextEdit)
    type_text(focused(), "answer")
    key(qtbot, Qt.Key.Key_Tab)
    assert page.answers["q8"] == "answer"
    key(qtbot, Qt.Key.Key_PageUp)
    assert page.current == 6
    # Zoom from the keyboard.
    key(qtbot, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert page.zoom_level.text() == "110%"
    # Submit: Tab to the button, Space presses it.
    tab_to(qtbot, page.submit_button)
    key(qtbot, Qt.Key.Key_Space)
    assert submitted == [True]
    assert page.unanswered_numbers() == [3, 4, 5]
    assert page.flagged_numbers() == [2]


def test_submit_dialog_ignores_enter_and_lists_flagged(qtbot: Any) -> None:
    dialog = SubmitDialog(unanswered=[3, 4], flagged=[2, 7], total=8)
    qtbot.addWidget(dialog)
    accepted: list[bool] = []
    dialog.accepted.connect(lambda: accepted.append(True))
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    assert focused() is dialog.cancel_button
    assert "3、4" in dialog.unanswered_label.text() and "2、7" in dialog.flagged_label.text()
    for button in dialog.findChildren(QAbstractButton):
        assert not button.isDefault()
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    QTest.keyClick(dialog.confirm_button, Qt.Key.Key_Enter)
    assert accepted == [] and dialog.isVisible()
    dialog.confirm_button.setFocus()
    QTest.keyClick(dialog.confirm_button, Qt.Key.Key_Space)
    assert accepted == [True]


def accessible_name(widget: QWidget) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name).strip() if interface is not None else ""


def unnamed_or_unreachable(top: QWidget) -> list[str]:
    """Every enabled, visible control that takes Tab focus has a name a screen reader can
    read, and sits in the Tab chain of its window."""
    chain: set[int] = set()
    widget = top.nextInFocusChain()
    while widget is not top and len(chain) < 2000:
        chain.add(id(widget))
        widget = widget.nextInFocusChain()
    problems = []
    for widget in top.findChildren(QWidget):
        if not widget.isVisibleTo(top) or not widget.isEnabled():
            continue
        if not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            continue
        if widget.focusProxy() is not None:
            continue
        label = f"{type(widget).__name__}({widget.objectName()})"
        if not accessible_name(widget):
            problems.append(f"{label} has no accessible name")
        if id(widget) not in chain:
            problems.append(f"{label} is not in the Tab chain")
    return problems


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_page_has_names_and_focus(qtbot: Any, tmp_path: Path, language: str) -> None:
    window = offline_window(qtbot, tmp_path, language=language)
    window.show()
    for name in EVERY_PAGE:
        show_page(window, name)
        assert unnamed_or_unreachable(window) == [], name
    assert window.exam_page is not None
    for index in range(len(window.exam_page.items)):
        window.exam_page.show_question(index)
        assert unnamed_or_unreachable(window) == [], f"question {index + 1}"
    dialog = SubmitDialog(unanswered=[1], flagged=[2], total=8, parent=window)
    dialog.show()
    assert unnamed_or_unreachable(dialog) == []
    dialog.close()
    for unlocked in (False, True):  # the password prompt, then status, export and actions
        panel = proctor_panel(window, unlocked=unlocked)
        panel.show()
        assert unnamed_or_unreachable(panel) == [], unlocked
        panel.close()


def test_qt_own_dialogs_speak_chinese(qtbot: Any) -> None:
    install_language("zh_CN")
    box = QMessageBox(QMessageBox.Icon.Question, "退出考试", "确定要退出吗？",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    qtbot.addWidget(box)
    texts = {button.text() for button in box.buttons()}
    assert any(text.startswith("是") for text in texts), texts
    assert any(text.startswith("否") for text in texts), texts
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(buttons)
    assert {b.text() for b in buttons.buttons()} >= {"确定", "取消"}
    picker = QFileDialog(None, "选择导出文件夹")
    picker.setOption(QFileDialog.Option.DontUseNativeDialog)
    qtbot.addWidget(picker)
    assert "取消" in {b.text() for b in picker.findChildren(QAbstractButton)}
    install_language("en")
    try:
        english = QMessageBox(QMessageBox.Icon.Question, "Leave", "Sure?",
                              QMessageBox.StandardButton.Yes)
        qtbot.addWidget(english)
        assert english.buttons()[0].text().replace("&", "") == "Yes"
    finally:
        install_language("zh_CN")
