"""e-01/e-02 in the exam window: a remote-control tool keeps the exam locked until it is
closed and re-checked; one started during the exam covers the exam until it is closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from ui_support import integrity_file, log_in, open_window, write_fixture_snapshot

from client.ui.checks import replayed_integrity_checks
from server.testing import live_server

pytestmark = pytest.mark.qt


def test_remote_control_tool_locks_the_exam_until_closed(qtbot: Any, tmp_path: Path) -> None:
    snapshot = integrity_file(tmp_path, "tool_todesk")
    checks = replayed_integrity_checks(snapshot)
    checks.process_interval_s = 0.2
    checks.device_interval_s = 0.4
    with live_server(tmp_path / "server", demo=True, start_in_s=2, duration_s=1800) as server:
        assert server.demo is not None
        window = open_window(qtbot, server, tmp_path / "client", integrity=checks)
        log_in(qtbot, window, server.demo.username, server.demo.password)
        qtbot.waitUntil(lambda: window.integrity_panel is not None
                        and bool(window.integrity_panel.findings), timeout=15_000)
        panel = window.integrity_panel
        texts = [panel._list.item(i).text() for i in range(panel._list.count())]
        assert any("ToDesk" in text and "e-01" in text for text in texts), texts
        assert not panel.allowed

        qtbot.wait(4_000)  # the start time passes; the exam must stay locked
        assert window.current_page == "waiting"
        assert not window.waiting_page.enter_button.isEnabled()

        # The candidate quits ToDesk and presses 重新检测.
        write_fixture_snapshot(snapshot, "fp_clean_lab_pc")
        qtbot.mouseClick(panel._recheck, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.current_page == "exam", timeout=15_000)

        # A tool started during the exam covers the exam; closing it uncovers it.
        write_fixture_snapshot(snapshot, "tool_anydesk")
        qtbot.waitUntil(lambda: window.integrity_overlay.isVisible(), timeout=10_000)
        assert "AnyDesk" in window.integrity_overlay._body.text()

        # A source becomes unreadable: the proctor's status line names it (issue 17).
        write_fixture_snapshot(snapshot, "source_cameras_none")
        qtbot.waitUntil(lambda: "摄像头列表" in window._integrity_summary(), timeout=10_000)
        assert "检测来源不可用" in window._integrity_summary()
        # The overlay's 重新检测 runs a full scan and answers, whatever the outcome.
        button = window.integrity_overlay._recheck
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(button.isEnabled, timeout=10_000)
        assert "ToDesk" in window.integrity_overlay._body.text()
        write_fixture_snapshot(snapshot, "fp_clean_lab_pc")
        qtbot.waitUntil(lambda: not window.integrity_overlay.isVisible(), timeout=10_000)
        window.shutdown()
