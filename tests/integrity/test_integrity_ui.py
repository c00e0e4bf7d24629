"""The check panel and the in-exam overlay, offscreen, fed with fixture snapshots."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt
pytest.importorskip("PySide6", exc_type=ImportError)  # EXAM_BLOCK_QT=1 runs

from integrity_fixtures import load_case  # noqa: E402
from PySide6.QtCore import Qt, QThreadPool  # noqa: E402
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from client.integrity.evaluate import evaluate  # noqa: E402
from client.integrity.rules import builtin_rules  # noqa: E402
from client.integrity.snapshot import Snapshot  # noqa: E402
from client.ui.integrity_overlay import IntegrityOverlay  # noqa: E402
from client.ui.integrity_panel import IntegrityCheckPanel  # noqa: E402


class SwitchableSource:
    """Plays fixture snapshots in order, as a PC would look before and after the fix."""

    def __init__(self, *names: str) -> None:
        self._snapshots = [load_case(n).snapshot for n in names]
        self.calls = 0

    def __call__(self) -> Snapshot:
        snapshot = self._snapshots[min(self.calls, len(self._snapshots) - 1)]
        self.calls += 1
        return snapshot


@pytest.fixture(autouse=True)
def _drain_pool() -> object:
    yield None
    QThreadPool.globalInstance().waitForDone(5000)


def texts(panel: IntegrityCheckPanel) -> list[str]:
    return [panel._list.item(i).text() for i in range(panel._list.count())]


def test_blocking_finding_locks_then_recheck_unlocks(qtbot: QtBot) -> None:
    source = SwitchableSource("tool_todesk", "fp_clean_lab_pc")
    panel = IntegrityCheckPanel(scan=source, start=False)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.verdictChanged, timeout=5000) as blocker:
        panel.recheck()
    assert blocker.args == [False]
    assert not panel.allowed
    assert texts(panel) == [
        "[e-01] 必须处理：检测到远程控制软件：ToDesk（ToDesk.exe），请退出后点击重新检测"]
    with qtbot.waitSignal(panel.verdictChanged, timeout=5000) as blocker:
        panel._recheck.click()
    assert blocker.args == [True] and panel.allowed and texts(panel) == []
    assert source.calls == 2


def test_warnings_are_shown_but_do_not_lock(qtbot: QtBot) -> None:
    panel = IntegrityCheckPanel(scan=SwitchableSource("camera_virtual_installed"), start=False)
    qtbot.addWidget(panel)
    recorded: list[object] = []
    panel.findingsChanged.connect(recorded.append)
    with qtbot.waitSignal(panel.verdictChanged, timeout=5000) as blocker:
        panel.recheck()
    assert blocker.args == [True] and panel.allowed
    assert [f.kind for f in panel.findings] == ["virtual_camera_installed"]
    assert recorded == [panel.findings]  # warnings are handed on to be recorded
    assert texts(panel)[0].startswith("[e-02] 提醒：检测到虚拟摄像头：OBS Virtual Camera")


def test_scan_failure_keeps_the_exam_locked_and_allows_retry(qtbot: QtBot) -> None:
    calls = []

    def broken_scan() -> Snapshot:
        calls.append(1)
        raise OSError("collector exploded")

    panel = IntegrityCheckPanel(scan=broken_scan, start=False)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.verdictChanged, timeout=5000) as blocker:
        panel.recheck()
    assert blocker.args == [False]
    assert "OSError" in panel._status.text() and panel._recheck.isEnabled()


def test_overlay_covers_the_exam_until_resolved(qtbot: QtBot) -> None:
    exam = QWidget()
    qtbot.addWidget(exam)
    layout = QVBoxLayout(exam)
    answer = QLineEdit("已作答的内容")
    layout.addWidget(answer)
    exam.resize(640, 480)
    exam.show()
    overlay = IntegrityOverlay(exam)
    case = load_case("tool_anydesk_renamed")
    findings = evaluate(case.snapshot, builtin_rules())

    overlay.show_findings(findings)
    assert overlay.isVisible() and overlay.geometry() == exam.rect()
    assert not answer.isEnabled()
    assert "AnyDesk（notepad2.exe）" in overlay._body.text()
    exam.resize(800, 600)
    qtbot.waitUntil(lambda: overlay.geometry() == exam.rect(), timeout=2000)

    warnings_only = evaluate(load_case("camera_virtual_installed").snapshot, builtin_rules())
    overlay.show_findings(warnings_only)
    assert not overlay.isVisible()
    assert answer.isEnabled() and answer.text() == "已作答的内容"


def test_panel_closed_during_a_scan_does_not_crash(qtbot: QtBot) -> None:
    import threading

    release = threading.Event()
    source = SwitchableSource("tool_todesk")

    def slow_scan() -> Snapshot:
        release.wait(5)
        return source()

    panel = IntegrityCheckPanel(scan=slow_scan, start=True)
    assert panel.busy
    panel.deleteLater()
    qtbot.wait(10)  # deleteLater runs in the event loop
    release.set()
    qtbot.wait(200)  # the queued result arrives for a panel that no longer exists
    assert source.calls == 1


def test_a_hanging_scan_ends_in_a_retryable_error_not_a_stuck_panel(qtbot: QtBot) -> None:
    """Before: a hanging Windows call left the panel at 正在检测 with 重新检测 disabled."""
    import threading

    release = threading.Event()
    source = SwitchableSource("fp_clean_lab_pc")

    def first_hangs() -> Snapshot:
        if source.calls == 0:
            source.calls += 1
            release.wait(30)
        return source()

    panel = IntegrityCheckPanel(scan=first_hangs, start=False, scan_timeout_s=0.3)
    qtbot.addWidget(panel)
    try:
        with qtbot.waitSignal(panel.verdictChanged, timeout=3000) as blocker:
            panel.recheck()
        assert blocker.args == [False] and not panel.busy
        assert panel._recheck.isEnabled()
        assert "系统接口长时间无响应" in panel._status.text()
        with qtbot.waitSignal(panel.verdictChanged, timeout=5000) as blocker:
            panel._recheck.click()
        assert blocker.args == [True]
    finally:
        release.set()
    qtbot.wait(100)  # the abandoned scan answers late: ignored
    assert panel.allowed


def test_a_failed_scan_is_explained_in_words(qtbot: QtBot) -> None:
    def broken_scan() -> Snapshot:
        raise TypeError("'NoneType' object is not iterable")

    panel = IntegrityCheckPanel(scan=broken_scan, start=False)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.verdictChanged, timeout=5000):
        panel.recheck()
    assert "系统接口返回了无法识别的数据" in panel._status.text()


def test_overlay_has_a_working_recheck_button(qtbot: QtBot) -> None:
    """Before: the overlay said 点击重新检测 and had no button."""
    exam = QWidget()
    qtbot.addWidget(exam)
    exam.resize(640, 480)
    exam.show()
    overlay = IntegrityOverlay(exam)
    overlay.show_findings(evaluate(load_case("tool_todesk").snapshot, builtin_rules()))
    button = overlay._recheck
    assert button.isVisible() and button.isEnabled() and button.text() == "重新检测"
    with qtbot.waitSignal(overlay.recheckRequested, timeout=1000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not button.isEnabled()  # one request at a time
    overlay.show_findings(evaluate(load_case("tool_todesk").snapshot, builtin_rules()))
    assert button.isEnabled()  # the answer came (still blocked): ask again if needed


def test_system_owned_tool_tells_the_candidate_to_call_the_proctor() -> None:
    from client.integrity.messages import describe

    texts = [describe(f) for f in evaluate(load_case("tool_anydesk_system_owned").snapshot,
                                           builtin_rules())]
    assert any("考生无法自行关闭" in t and "监考教师" in t for t in texts), texts
    assert not any("请退出" in t for t in texts)
    own = [describe(f) for f in evaluate(load_case("tool_anydesk").snapshot, builtin_rules())]
    assert any("请退出后点击重新检测" in t for t in own)


def test_device_change_messages() -> None:
    from client.ui.device_changes import WM_DEVICECHANGE, is_device_change

    assert is_device_change(WM_DEVICECHANGE, 0x0007)  # DBT_DEVNODES_CHANGED
    assert is_device_change(WM_DEVICECHANGE, 0x8000)  # DBT_DEVICEARRIVAL
    assert not is_device_change(WM_DEVICECHANGE, 0x0018)  # DBT_CONFIGCHANGECANCELED
    assert not is_device_change(0x0001, 0x0007)


def test_device_watcher_forwards_screen_changes(qtbot: QtBot) -> None:
    from PySide6.QtGui import QGuiApplication

    from client.ui.device_changes import DeviceChangeWatcher

    calls: list[int] = []
    watcher = DeviceChangeWatcher(lambda: calls.append(1))
    app = QGuiApplication.instance()
    assert isinstance(app, QGuiApplication)
    app.screenAdded.emit(QGuiApplication.primaryScreen())  # a second monitor plugged in
    assert calls == [1]
    watcher.stop()
    app.screenRemoved.emit(QGuiApplication.primaryScreen())
    assert calls == [1]  # stopped: no longer forwarded
