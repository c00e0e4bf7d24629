"""交卷确认: lists unanswered and flagged questions; only a deliberate click submits.

No button is the default, so Enter (typed by a candidate who was still answering) does
nothing; the focus starts on 继续答题. Keyboard users reach 确认交卷 with Tab and press
Space, which is as deliberate as a click.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from client.i18n import join_items


def _numbers(numbers: list[int]) -> str:
    return join_items(numbers)


class SubmitDialog(QDialog):
    def __init__(self, *, unanswered: list[int], total: int, flagged: list[int] | None = None,
                 parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.setWindowTitle(self.tr("确认交卷"))
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        summary = QLabel(self.tr("共 {total} 题，已答 {done} 题。").format(
            total=total, done=total - len(unanswered)))
        summary.setObjectName("subtitle")
        layout.addWidget(summary)
        self.unanswered_label = QLabel()
        self.unanswered_label.setWordWrap(True)
        if unanswered:
            self.unanswered_label.setText(self.tr("以下题目尚未作答：第 {numbers} 题").format(
                numbers=_numbers(unanswered)))
            self.unanswered_label.setObjectName("error")
        else:
            self.unanswered_label.setText(self.tr("所有题目均已作答。"))
        layout.addWidget(self.unanswered_label)
        self.flagged_label = QLabel()
        self.flagged_label.setWordWrap(True)
        if flagged:
            self.flagged_label.setText(self.tr("以下题目标记了待检查：第 {numbers} 题").format(
                numbers=_numbers(flagged)))
            self.flagged_label.setObjectName("warning")
            layout.addWidget(self.flagged_label)
        warning = QLabel(self.tr("交卷后将不能再修改答案。确定要交卷吗？"))
        warning.setWordWrap(True)
        layout.addWidget(warning)
        # WORKAROUND: not a QDialogButtonBox: it makes its accept button the default when
        # shown, and Enter would submit again.
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("继续答题"))
        self.confirm_button = QPushButton(self.tr("确认交卷"))
        self.confirm_button.setObjectName("primary")
        self.confirm_button.setAccessibleName(self.tr("确认交卷（交卷后不能修改）"))
        for button in (self.cancel_button, self.confirm_button):
            button.setAutoDefault(False)
            button.setDefault(False)
            buttons.addWidget(button)
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button.clicked.connect(self.accept)
        layout.addLayout(buttons)
        self.cancel_button.setFocus(Qt.FocusReason.OtherFocusReason)
