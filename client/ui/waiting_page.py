"""候考: the paper preloads while the countdown (server time) runs to the start."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from client.timefmt import beijing_datetime, countdown


class WaitingPage(QWidget):
    enterRequested = Signal()
    startCodeEntered = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        outer.setSpacing(18)
        card = QFrame()
        card.setObjectName("card")
        card.setMinimumWidth(460)
        layout = QVBoxLayout(card)
        layout.setContentsMargins(32, 28, 32, 28)
        layout.setSpacing(12)

        self.exam_title = QLabel()
        self.exam_title.setObjectName("title")
        self.exam_title.setWordWrap(True)
        self.exam_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.exam_title)
        self.candidate = QLabel()
        self.candidate.setObjectName("subtitle")
        self.candidate.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.candidate.setWordWrap(True)
        layout.addWidget(self.candidate)
        self.schedule = QLabel()
        self.schedule.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.schedule.setWordWrap(True)
        layout.addWidget(self.schedule)

        caption = QLabel(self.tr("距离考试开始"))
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(caption)
        self.countdown = QLabel("--:--:--")
        self.countdown.setObjectName("countdown")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.countdown)

        self.preload_label = QLabel(self.tr("正在下载试卷…"))
        self.preload_label.setWordWrap(True)  # English is longer: wrap, never cut
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
        self._card_layout = layout  # messages from the console go under the warnings


        self.status = QLabel()
        self.status.setObjectName("error")
        self.status.setWordWrap(True)
        self.status.hide()
        layout.addWidget(self.status)

        # No network at the start: the proctor types the exam's start code (开考码).
        self.start_code_box = QFrame()
        start_layout = QVBoxLayout(self.start_code_box)
        start_layout.setContentsMargins(0, 0, 0, 0)
        self.start_code_message = QLabel()
        self.start_code_message.setObjectName("warning")
        self.start_code_message.setWordWrap(True)
        start_layout.addWidget(self.start_code_message)
        start_row = QHBoxLayout()
        self.start_code_edit = QLineEdit()
        self.start_code_edit.setObjectName("startCode")
        self.start_code_edit.setPlaceholderText(self.tr("开考码"))
        self.start_code_button = QPushButton(self.tr("打开试卷"))
        self.start_code_button.clicked.connect(self._submit_start_code)
        self.start_code_edit.returnPressed.connect(self._submit_start_code)
        start_row.addWidget(self.start_code_edit, 1)
        start_row.addWidget(self.start_code_button)
        start_layout.addLayout(start_row)
        self.start_code_box.hide()
        layout.addWidget(self.start_code_box)

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

        layout.addStretch(1)
        outer.addWidget(card, 2)

        # 考前检查: the integrity and camera panels, side by side with the countdown and
        # scrollable, so that a 1024x768 lab screen shows everything.
        self.checks_area = QScrollArea()
        self.checks_area.setWidgetResizable(True)
        self.checks_area.setFrameShape(QFrame.Shape.NoFrame)
        checks_card = QFrame()
        checks_card.setObjectName("card")
        self.checks = QVBoxLayout(checks_card)
        self.checks.setContentsMargins(20, 16, 20, 16)
        checks_title = QLabel(self.tr("考前检查"))
        checks_title.setObjectName("subtitle")
        checks_title.setStyleSheet("font-weight: bold;")
        self.checks.addWidget(checks_title)
        self.checks_area.setWidget(checks_card)
        self.checks_area.hide()  # shown when a check panel is added
        outer.addWidget(self.checks_area, 3)

    def _submit_start_code(self) -> None:
        code = self.start_code_edit.text().strip()
        if code:
            self.start_code_button.setEnabled(False)
            self.startCodeEntered.emit(code)

    def ask_for_start_code(self, message: str) -> None:
        self.start_code_message.setText(message)
        self.start_code_box.show()
        self.start_code_button.setEnabled(True)

    def insert_notice(self, notice: QWidget) -> None:
        """A quiet notice (a proctor's message) under the clock warning, never a dialog."""
        index = self._card_layout.indexOf(self.clock_warning) + 1
        self._card_layout.insertWidget(index, notice)

    def add_check(self, panel: QWidget) -> None:
        self.checks.addWidget(panel)
        self.checks_area.show()

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
