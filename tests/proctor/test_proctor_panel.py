"""The proctor panel through real widgets (offscreen): unlock, state, export, actions."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from proctor_samples import FakeMonotonic
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QMainWindow, QPushButton

from client.export import offline_file as of
from client.export.exporter import ExportSnapshot, export_offline_file
from client.export.offline_file import FileIdentity, SubmissionInfo
from client.export.removable_drives import ExportLocation
from client.lockdown.away_time import AwayTotals
from client.proctor.candidate_status import CandidateStatus
from client.proctor.proctor_mode import ProctorMode, ProctorState
from client.store.model import Revision
from client.ui.proctor_panel import ProctorPanel, install_proctor_shortcut, proctor_button

pytestmark = pytest.mark.qt

STATUS = CandidateStatus(candidate_no="2024000001", candidate_name="张三", exam_id="demo-exam",
                         exam_title="演示考试", answered=3, question_total=8,
                         revisions_saved=5, unsynced=2, synced_up_to_server_ms=1_700_000_000_000,
                         submission="answering", integrity="正常", identity="人脸核验通过")


class Harness:
    def __init__(self, tmp_path: Path, verifiers, proctor_log) -> None:
        self.session_key = Ed25519PrivateKey.generate()
        self.server_box = X25519PrivateKey.generate()
        self.clock = FakeMonotonic()
        self.mode = ProctorMode(verifiers=verifiers, log=proctor_log, idle_timeout_s=60,
                                monotonic=self.clock)
        self.usb = tmp_path / "usb"
        self.usb.mkdir()
        self.disk = tmp_path / "disk"
        self.disk.mkdir()
        self.relogins: list[str] = []
        self.approvals: list[str] = []

    def export(self, folder: Path):
        revisions = [Revision("q1", 1, "B", 1, 1, 2, False), Revision("q1", 2, "C", 3, 3, 4, False)]
        snapshot = ExportSnapshot(
            identity=FileIdentity("demo-exam", "1", "2024000001", "pc", "00" * 32),
            revisions=revisions, submission=SubmissionInfo("answering"), proctor_log=(),
            client_info={}, export_seq=1)
        return export_offline_file(folder=folder, snapshot=snapshot, session_key=self.session_key,
                                   server_box_key=self.server_box.public_key(),
                                   wall_time_ms=1_700_000_000_000, server_time_ms=None)

    def panel(self, qtbot) -> ProctorPanel:
        panel = ProctorPanel(
            mode=self.mode, candidate_status=lambda: STATUS, export=self.export,
            on_authorize_relogin=lambda who: self.relogins.append(who.proctor_id),
            on_approve_entry=lambda who: self.approvals.append(who.proctor_id),
            locations=lambda: [ExportLocation(self.disk, "D:", removable=False),
                               ExportLocation(self.usb, "E: KINGSTON", removable=True)],
            choose_folder=lambda parent: self.disk)
        qtbot.addWidget(panel)
        panel.show()
        return panel


@pytest.fixture
def harness(tmp_path, verifiers, proctor_log) -> Harness:
    return Harness(tmp_path, verifiers, proctor_log)


def unlock(qtbot, panel: ProctorPanel, *, name="王老师", password="Kq7-m2Lx9") -> None:
    panel.name_edit.setText(name)
    panel.password_edit.setText(password)
    qtbot.mouseClick(panel.unlock_button, Qt.MouseButton.LeftButton)


def test_opens_locked_and_wrong_password_shows_why(qtbot, harness, sink):
    panel = harness.panel(qtbot)
    assert not panel.is_unlocked()
    unlock(qtbot, panel, password="wrong")
    qtbot.waitUntil(lambda: "错误" in panel.unlock_error.text())
    assert not panel.is_unlocked() and panel.password_edit.text() == ""
    assert sink.kinds() == ["proctor.unlock_failed"]


def test_unlock_shows_state_and_exports_to_the_stick(qtbot, harness, sink):
    panel = harness.panel(qtbot)
    unlock(qtbot, panel)
    qtbot.waitUntil(panel.is_unlocked)
    qtbot.waitUntil(lambda: "张三" in panel.status_labels["candidate"].text())
    assert "3/8" in panel.status_labels["answers"].text()
    assert "2 次修改尚未同步" in panel.status_labels["sync"].text()
    assert panel.status_labels["identity"].text() == "人脸核验通过"
    # Removable drives first, and preselected.
    assert "KINGSTON" in panel.location_list.item(0).text()
    assert panel.selected_folder() == harness.usb
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.last_export is not None)
    result = panel.last_export
    assert result.path.parent == harness.usb and result.path.exists()
    assert "已导出并校验" in panel.export_result.text()
    of.verify_own_file(result.path.read_bytes(), file_name=result.file_name,
                       session_public_key=harness.session_key.public_key())
    exported = sink.events[-1]
    assert exported[0] == "proctor.exported"
    assert exported[1]["detail"]["file_name"] == result.file_name
    assert exported[1]["proctor_id"] == "p1"


def test_other_folder_and_export_failure_is_logged(qtbot, harness, sink):
    panel = harness.panel(qtbot)
    unlock(qtbot, panel)
    qtbot.waitUntil(panel.is_unlocked)
    qtbot.mouseClick(panel.other_folder_button, Qt.MouseButton.LeftButton)
    assert panel.selected_folder() == harness.disk
    harness.disk.rmdir()  # the stick was pulled out meanwhile
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "导出失败" in panel.export_result.text())
    assert sink.events[-1][0] == "proctor.export_failed"
    assert sink.events[-1][1]["detail"]["code"] == "export.folder_missing"


def test_relogin_and_entry_approval_call_back_and_log(qtbot, harness, sink):
    panel = harness.panel(qtbot)
    unlock(qtbot, panel)
    qtbot.waitUntil(panel.is_unlocked)
    qtbot.mouseClick(panel.relogin_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.approve_button, Qt.MouseButton.LeftButton)
    assert harness.relogins == ["p1"] and harness.approvals == ["p1"]
    assert sink.kinds()[-2:] == ["proctor.relogin_authorized", "proctor.entry_approved"]


def test_auto_lock_after_inactivity_returns_to_the_password(qtbot, harness, sink):
    panel = harness.panel(qtbot)
    unlock(qtbot, panel)
    qtbot.waitUntil(panel.is_unlocked)
    harness.clock.now += 61
    qtbot.waitUntil(lambda: not panel.is_unlocked(), timeout=3000)
    assert "自动锁定" in panel.unlock_error.text()
    qtbot.mouseClick(panel.relogin_button, Qt.MouseButton.LeftButton)  # hidden page: nothing
    assert harness.relogins == []
    assert "proctor.locked" in sink.kinds()


def test_activity_keeps_it_unlocked(qtbot, harness):
    panel = harness.panel(qtbot)
    unlock(qtbot, panel)
    qtbot.waitUntil(panel.is_unlocked)
    harness.clock.now += 50
    qtbot.keyClick(panel.location_list, Qt.Key.Key_Down)
    harness.clock.now += 50
    qtbot.wait(1200)
    assert panel.is_unlocked()


def test_end_closes_and_logs(qtbot, harness, sink):
    panel = harness.panel(qtbot)
    unlock(qtbot, panel)
    qtbot.waitUntil(panel.is_unlocked)
    qtbot.mouseClick(panel.end_button, Qt.MouseButton.LeftButton)
    assert not panel.isVisible() and harness.mode.state is ProctorState.ENDED
    assert sink.kinds()[-1] == "proctor.ended"


def test_escape_on_the_locked_panel_ends_it(qtbot, harness, sink):
    panel = harness.panel(qtbot)
    qtbot.keyClick(panel, Qt.Key.Key_Escape)
    assert not panel.isVisible() and sink.kinds() == ["proctor.ended"]


def test_shortcut_and_button_open_the_panel(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    opened: list[str] = []
    install_proctor_shortcut(window, lambda: opened.append("shortcut"))
    button = proctor_button(window, lambda: opened.append("button"))
    window.show()
    window.activateWindow()
    assert QTest.qWaitForWindowActive(window)
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert opened == ["shortcut", "button"]


def test_state_in_chinese_punctuation_with_the_focus_losses(qtbot, harness):
    """The panel's filled-in texts: 演示考试（demo-exam）, not 演示考试 (demo-exam); and the
    candidate's focus losses in this exam (切屏记录)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "i18n"))
    from punctuation_rule import mixed_punctuation

    panel = harness.panel(qtbot)
    panel._show_status(dataclasses.replace(STATUS, away=AwayTotals(
        losses=2, away_ms=75_000, unknown_returns=0)))
    assert panel.status_labels["exam"].text() == "演示考试（demo-exam）"
    assert panel.status_labels["away"].text() == "离开考试窗口 2 次，共 1 分 15 秒"
    texts = [label.text() for label in panel.findChildren(QLabel)]
    texts += [button.text() for button in panel.findChildren(QPushButton)]
    assert [text for text in texts if mixed_punctuation(text)] == []
    panel._show_status(STATUS)  # before the exam (a held login): nothing counted yet
    assert panel.status_labels["away"].text() == "考试开始后记录"


@pytest.mark.parametrize("screen", [(1366, 768), (1024, 768)])
def test_the_unlocked_panel_fits_a_lab_screen_and_reaches_every_button(qtbot, harness,
                                                                       screen):
    """With the exit action the panel grew taller than a 1366x768 screen and its last row
    of buttons was cut off below the screen edge."""
    from PySide6.QtCore import QRect

    panel = harness.panel(qtbot)
    unlock(qtbot, panel)
    qtbot.waitUntil(panel.is_unlocked)
    width, height = screen
    panel.fit_to_screen(QRect(0, 0, width, height))
    assert panel.frameGeometry().height() <= height
    assert panel.frameGeometry().top() >= 0 and panel.frameGeometry().bottom() < height
    scroll = panel._main_scroll
    for button in panel._main_scroll.widget().findChildren(QPushButton):
        if not button.isVisibleTo(panel):
            continue
        scroll.ensureWidgetVisible(button)
        top_left = button.mapTo(scroll.viewport(), button.rect().topLeft())
        assert top_left.y() >= 0 and top_left.y() + button.height() <= scroll.viewport().height(), \
            button.text()
