"""Pre-exam check screen: every e-01/e-02 finding with what to do, and a 重新检测 button.

The scan (collect + evaluate) runs off the UI thread; blocking findings keep the exam
locked (verdictChanged(False)), warnings are shown and recorded but let the exam start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.i18n import _
from client.integrity.evaluate import evaluate
from client.integrity.findings import Finding, verdict
from client.integrity.messages import describe, describe_verdict, severity_label
from client.integrity.rules import Rules, builtin_rules
from client.integrity.snapshot import Snapshot
from client.ui.tasks import run_in_background

log = logging.getLogger(__name__)

_BLOCK_COLOR = QColor("#b3261e")
_WARN_COLOR = QColor("#8a5300")


class IntegrityCheckPanel(QWidget):
    verdictChanged = Signal(bool)  # True: the exam may start
    findingsChanged = Signal(object)  # list[Finding], for the attempt record

    def __init__(
        self,
        *,
        scan: Callable[[], Snapshot],
        rules: Callable[[], Rules] = builtin_rules,
        parent: QWidget | None = None,
        start: bool = True,
    ) -> None:
        super().__init__(parent)
        self._scan = scan
        self._rules = rules
        self._findings: list[Finding] = []
        self._allowed = False
        self._running = False

        self._title = QLabel(_("考试环境检测"))
        self._title.setObjectName("integrityTitle")
        self._status = QLabel()
        self._status.setWordWrap(True)
        self._list = QListWidget()
        self._list.setWordWrap(True)
        self._recheck = QPushButton(_("重新检测"))
        self._recheck.clicked.connect(self.recheck)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self._recheck)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(self._status)
        layout.addWidget(self._list, 1)
        layout.addLayout(buttons)
        if start:
            self.recheck()

    # ------------------------------------------------------------------ state

    @property
    def allowed(self) -> bool:
        return self._allowed

    @property
    def findings(self) -> list[Finding]:
        return list(self._findings)

    @property
    def busy(self) -> bool:
        return self._running

    # ------------------------------------------------------------------ scanning

    def set_rules(self, rules: Callable[[], Rules]) -> None:
        """Newer rules (shipped with the paper package) for the next scan."""
        self._rules = rules

    def recheck(self) -> None:
        if self._running:
            return
        self._running = True
        self._recheck.setEnabled(False)
        self._status.setText(_("正在检测，请稍候…"))
        scan, rules = self._scan, self._rules

        def work() -> list[Finding]:
            return evaluate(scan(), rules())

        def done(findings: list[Finding]) -> None:
            if shiboken6.isValid(self):  # the panel may be gone when a slow scan ends
                self._show(findings)

        def failed(error: BaseException) -> None:
            if shiboken6.isValid(self):
                self._failed(error)

        run_in_background(work, on_done=done, on_error=failed)

    def _show(self, findings: list[Finding]) -> None:
        self._running = False
        self._recheck.setEnabled(True)
        self._findings = list(findings)
        self._list.clear()
        for finding in findings:
            item = QListWidgetItem(
                f"[{finding.code}] {severity_label(finding)}：{describe(finding)}")
            item.setForeground(QBrush(_BLOCK_COLOR if finding.blocking else _WARN_COLOR))
            item.setToolTip("\n".join(finding.evidence))
            item.setData(Qt.ItemDataRole.UserRole, finding.key)
            self._list.addItem(item)
        self._status.setText(describe_verdict(verdict(findings)))
        self._allowed = not any(f.blocking for f in findings)
        self.findingsChanged.emit(list(findings))
        self.verdictChanged.emit(self._allowed)

    def _failed(self, error: BaseException) -> None:
        # Fail closed but recoverable: the candidate can re-check, a proctor sees why.
        log.error("integrity scan failed: %r", error)
        self._running = False
        self._recheck.setEnabled(True)
        self._list.clear()
        self._findings = []
        self._status.setText(
            _("检测出错（{error}），请点击重新检测；如仍失败请联系监考教师").format(
                error=type(error).__name__))
        self._allowed = False
        self.verdictChanged.emit(False)
