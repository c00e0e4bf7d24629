"""成绩: "成绩计算中" until the server has scored, then the objective score."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from client.ui.layout import centered_card


class ResultPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = centered_card(self, min_width=520)
        self.heading = QLabel(self.tr("已交卷"))
        self.heading.setObjectName("title")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.heading)
        self.detail = QLabel()
        self.detail.setObjectName("subtitle")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.detail)
        self.score = QLabel()
        self.score.setObjectName("countdown")
        self.score.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.score)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.note)
        self.show_computing()

    def show_computing(self) -> None:
        self.detail.setText(self.tr("成绩计算中，请稍后查询"))
        self.score.setText("…")
        self.note.setText("")

    def show_pending_submission(self, message: str) -> None:
        self.heading.setText(self.tr("考试已结束"))
        self.detail.setText(message)
        self.score.setText("")

    def show_score(self, *, score: float, max_score: float, pending_review: bool) -> None:
        self.detail.setText(self.tr("客观题得分"))
        self.score.setText(f"{score:g} / {max_score:g}")
        if pending_review:
            from client.camera.review import result_page_notice

            self.note.setText(result_page_notice())
        else:
            self.note.setText(self.tr("主观题由阅卷老师评分，最终成绩以考试平台公布为准"))
