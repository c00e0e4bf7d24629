"""Shared pieces of the UI tests: a real server, a real session, the real exam window."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from client.config import load_settings
from client.session.factory import create_session
from client.ui.app import GuiOptions, build_window
from client.ui.checks import IntegrityChecks
from client.ui.main_window import ExamWindow
from server.testing import LiveServer

INTEGRITY_FIXTURES = Path(__file__).resolve().parents[1] / "integrity" / "fixtures"


def write_fixture_snapshot(target: Path, fixture: str) -> Path:
    """Write the full snapshot of a golden integrity fixture (base + changes) to *target*,
    as ``exam-client check --dump-snapshot`` would have recorded it on that PC."""
    sys.path.insert(0, str(INTEGRITY_FIXTURES.parent))
    try:
        from integrity_fixtures import load_case
    finally:
        sys.path.pop(0)
    target.write_text(load_case(fixture).snapshot.dumps(), encoding="utf-8")
    return target


def integrity_file(tmp_path: Path, fixture: str) -> Path:
    """A snapshot file that a test may rewrite (a tool closed or opened)."""
    return write_fixture_snapshot(tmp_path / "snapshot.json", fixture)


def open_window(qtbot: Any, server: LiveServer, data_dir: Path, *,
                integrity: IntegrityChecks | None) -> ExamWindow:
    assert server.demo is not None
    settings = load_settings([]).with_overrides({
        "server/url": server.url, "server/center_id": server.demo.center_id,
        "data/directory": data_dir})
    window = build_window(create_session(settings),
                          GuiOptions(server_url=server.url, integrity=integrity))
    qtbot.addWidget(window)
    window.show()
    return window


def log_in(qtbot: Any, window: ExamWindow, username: str, password: str) -> None:
    from PySide6.QtCore import Qt

    window.login_page.username.setText(username)
    window.login_page.password.setText(password)
    qtbot.mouseClick(window.login_page.login_button, Qt.MouseButton.LeftButton)


