import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from client.startup import early
from client.startup.early import ErrorReport
from client.ui.crash_dialog import CALM_MESSAGE, CalmErrorDialog, CrashLogViewer, ErrorPresenter

pytestmark = pytest.mark.qt


def report():
    return ErrorReport(exc_type="RuntimeError", message="x", traceback_text="Traceback...",
                       thread_name="worker", crash_log=None)


def test_calm_dialog_says_answers_are_saved_and_closes_itself(qtbot):
    dialog = CalmErrorDialog(delay_ms=50)
    qtbot.addWidget(dialog)
    assert dialog.label.text() == CALM_MESSAGE == "程序遇到问题，您的答案已保存，正在恢复考试…"
    assert "Traceback" not in dialog.label.text()
    with qtbot.waitSignal(dialog.accepted, timeout=3000):
        dialog.show()


def test_presenter_brings_a_worker_threads_error_to_the_gui_thread(qtbot):
    continued = []
    presenter = ErrorPresenter(
        on_continue=lambda r: continued.append((r, QThread.currentThread())), delay_ms=20)
    thread = threading.Thread(target=lambda: presenter.show_error(report()))
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(continued) == 1, timeout=5000)
    assert continued[0][1] is QApplication.instance().thread()


def test_crash_log_from_last_run_is_shown_for_support_and_then_marked_seen(qtbot, tmp_path):
    early.write_crash_report(tmp_path, kind="python", text="Traceback: 保存失败 in sync")
    reports = early.pending_crash_reports(tmp_path)
    viewer = CrashLogViewer(reports)
    qtbot.addWidget(viewer)
    viewer.show()
    assert "保存失败" in viewer.text.toPlainText()
    assert viewer.list.count() == 1
    viewer.reject()
    assert early.pending_crash_reports(tmp_path) == []
    assert len(early.all_crash_logs(tmp_path)) == 1
