"""Type text into a widget the way a candidate's keyboard and IME deliver it.

QTest.keyClicks handles only ASCII (it asserts on anything else), while Chinese reaches a
widget as an input-method commit. Used by the end-to-end tests and the screenshot script.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget


def type_text(widget: QWidget, text: str) -> None:
    widget.setFocus()
    for char in text:
        if char.isascii() and char.isprintable():
            QTest.keyClicks(widget, char)
        else:
            event = QInputMethodEvent()
            event.setCommitString(char)
            QCoreApplication.sendEvent(widget, event)
