"""Pre-exam check screen: every e-01/e-02 finding with what to do, and a 重新检测 button.

The scan (collect + evaluate) runs on its own daemon thread, not the shared thread pool: a
scan stuck in a Windows call must not also hold a pool worker that the paper download
needs. A watchdog ends the wait after *scan_timeout_s*: the panel says the check did not
answer, keeps the exam locked and enables 重新检测 again (it used to stay at 正在检测 with
the button disabled). Blocking findings keep the exam locked (verdictChanged(False));
warnings are shown and recorded (findingsChanged) but let the exam start.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
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
from client.integrity.messages import (
    describe,
    describe_verdict,
    explain_scan_error,
    severity_label,
)
from client.integrity.rules import Rules, builtin_rules
from client.integrity.snapshot import Snapshot

log = logging.getLogger(__name__)

DEFAULT_SCAN_TIMEOUT_S = 60.0


class ScanTimeout(TimeoutError):
    """The whole pre-exam scan did not answer in time."""


class _Relay(QObject):
    """Carries a scan's outcome from its thread to the UI thread (queued signal)."""

    finished = Signal(int, object, object)  # generation, findings, error

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
        scan_timeout_s: float = DEFAULT_SCAN_TIMEOUT_S,
    ) -> None:
        super().__init__(parent)
        self._scan = scan
        self._rules = rules
        self._findings: list[Finding] = []
        self._allowed = False
        self._running = False
        self._generation = 0  # a late answer of an abandoned scan is ignored
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_finished)
        self._watchdog = QTimer(self)
        self._watchdog.setSingleShot(True)
        self._watchdog.setInterval(int(scan_timeout_s * 1000))
        self._watchdog.timeout.connect(self._on_timeout)

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
        self._generation += 1
        generation = self._generation
        self._recheck.setEnabled(False)
        self._status.setText(_("正在检测，请稍候…"))
        scan, rules, relay = self._scan, self._rules, self._relay

        def work() -> None:
            findings: list[Finding] | None = None
            error: BaseException | None = None
            try:
                findings = evaluate(scan(), rules())
            except Exception as exc:  # shown to the candidate, not raised
                error = exc
            # RuntimeError: the panel (and its relay) is gone; nobody waits for this answer.
            with contextlib.suppress(RuntimeError):
                relay.finished.emit(generation, findings, error)

        threading.Thread(target=work, name="integrity-check", daemon=True).start()
        self._watchdog.start()

    def _on_finished(self, generation: int, findings: object, error: object) -> None:
        if generation != self._generation or not self._running:
            return  # an abandoned scan answered late
        self._watchdog.stop()
        if isinstance(error, BaseException):
            self._failed(error)
        elif isinstance(findings, list):
            self._show(findings)

    def _on_timeout(self) -> None:
        if not self._running or not shiboken6.isValid(self):
            return
        self._generation += 1  # its answer, if it ever comes, is no longer wanted
        self._failed(ScanTimeout(f"no answer within {self._watchdog.interval() / 1000:g} s"))

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
            _("检测出错：{reason}。请点击重新检测；如仍失败请联系监考教师").format(
                reason=explain_scan_error(error)))
        self._allowed = False
        self.verdictChanged.emit(False)
