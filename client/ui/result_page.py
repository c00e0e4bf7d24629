"""成绩: what became of the submission, then the result (score, 待审核, or a retry).

The page follows the session: "时间到，已自动交卷" at the end time, the submission still on
its way (offline), "成绩计算中" until the server has scored, the objective score, 待审核
with what the candidate should do, a retry when the result cannot be fetched, and
"已在其他电脑登录" on a PC whose attempt was taken over.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from client.ui.layout import centered_card


class ResultPage(QWidget):
    retryRequested = Signal()  # the candidate asks for the result again

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
        self.retry_button = QPushButton(self.tr("重新获取成绩"))
        self.retry_button.clicked.connect(self.retryRequested.emit)
        self.retry_button.hide()
        layout.addWidget(self.retry_button)
        self.time_up = False
        self.show_computing()

    def show_time_up(self) -> None:
        """The end time passed: the session sealed the answers and is submitting them."""
        self.time_up = True
        self.heading.setText(self.tr("时间到，已自动交卷"))
        self.detail.setText(self.tr("考试时间已到，答案已封存在本机，正在提交到服务器"))
        self.score.setText("")
        self.note.setText("")
        self.retry_button.hide()

    def show_submitting(self) -> None:
        if not self.time_up:
            self.heading.setText(self.tr("正在交卷"))
        self.detail.setText(self.tr("答案已封存在本机，正在提交到服务器"))
        self.score.setText("")
        self.retry_button.hide()

    def show_computing(self) -> None:
        if not self.time_up:
            self.heading.setText(self.tr("已交卷"))
        self.detail.setText(self.tr("成绩计算中，请稍后查询"))
        self.score.setText("…")
        self.note.setText("")
        self.retry_button.hide()

    def show_pending_submission(self, message: str) -> None:
        if not self.time_up:
            self.heading.setText(self.tr("考试已结束"))
        self.detail.setText(message)
        self.score.setText("")
        self.retry_button.hide()

    def show_score(self, *, score: float, max_score: float, pending_review: bool) -> None:
        self.detail.setText(self.tr("客观题得分"))
        self.score.setText(f"{score:g} / {max_score:g}")
        self.retry_button.hide()
        if pending_review:
            from client.camera.review import result_page_notice

            self.note.setText(result_page_notice())
        else:
            self.note.setText(self.tr("主观题由阅卷老师评分，最终成绩以考试平台公布为准"))

    def show_pending_review(self) -> None:
        """The server holds the result for a person's review (score: null)."""
        self.detail.setText(self.tr("待审核"))
        self.score.setText("")
        self.note.setText(self.tr(
            "答卷已提交。本场考试的记录需要考务人员审核，审核完成后成绩将在考试平台公布。"
            "无需重新考试；请离开考场前向监考教师确认，如有疑问请联系考点"))
        self.retry_button.hide()

    def show_unavailable(self, message: str) -> None:
        """The result cannot be fetched now (network): say so, and offer to try again."""
        self.detail.setText(self.tr("暂时无法获取成绩：答卷已提交，成绩不会丢失"))
        self.score.setText("")
        self.note.setText(message)
        self.retry_button.show()

    def show_revoked(self) -> None:
        self.heading.setText(self.tr("已在其他电脑登录"))
        self.detail.setText(self.tr(
            "本场考试已在另一台电脑上继续，本机不能再作答。"
            "本机保存的答案仍可由监考教师在监考模式中导出"))
        self.score.setText("")
        self.note.setText("")
        self.retry_button.hide()
