"""考前检查 screen: the readiness lines with pass/warn/fail icons and a re-check button.

Shown at the first start of a PC (no saved report yet, client.readiness.runner.
last_report_path) and from the 考前检查 shortcut (``exam-client check --gui``). The
screen is measured here, on the GUI thread, as Qt sees it; every other check runs on a
worker thread (OpenGL in the GPU probe child process, where a broken driver can crash
without taking this window along) and its line appears as soon as it is known.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from client.config import Settings
from client.readiness.display import ScreenInfo
from client.readiness.report import check_title, exit_code, status_label, summary_line
from client.readiness.result import CheckResult, Status
from client.readiness.runner import (
    FinishedReport,
    ReadinessContext,
    collect_results,
    finish_report,
)
from client.ui.program_icon import apply_program_icon
from client.ui.tasks import run_in_background

log = logging.getLogger(__name__)

_ICONS = {
    Status.PASS: QStyle.StandardPixmap.SP_DialogApplyButton,
    Status.WARN: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Status.FAIL: QStyle.StandardPixmap.SP_MessageBoxCritical,
}


def measure_screen() -> ScreenInfo | None:
    """The primary screen in logical pixels (what the exam window is laid out in)."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return None
    size = screen.size()
    return ScreenInfo(width=size.width(), height=size.height(),
                      screen_count=len(QGuiApplication.screens()),
                      scale=float(screen.devicePixelRatio()))


class ReadinessScreen(QWidget):
    """Runs the checks when shown and on 重新检查; emits ``finished`` with the results."""

    lineReady = Signal(object)    # CheckResult, possibly from the worker thread
    finished = Signal(object)     # list[CheckResult]
    continueRequested = Signal()

    def __init__(self, context: ReadinessContext, *, upload: bool = True) -> None:
        super().__init__()
        self.setObjectName("page")
        self.setWindowTitle(self.tr("考前检查"))
        self._context = context
        self._upload = upload
        self._running = False
        self.results: list[CheckResult] = []
        self.last_report: FinishedReport | None = None

        layout = QVBoxLayout(self)
        title = QLabel(self.tr("考前检查"))
        title.setObjectName("title")
        layout.addWidget(title)
        intro = QLabel(self.tr(
            "检查本机能否正常考试：系统、磁盘、屏幕、显卡、摄像头、网络和服务器。"
            "请考点管理员处理标为“失败”的项目。"))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.lines = QListWidget()
        self.lines.setWordWrap(True)
        self.lines.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        # Tab reaches the list: a screen reader says what it is before reading the lines.
        self.lines.setAccessibleName(self.tr("检查结果"))
        layout.addWidget(self.lines, 1)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("subtitle")
        layout.addWidget(self.summary)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.recheck_button = QPushButton(self.tr("重新检查"))
        self.recheck_button.clicked.connect(self.start)
        buttons.addWidget(self.recheck_button)
        self.continue_button = QPushButton(self.tr("继续"))
        self.continue_button.setObjectName("primary")
        self.continue_button.clicked.connect(self.continueRequested.emit)
        buttons.addWidget(self.continue_button)
        layout.addLayout(buttons)
        self.lineReady.connect(self._add_line)

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Measure the display here, then run the rest on a worker thread."""
        if self._running:
            return
        self._running = True
        self.recheck_button.setEnabled(False)
        self.lines.clear()
        self.results = []
        self.summary.setText(self.tr("正在检查，请稍候……"))
        screen = measure_screen()
        context = replace(self._context, screen_probe=lambda: screen)

        def work() -> tuple[list[CheckResult], FinishedReport]:
            results = collect_results(context, on_result=self.lineReady.emit)
            return results, finish_report(results, context=context, out=None,
                                          upload=self._upload)

        run_in_background(work, on_done=self._done, on_error=self._failed)

    def _add_line(self, result: CheckResult) -> None:
        self.results.append(result)
        icon = self.style().standardIcon(_ICONS[result.status])
        text = f"{check_title(result.name)}（{status_label(result.status)}）：{result.message}"
        item = QListWidgetItem(icon, text)
        item.setData(Qt.ItemDataRole.UserRole, result.status.value)
        self.lines.addItem(item)

    def _done(self, outcome: tuple[list[CheckResult], FinishedReport]) -> None:
        results, report = outcome
        self.last_report = report
        self._finish(results)

    def _failed(self, error: BaseException) -> None:
        log.error("readiness check failed: %r", error)
        self.summary.setText(self.tr("检查没有完成：{error}").format(error=error))
        self._running = False
        self.recheck_button.setEnabled(True)

    def _finish(self, results: list[CheckResult]) -> None:
        self.summary.setText(summary_line(results))
        self._running = False
        self.recheck_button.setEnabled(True)
        self.finished.emit(results)

    def exit_code(self) -> int:
        return exit_code(self.results)


def run_readiness_window(settings: Settings) -> int:
    """``exam-client check --gui``: the screen in its own window; exit code of the last run."""
    app = QApplication.instance() or QApplication([])
    if isinstance(app, QApplication):
        apply_program_icon(app)
    screen = ReadinessScreen(ReadinessContext.from_settings(settings))
    screen.continueRequested.connect(screen.close)
    screen.resize(820, 640)
    screen.show()
    screen.start()
    app.exec()
    return screen.exit_code()
