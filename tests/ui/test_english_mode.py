"""The English UI speaks English: no Chinese words or full-width punctuation glued between
translated texts on any page or in the submit dialog, and no "1 plays left"."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from screen_support import EVERY_PAGE, offline_window, show_page

from client.ui.app import install_language
from client.ui.richtext_view import RichTextLabel
from client.ui.submit_dialog import SubmitDialog

pytestmark = pytest.mark.qt

CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def chinese_texts(top: QWidget, *, allowed: set[str]) -> list[str]:
    found = []
    for widget in top.findChildren(QWidget):
        if isinstance(widget, RichTextLabel) or not widget.isVisibleTo(top):
            continue  # the paper's own content is in the language the paper has
        if isinstance(widget, (QLabel, QAbstractButton)):
            text = widget.text()
            for name in sorted(allowed, key=len, reverse=True):
                text = text.replace(name, "")
            if CHINESE.search(text):
                found.append(f"{type(widget).__name__}: {widget.text()!r}")
    return found


def test_every_page_in_english(qtbot: Any, tmp_path: Path) -> None:
    window = offline_window(qtbot, tmp_path, language="en")
    try:
        window.show()
        # Names and titles are data, not UI text.
        allowed = {"张三（20260001）", "张三", "2026 年春季学期 计算机基础 期末考试",
                   "考试客户端演示试卷"}
        for name in EVERY_PAGE:
            show_page(window, name)
            assert chinese_texts(window, allowed=allowed) == [], name
        page = window.exam_page
        assert page is not None
        for index in range(len(page.items)):
            page.show_question(index)
            assert chinese_texts(window, allowed=allowed) == []
        audio_pane = next(p for p in page.panes if p.play_button is not None)
        audio_pane.set_plays_left(1)
        assert audio_pane.play_button is not None
        assert audio_pane.play_button.text() == "▶ Play audio (plays left: 1)"
        dialog = SubmitDialog(unanswered=[1, 3], flagged=[2], total=8, parent=window)
        assert chinese_texts(dialog, allowed=set()) == []
        assert "1, 3" in dialog.unanswered_label.text()
    finally:
        install_language("zh_CN")
