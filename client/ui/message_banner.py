"""Messages from the proctors' console on the exam page (监考消息): a banner in the
page's notice strip, never a dialog, never taking the focus, so a candidate typing an
essay keeps typing.

The newest unread message is shown with who sent it and when; 知道了 closes it (the
console then shows 已读) and leaves a one-line 监考消息（N 条）with 查看消息, which opens
the whole list in the banner again. Nothing here can take keyboard focus: every widget
is ``NoFocus`` and nothing calls ``activateWindow``/``raise_``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from client.session.staff_messages import StaffMessage
from client.timefmt import beijing_clock


class MessageBanner(QFrame):
    readRequested = Signal()  # the candidate closed the newest message(s)

    def __init__(self, *, messages: Callable[[], Sequence[StaffMessage]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._messages = messages
        self.setObjectName("staffMessageBanner")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("QFrame#staffMessageBanner { background: #e8f1fb; "
                           "border: 1px solid #7aa7d8; border-radius: 4px; }")
        self.title = QLabel()
        self.title.setObjectName("staffMessageTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # carries the sender's name
        self.text = QLabel()
        self.text.setObjectName("staffMessageText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # a proctor's text, never markup
        self.history = QLabel()
        self.history.setObjectName("staffMessageHistory")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.TextFormat.PlainText)
        self.history.setVisible(False)
        self.read_button = QPushButton(self.tr("知道了"))
        self.read_button.setObjectName("staffMessageRead")
        self.list_button = QPushButton()
        self.list_button.setObjectName("staffMessageList")
        for widget in (self, self.title, self.text, self.history, self.read_button,
                       self.list_button):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.read_button.clicked.connect(self._read)
        self.list_button.clicked.connect(self._toggle_list)
        buttons = QHBoxLayout()
        buttons.addWidget(self.title, 1)
        buttons.addWidget(self.list_button)
        buttons.addWidget(self.read_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addLayout(buttons)
        layout.addWidget(self.text)
        layout.addWidget(self.history)
        self._unread: list[StaffMessage] = []
        self.setVisible(False)

    def show_new(self, unread: Sequence[StaffMessage]) -> None:
        """New messages arrived (or the page opened with unread ones): the newest shown."""
        self._unread = list(unread)
        self.history.setVisible(False)
        self._refresh()

    def _refresh(self) -> None:
        everything = list(self._messages())
        if not everything:
            self.setVisible(False)
            return
        self.list_button.setText(self.tr("查看全部消息（{n} 条）").format(n=len(everything)))
        if self._unread:
            newest = self._unread[-1]
            more = len(self._unread) - 1
            title = self.tr("监考消息 {time} {sender}").format(
                time=beijing_clock(newest.at_ms), sender=newest.sender)
            if more:
                title += self.tr("（另有 {n} 条未读）").format(n=more)
            self.title.setText(title)
            self.text.setText(newest.text)
            self.text.setVisible(True)
            self.read_button.setVisible(True)
        else:
            self.title.setText(self.tr("监考消息（{n} 条）").format(n=len(everything)))
            self.text.setVisible(False)
            self.read_button.setVisible(False)
        self.setVisible(True)

    def _read(self) -> None:
        self._unread = []
        self.readRequested.emit()
        self._refresh()

    def _toggle_list(self) -> None:
        if self.history.isVisible():
            self.history.setVisible(False)
            return
        lines = [f"{beijing_clock(m.at_ms)} {m.sender}：{m.text}"
                 for m in reversed(list(self._messages()))]
        self.history.setText("\n".join(lines))
        self.history.setVisible(True)
        if self._unread:
            self._read()  # the whole list was opened: everything is read
