"""成绩: "成绩计算中" until the server has scored, then the objective score."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget


class ResultPage(QWidget):
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
        card.setMinimumWidth(520)
        layout = QVBoxLayout(card)
        layout.setContentsMargins(36, 30, 36, 30)
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
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
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
