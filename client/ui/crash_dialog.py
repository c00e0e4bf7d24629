"""What people see when the client hits an error: calm for candidates, detailed for support.

* CalmErrorDialog: the candidate reads one sentence ("程序遇到问题，您的答案已保存，正在恢复
  考试…"), no traceback, and the client restarts into the exam by itself a moment later.
  Answers need no rescue: each one was durable when it was saved (client/store).
* CrashLogViewer: crash logs found at this start, for proctors and technical support
  (opened from proctor mode, never popped at the candidate).
* ErrorPresenter: the ``show_error`` callback for client.startup.early.install_excepthooks;
  safe to call from any thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from client.i18n import _
from client.startup import early, restart
from client.startup.early import CrashReport, ErrorReport

log = logging.getLogger(__name__)

RESTART_EXIT_CODE = 75
CALM_MESSAGE = "程序遇到问题，您的答案已保存，正在恢复考试…"


class CalmErrorDialog(QDialog):
    """A short, friendly notice that closes itself and then continues (restarts)."""

    def __init__(self, *, delay_ms: int = 3000, parent: QWidget | None = None,
                 message: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("考试客户端"))
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)
        self.setModal(True)
        layout = QVBoxLayout(self)
        self.label = QLabel(
            message if message is not None else _("程序遇到问题，您的答案已保存，正在恢复考试…"),
            self)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.label)
        busy = QProgressBar(self)
        busy.setRange(0, 0)  # indeterminate: "working on it"
        busy.setTextVisible(False)
        layout.addWidget(busy)
        self.resize(420, 140)
        QTimer.singleShot(delay_ms, self.accept)

    def reject(self) -> None:
        # Esc must not leave the candidate with a half-dead window: continue instead.
        self.accept()


class ErrorPresenter(QObject):
    """Create on the GUI thread; pass ``presenter.show_error`` to install_excepthooks."""

    _requested = Signal(object)

    def __init__(self, *, on_continue: Callable[[ErrorReport], None], delay_ms: int = 3000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_continue = on_continue
        self._delay_ms = delay_ms
        self._showing = False
        self._requested.connect(self._present, Qt.ConnectionType.QueuedConnection)

    def show_error(self, report: ErrorReport) -> None:
        """Any thread: queue the dialog on the GUI thread (or show it now if we are on it)."""
        if QThread.currentThread() is self.thread():
            self._present(report)
        else:
            self._requested.emit(report)

    def _present(self, report: object) -> None:
        if self._showing or not isinstance(report, ErrorReport):
            return  # one dialog at a time; the restart handles every error at once
        self._showing = True
        try:
            dialog = CalmErrorDialog(delay_ms=self._delay_ms)
            dialog.exec()
        finally:
            self._showing = False
        self._on_continue(report)


def restart_client(*, release: Callable[[], None] | None = None) -> bool:
    """Start a fresh client into the exam and leave the event loop.

    *release* frees what the new process needs (the single-instance server). Returns False
    (and does not restart) after too many automatic restarts in a row.
    """
    if not restart.may_restart():
        log.critical("too many automatic restarts; staying up and asking for a proctor")
        return False
    if release is not None:
        release()
    early.disarm_faulthandler()
    restart.spawn_detached(restart.restart_argv())
    QCoreApplication.exit(RESTART_EXIT_CODE)
    return True


class CrashLogViewer(QDialog):
    """Crash logs for proctors and support; closing it marks them as seen."""

    def __init__(self, reports: Sequence[CrashReport], *, parent: QWidget | None = None,
                 mark_seen: bool = True) -> None:
        super().__init__(parent)
        self._reports = list(reports)
        self._mark_seen = mark_seen
        self.setWindowTitle(_("上次运行的错误记录（供监考教师和技术支持查看）"))
        layout = QVBoxLayout(self)
        intro = QLabel(_("考试客户端上次运行时出现错误并已自动恢复。以下记录可发送给技术支持。"),
                       self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.list = QListWidget(splitter)
        self.text = QPlainTextEdit(splitter)
        self.text.setReadOnly(True)
        for report in self._reports:
            self.list.addItem(f"{report.path.name}  [{report.kind}]")
        self.list.currentRowChanged.connect(self._show)
        layout.addWidget(splitter)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = buttons.addButton(_("复制"), QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if self._reports:
            self.list.setCurrentRow(len(self._reports) - 1)
        self.resize(720, 520)

    def _show(self, row: int) -> None:
        if 0 <= row < len(self._reports):
            self.text.setPlainText(self._reports[row].read_text())

    def _copy(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.text.toPlainText())

    def done(self, result: int) -> None:
        if self._mark_seen:
            early.mark_reports_seen(self._reports)
            self._mark_seen = False
        super().done(result)
