"""What the candidate and the proctor read in Chinese uses Chinese punctuation, as shown:
texts composed at run time (templates filled with names, numbers and lists) are checked on
the real widgets of every page, the submit dialog and the proctor panel, with the rule the
source scan uses (tests/i18n/test_chinese_punctuation.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QWidget
from screen_support import EVERY_PAGE, offline_window, show_page

from client.ui.submit_dialog import SubmitDialog

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "i18n"))
from punctuation_rule import mixed_punctuation

pytestmark = pytest.mark.qt


def shown_texts(top: QWidget) -> list[str]:
    """Every text, tooltip and accessible name of the widgets under *top*."""
    texts = []
    for widget in [top, *top.findChildren(QWidget)]:
        if isinstance(widget, (QLabel, QAbstractButton)):
            texts.append(widget.text())
        if isinstance(widget, QGroupBox):
            texts.append(widget.title())
        texts += [widget.toolTip(), widget.accessibleName(), widget.windowTitle()]
    return [text for text in texts if text]


def mixed(top: QWidget) -> list[str]:
    return [f"{text!r}: {mixed_punctuation(text)}" for text in shown_texts(top)
            if mixed_punctuation(text)]


def test_every_page_and_the_submit_dialog(qtbot: Any, tmp_path: Path) -> None:
    window = offline_window(qtbot, tmp_path)
    window.show()
    for name in EVERY_PAGE:
        show_page(window, name)
        assert mixed(window) == [], name
    page = window.exam_page
    assert page is not None
    for index in range(len(page.items)):
        page.show_question(index)
        page.toggle_flag()
        assert mixed(window) == [], index
    dialog = SubmitDialog(unanswered=[1, 3], flagged=[2], total=8, parent=window)
    assert mixed(dialog) == []


def test_the_rule_catches_a_composed_text(qtbot: Any) -> None:
    label = QLabel("{title} ({exam_id})".format(title="演示考试", exam_id="demo-exam"))
    qtbot.addWidget(label)
    assert mixed(label)
