"""Held after a failed face check, in the real exam window (offscreen), real server, real
HTTP, real camera pipeline on recorded frames (a frozen picture: liveness fails):

- once the failures are used up the window asks the console by itself and the identity
  page says so (审批编号 N); the paper does not open at the start;
- the proctor approves in the console (over HTTP as the browser does); the PC hears it on
  its next heartbeat, the page says 准予入场, and at the start the exam page opens.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from console_actions import console_action, room_tiles
from face_photos import face_jpeg
from ui_support import log_in

from client.camera.settings import CameraSettings
from client.camera.sources import MemorySequenceSource
from client.config import load_settings
from client.review.services import review_services_for
from client.session.factory import create_session
from client.ui.app import GuiOptions, build_window
from client.ui.checks import CameraChecks
from client.ui.main_window import ExamWindow
from server.base_photos import put_base_photo
from server.testing import LiveServer, live_server

pytestmark = pytest.mark.qt
SHOTS = os.environ.get("EXAM_MESSAGE_SCREENSHOTS")  # scripts/console_client_screenshots.py


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server", demo=True, start_in_s=600, duration_s=3600) as live:
        yield live


def frozen_face() -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(face_jpeg(), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def held_window(qtbot: Any, server: LiveServer, data_dir: Path) -> ExamWindow:
    assert server.demo is not None
    settings = load_settings([]).with_overrides({
        "server/url": server.url, "server/center_id": server.demo.center_id,
        "data/directory": data_dir, "server/timeout_seconds": 15,
        "sync/heartbeat_seconds": 0.3})
    frame = frozen_face()
    camera = CameraChecks(source_factory=lambda: MemorySequenceSource([frame] * 40),
                          settings=CameraSettings(max_failures_before_proctor=1),
                          data_dir=data_dir / "camera", enforce=True)
    window = build_window(create_session(settings), GuiOptions(
        server_url=server.url, camera=camera, review_factory=review_services_for))
    qtbot.addWidget(window)
    window.resize(1100, 800)
    window.show()
    return window


def test_a_held_pc_is_let_in_from_the_console_and_opens_the_paper(
        qtbot: Any, server: LiveServer, tmp_path: Path) -> None:
    demo = server.demo
    assert demo is not None
    candidate_id = next(t["candidate_id"] for t in room_tiles(server)
                        if t["student_no"] == demo.username)
    put_base_photo(server.db, server.context.keys, candidate_id=candidate_id,
                   jpeg=face_jpeg(), now_ms=server.clock.now_ms(), uploaded_by="test")
    window = held_window(qtbot, server, tmp_path / "pc")
    try:
        log_in(qtbot, window, demo.username, demo.password)
        qtbot.waitUntil(lambda: window.current_page == "waiting", timeout=30_000)
        assert int(window.session.attempt.login.candidate_id) == candidate_id
        qtbot.waitUntil(lambda: window.camera_panel is not None, timeout=30_000)
        panel = window.camera_panel

        def asked() -> bool:
            # The exam's policy (package) may allow more tries: use them up.
            if panel.retry_button.isVisible() and not panel.running:
                panel.retry_button.click()
            return panel.console_status.isVisible()

        qtbot.waitUntil(asked, timeout=120_000)
        tile = next(t for t in room_tiles(server) if t["candidate_id"] == candidate_id)
        hold = tile["face_hold"]
        assert hold is not None and hold["status"] == "pending" and hold["captures"] >= 1
        assert f"审批编号 {hold['id']}" in panel.console_status.text()
        assert window.session.identity_held
        if SHOTS:
            window.grab().save(str(Path(SHOTS) / "client-face-held.png"))

        console_action(server, action="approve_face", candidate_id=candidate_id,
                       hold_id=hold["id"], reason="已核对身份证，系本人")
        qtbot.waitUntil(lambda: "准予入场" in panel.console_status.text(), timeout=10_000)
        assert not window.session.identity_held
        assert not panel.proctor_button.isVisible()
        if SHOTS:
            window.grab().save(str(Path(SHOTS) / "client-face-approved.png"))

        server.clock.advance(ms=601_000)  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: window.current_page == "exam", timeout=60_000)
    finally:
        window.shutdown()
