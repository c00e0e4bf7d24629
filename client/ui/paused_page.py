"""暂停: a proctor stopped this candidate's exam clock (the console's 暂停作答).

Shown instead of the paper while the server's heartbeat says the attempt is paused; the
countdown stands at the time that was left, no answer can be changed, and the paper comes
back by itself when the proctor resumes (docs/console.md, "Pause and resume").
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from client.timefmt import countdown


class PausedPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        card = QFrame()
        card.setObjectName("card")
        card.setMinimumWidth(460)
        layout = QVBoxLayout(card)
        layout.setContentsMargins(32, 28, 32, 28)
        layout.setSpacing(12)
        layout.addStretch(1)
        title = QLabel(self.tr("考试已暂停"))
        title.setObjectName("title")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        self.note = QLabel(self.tr(
            "监考教师暂停了您的考试，计时已停止，暂停的时间不计入考试时间。"
            "请在座位上等待，监考教师恢复后本页会自动回到试卷，答案均已保存。"))
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.note)
        caption = QLabel(self.tr("剩余时间（已停止）"))
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(caption)
        self.time_left = QLabel("--:--:--")
        self.time_left.setObjectName("countdown")
        self.time_left.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.time_left)
        layout.addStretch(1)
        outer.addStretch(1)
        outer.addWidget(card, 2)
        outer.addStretch(1)

    def set_time_left(self, ms: int | None) -> None:
        self.time_left.setText("--:--:--" if ms is None else countdown(ms))
