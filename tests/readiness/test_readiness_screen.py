"""The first-start 考前检查 screen, offscreen: lines with icons, summary, re-check."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt, QThreadPool
from pytestqt.qtbot import QtBot

from client.config import Settings
from client.readiness.report import summary_line
from client.readiness.runner import ReadinessContext
from client.ui.readiness_screen import ReadinessScreen
from server.readiness import latest_reports
from server.testing import LiveServer

pytestmark = pytest.mark.qt


def run_once(qtbot: QtBot, screen: ReadinessScreen, action: Callable[[], None]) -> list[object]:
    with qtbot.waitSignal(screen.finished, timeout=60_000) as blocker:
        action()
    assert blocker.args is not None
    results: list[object] = blocker.args[0]
    return results


def test_screen_shows_every_line_and_rechecks(qtbot: QtBot, server: LiveServer,
                                              make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(url=server.url, center_id="demo-center")
    screen = ReadinessScreen(ReadinessContext.from_settings(settings))
    qtbot.addWidget(screen)
    screen.show()

    results = run_once(qtbot, screen, screen.start)
    assert screen.lines.count() == len(results) == 16  # + client_version, ucrt, exam_day, config
    for row, result in enumerate(results):
        item = screen.lines.item(row)
        assert item.data(Qt.ItemDataRole.UserRole) == result.status.value  # type: ignore[attr-defined]
        assert result.message in item.text()  # type: ignore[attr-defined]
        assert not item.icon().isNull()
    assert screen.summary.text() == summary_line(results)  # type: ignore[arg-type]
    assert screen.recheck_button.isEnabled()
    assert screen.last_report is not None and screen.last_report.uploaded
    assert len(latest_reports(server.db, "demo-center")) == 1
    # Offscreen Qt has a fixed 800x800 screen and no OpenGL: both are reported, not hidden.
    names = {r.name: r for r in results}  # type: ignore[attr-defined]
    assert names["screen"].detail["width"] == 800
    assert names["opengl"].detail["error"]

    again = run_once(qtbot, screen, screen.recheck_button.click)
    assert screen.lines.count() == len(again) == 16  # + client_version, ucrt, exam_day, config
    assert screen.exit_code() in (0, 1, 2)
    QThreadPool.globalInstance().waitForDone(10_000)


def test_a_second_start_while_running_is_ignored(qtbot: QtBot, server: LiveServer,
                                                 make_settings: Callable[..., Settings]) -> None:
    screen = ReadinessScreen(ReadinessContext.from_settings(
        make_settings(url=server.url, center_id="demo-center")), upload=False)
    qtbot.addWidget(screen)
    with qtbot.waitSignal(screen.finished, timeout=60_000):
        screen.start()
        assert screen.running and not screen.recheck_button.isEnabled()
        screen.start()  # the button is disabled; a programmatic second start does nothing
    assert screen.lines.count() == 16  # + client_version, ucrt, exam_day, config
    assert latest_reports(server.db, "demo-center") == []
    QThreadPool.globalInstance().waitForDone(10_000)
