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

    def _trim(self, text: str) -> tuple[str, int]:
        """What fits at the cursor, and how many characters do not."""
        room = self.room()
        if room is None or _counted(text) <= room:
            return text, 0
        return text[:room], _counted(text) - room

    def _report(self, dropped: int, *, pasted: bool) -> None:
        # After the insertion: its textChanged must not wipe the message.
        if dropped:
            self.refused.emit(dropped, pasted)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        typed = event.text()
        if self.max_length is None or not typed or not (typed.isprintable() or typed == "\r"):
            super().keyPressEvent(event)
            return
        if typed == "\r":
            typed = "\n"
        allowed, dropped = self._trim(typed)
        if allowed == typed:
            super().keyPressEvent(event)
        elif allowed:
            self.textCursor().insertText(allowed)
        event.accept()
        self._report(dropped, pasted=False)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if self.max_length is None or not source.hasText():
            super().insertFromMimeData(source)
            return
        text = source.text().replace("\r\n", "\n")
        allowed, dropped = self._trim(text)
        if allowed:
            self.textCursor().insertText(allowed)
        self._report(dropped, pasted=True)

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        commit = event.commitString()
        if self.max_length is None or not commit:
            super().inputMethodEvent(event)
            return
        allowed, dropped = self._trim(commit)
        if not dropped:
            super().inputMethodEvent(event)
            return
        trimmed = QInputMethodEvent(event.preeditString(), event.attributes())
        trimmed.setCommitString(allowed, event.replacementStart(), event.replacementLength())
        super().inputMethodEvent(trimmed)
        self._report(dropped, pasted=False)
