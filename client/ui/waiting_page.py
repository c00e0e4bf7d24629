"""候考: the paper preloads while the countdown (server time) runs to the start."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.timefmt import beijing_datetime, countdown


class WaitingPage(QWidget):
    enterRequested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        card = QFrame()
        card.setObjectName("card")
        card.setMinimumWidth(620)
        layout = QVBoxLayout(card)
        layout.setContentsMargins(36, 28, 36, 28)
        layout.setSpacing(12)

        self.exam_title = QLabel()
        self.exam_title.setObjectName("title")
        self.exam_title.setWordWrap(True)
        self.exam_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.exam_title)
        self.candidate = QLabel()
        self.candidate.setObjectName("subtitle")
        self.candidate.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.candidate)
        self.schedule = QLabel()
        self.schedule.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.schedule)

        caption = QLabel(self.tr("距离考试开始"))
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(caption)
        self.countdown = QLabel("--:--:--")
        self.countdown.setObjectName("countdown")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.countdown)

        self.preload_label = QLabel(self.tr("正在下载试卷…"))
        layout.addWidget(self.preload_label)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(True)
        layout.addWidget(self.progress)

        self.clock_warning = QLabel()
        self.clock_warning.setObjectName("warning")
        self.clock_warning.setWordWrap(True)
        self.clock_warning.hide()
        layout.addWidget(self.clock_warning)

        self.checks = QVBoxLayout()  # 考前检查 panels (integrity, camera) are added here
        layout.addLayout(self.checks)

        self.status = QLabel()
        self.status.setObjectName("error")
        self.status.setWordWrap(True)
        self.status.hide()
        layout.addWidget(self.status)

        self.enter_button = QPushButton(self.tr("进入考试"))
        self.enter_button.setObjectName("primary")
        self.enter_button.setEnabled(False)
        self.enter_button.clicked.connect(self.enterRequested)
        layout.addWidget(self.enter_button)

        notice = QLabel(self.tr("考试开始时间以服务器时间为准，与本机时钟无关。"
                                "开始后将自动进入考试。"))
        notice.setObjectName("subtitle")
        notice.setStyleSheet("font-size: 13px;")
        notice.setWordWrap(True)
        layout.addWidget(notice)

        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def set_exam(self, *, title: str, candidate: str, student_no: str, start_ms: int,
                 end_ms: int) -> None:
        self.exam_title.setText(title)
        self.candidate.setText(self.tr("考生：{name}（{number}）").format(
            name=candidate, number=student_no))
        self.schedule.setText(self.tr("考试时间：{start} 至 {end}（北京时间）").format(
            start=beijing_datetime(start_ms), end=beijing_datetime(end_ms)[-5:]))

    def set_countdown(self, ms_until_start: int | None) -> None:
        self.countdown.setText("--:--:--" if ms_until_start is None
                               else countdown(ms_until_start))

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setValue(int(done * 100 / total) if total else 0)

    def set_preloaded(self, text: str) -> None:
        self.progress.setValue(100)
        self.preload_label.setText(text)

    def show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def show_clock_warning(self, text: str) -> None:
        self.clock_warning.setText(text)
        self.clock_warning.setVisible(bool(text))
