"""Proctor mode from the exam window: unlocked with the proctor's credentials from the
package (no network needed), the offline answer file exported to a "USB stick" folder,
and the server importing it answer by answer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from ui_support import log_in, open_window

from client.export.removable_drives import ExportLocation
from server.offline_import import ImportScope, import_offline_file
from server.testing import live_server

pytestmark = pytest.mark.qt


def test_proctor_exports_the_offline_answer_file(qtbot: Any, tmp_path: Path) -> None:
    with live_server(tmp_path / "server", demo=True, start_in_s=2, duration_s=1800) as server:
        demo = server.demo
        assert demo is not None
        window = open_window(qtbot, server, tmp_path / "client", integrity=None)
        log_in(qtbot, window, demo.username, demo.password)
        qtbot.waitUntil(lambda: window.current_page == "exam", timeout=20_000)
        page = window.exam_page
        assert page is not None
        first = page.panes[0]
        qtbot.mouseClick(first.editor.button(first.item.option_ids[1]), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "已保存" in page.save_state.text(), timeout=10_000)

        window.open_proctor_panel()
        panel = window.proctor_panel
        panel.name_edit.setText(demo.proctor_name)
        panel.password_edit.setText("wrong-password")
        qtbot.mouseClick(panel.unlock_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(panel.unlock_error.text()), timeout=10_000)
        assert not panel.is_unlocked()
        qtbot.waitUntil(lambda: panel.unlock_button.isEnabled(), timeout=10_000)
        panel.name_edit.setText(demo.proctor_name)
        panel.password_edit.setText(demo.proctor_password)
        qtbot.mouseClick(panel.unlock_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(panel.is_unlocked, timeout=10_000)

        usb = tmp_path / "usb"
        usb.mkdir()
        item = panel._add_location(ExportLocation(path=usb, label="U盘 (E:)", removable=True))
        panel.location_list.setCurrentItem(item)
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: getattr(panel, "last_export", None) is not None, timeout=20_000)
        exported = panel.last_export.path
        assert exported.parent == usb and exported.exists()
        assert demo.exam_id in exported.name and demo.username in exported.name

        report = import_offline_file(server.context, data=exported.read_bytes(),
                                     file_name=exported.name, scope=ImportScope())
        assert report.status.value in ("merged", "unchanged"), report
        attempt = server.db.find_attempt(exam_id=demo.exam_id, candidate_id=report.attempt_id
                                         and server.db.get_attempt(report.attempt_id).candidate_id)
        assert attempt is not None
        answers = server.db.current_answers(attempt.id)
        assert answers[first.item.id] == first.item.option_ids[1]
        panel.close()
        time.sleep(0.1)
        window.shutdown()
