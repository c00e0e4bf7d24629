"""交卷确认: lists unanswered questions before the candidate confirms."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout


class SubmitDialog(QDialog):
    def __init__(self, *, unanswered: list[int], total: int, parent: object = None) -> None:
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
            numbers = "、".join(str(n) for n in unanswered)
            self.unanswered_label.setText(self.tr("以下题目尚未作答：第 {numbers} 题").format(
                numbers=numbers))
            self.unanswered_label.setObjectName("error")
        else:
            self.unanswered_label.setText(self.tr("所有题目均已作答。"))
        layout.addWidget(self.unanswered_label)
        warning = QLabel(self.tr("交卷后将不能再修改答案。确定要交卷吗？"))
        warning.setWordWrap(True)
        layout.addWidget(warning)
        buttons = QDialogButtonBox()
        self.confirm_button = buttons.addButton(self.tr("确认交卷"),
                                                QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.setObjectName("primary")
        self.cancel_button = buttons.addButton(self.tr("继续答题"),
                                               QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
