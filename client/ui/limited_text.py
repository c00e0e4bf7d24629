"""A plain-text box with a length limit that refuses input at the cursor.

The old essay box let Qt insert first and then cut the text to the limit from the END:
typing in the middle of a full essay silently deleted its last characters, and Ctrl+Z could
not bring them back. Here nothing over the limit ever enters the document: a key press,
an input-method commit or a paste is trimmed to the room left at the cursor (the room
includes a selection it replaces), and ``refused(dropped, pasted)`` says what was left out.
The input method keeps composing at the limit (the pre-edit text is not part of the
document); only its commit is trimmed.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Signal
from PySide6.QtGui import QInputMethodEvent, QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget


def _counted(text: str) -> int:
    # Characters as the server counts them (client/paper/answers.py: len() of the str).
    return len(text)


class LimitedPlainTextEdit(QPlainTextEdit):
    refused = Signal(int, bool)  # characters left out, whether it was a paste

    def __init__(self, *, max_length: int | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.max_length = max_length

    def length(self) -> int:
        return _counted(self.toPlainText())

    def room(self) -> int | None:
        """Characters that may still be inserted at the cursor (None: no limit)."""
        if self.max_length is None:
            return None
        selected = _counted(self.textCursor().selectedText())
        return max(0, self.max_length - self.length() + selected)

    def _trim(self, text: str, *, pasted: bool) -> str:
        room = self.room()
        if room is None or _counted(text) <= room:
            return text
        self.refused.emit(_counted(text) - room, pasted)
        return text[:room]

    def keyPressEvent(self, event: QKeyEvent) -> None:
        typed = event.text()
        if self.max_length is None or not typed or not (typed.isprintable() or typed == "\r"):
            super().keyPressEvent(event)
            return
        if typed == "\r":
            typed = "\n"
        allowed = self._trim(typed, pasted=False)
        if allowed == typed:
            super().keyPressEvent(event)
        elif allowed:
            self.textCursor().insertText(allowed)
        event.accept()

    def insertFromMimeData(self, source: QMimeData) -> None:
        if self.max_length is None or not source.hasText():
            super().insertFromMimeData(source)
            return
        text = source.text().replace("\r\n", "\n")
        allowed = self._trim(text, pasted=True)
        if allowed:
            self.textCursor().insertText(allowed)

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        commit = event.commitString()
        if self.max_length is None or not commit:
            super().inputMethodEvent(event)
            return
        allowed = self._trim(commit, pasted=False)
        if allowed != commit:
            trimmed = QInputMethodEvent(event.preeditString(), event.attributes())
            trimmed.setCommitString(allowed, event.replacementStart(), event.replacementLength())
            super().inputMethodEvent(trimmed)
            return
        super().inputMethodEvent(event)
