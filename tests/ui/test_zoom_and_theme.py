"""A+ enlarges every element of the exam page (options, fill-in boxes, the essay, buttons),
not only the question text, and the page says the zoom level; the high-contrast theme."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QPushButton, QRadioButton
from screen_support import exam_page

from client.ui import theme
from client.ui.answer_editors import ChoiceEditor
from client.ui.richtext_view import RichTextLabel

pytestmark = pytest.mark.qt


def sizes(page: Any) -> dict[str, int]:
    choice = page.panes[0].editor
    assert isinstance(choice, ChoiceEditor)
    option_text = choice.findChildren(RichTextLabel)[0]
    found = {
        "stem": page.panes[0].stem,
        "option text": option_text,
        "option button": choice.findChildren(QRadioButton)[0],
        "fill-in": page.panes[6].editor.findChildren(QLineEdit)[0],
        "essay": page.panes[7].editor.findChildren(QPlainTextEdit)[0],
        "next button": page.next_button,
        "nav button": page.nav_buttons[0],
    }
    for widget in found.values():
        widget.ensurePolished()
    return {name: widget.fontInfo().pixelSize() for name, widget in found.items()}


def test_zoom_reaches_options_blanks_essay_and_buttons(qtbot: Any) -> None:
    page = exam_page()
    qtbot.addWidget(page)
    page.show()
    before = sizes(page)
    assert page.zoom_level.text() == "100%"
    qtbot.mouseClick(page.zoom_in_button, Qt.MouseButton.LeftButton)
    page.zoom(+2)
    assert page.zoom_level.text() == "140%"
    after = sizes(page)
    for name, size in before.items():
        assert after[name] >= round(size * 1.3), (name, size, after[name])
    # The option's radio indicator grows with it (a finger or a low-vision candidate).
    radio = page.panes[0].editor.findChildren(QRadioButton)[0]
    assert radio.sizeHint().height() > 20
    page.zoom(-10)
    assert page.zoom_level.text() == "80%" and not page.zoom_out_button.isEnabled()
    assert sizes(page)["option text"] < before["option text"]


def test_initial_zoom_from_settings_is_shown(qtbot: Any) -> None:
    page = exam_page(font_scale=1.25)
    qtbot.addWidget(page)
    assert page.zoom_level.text() == "125%"


def test_high_contrast_theme_applies_to_the_page_and_back(qtbot: Any) -> None:
    page = exam_page()
    qtbot.addWidget(page)
    page.show()
    button: QPushButton = page.next_button
    normal = button.palette().color(button.backgroundRole()).name()
    page.contrast_button.click()
    try:
        assert theme.is_high_contrast()
        page.ensurePolished()
        stem = page.panes[0].stem
        assert stem.palette().color(stem.foregroundRole()).name() == "#ffffff"
        assert page.palette().color(page.backgroundRole()).name() == "#000000"
    finally:
        page.contrast_button.click()
    assert not theme.is_high_contrast()
    assert button.palette().color(button.backgroundRole()).name() == normal
