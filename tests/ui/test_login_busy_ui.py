"""At the start of an exam the server lets logins in one after another and answers the
rest ``429 busy`` with Retry-After (server/login_gate.py). The login page then shows a
calm line, not an error, counts the button down and logs in again by itself."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import requests
from ui_support import log_in, open_window

from client.errors import UserFacingError
from client.sync.login_retry import JITTER, MAX_WAIT_S, busy_login_wait_s
from server.testing import live_server, login_gate_full

pytestmark = pytest.mark.qt


def test_a_queued_out_login_counts_down_and_logs_in_by_itself(qtbot: Any,
                                                              tmp_path: Path) -> None:
    with live_server(tmp_path / "server", start_in_s=-60, login_slots=1,
                     login_max_wait_s=0.01) as server:
        demo = server.demo
        assert demo is not None
        window = open_window(qtbot, server, tmp_path / "pc", integrity=None)
        page = window.login_page
        with login_gate_full(server):  # its places free at the end: the next try gets in
            # The holders reached the gate once a login that would queue is refused.
            qtbot.waitUntil(lambda: requests.post(server.api("/login"), timeout=5, json={
                "username": "nobody", "password": "x"}).status_code == 429, timeout=10_000)
            log_in(qtbot, window, demo.username, demo.password)
            qtbot.waitUntil(lambda: "自动登录" in page.login_button.text(), timeout=15_000)
            # Calm: a neutral line, no red error, nothing to click.
            assert not page.login_button.isEnabled()
            assert page.status.isVisible() and "这不是错误" in page.status.text()
            assert not page.error.isVisible()
            first = page.login_button.text()
            qtbot.waitUntil(lambda: page.login_button.text() != first, timeout=5_000)
            page._submit()  # Enter pressed while counting down changes nothing
            assert not page.login_button.isEnabled()
        qtbot.waitUntil(lambda: window.current_page == "exam", timeout=30_000)
        assert not page.status.isVisible()
        window.shutdown()


def test_the_wait_is_the_servers_retry_after_or_a_little_longer() -> None:
    busy = UserFacingError("busy", "…", retry_after_s=3)
    waits = [busy_login_wait_s(busy, rng=random.Random(seed)) for seed in range(200)]
    assert all(w is not None and 3 <= w <= 3 * (1 + JITTER) for w in waits)  # never sooner
    # Spread over the whole jitter range: a room told "3 s" does not come back in step.
    assert max(w for w in waits if w) - min(w for w in waits if w) > 3 * JITTER * 0.8
    huge = UserFacingError("busy", "…", retry_after_s=86_400)
    found = busy_login_wait_s(huge, rng=random.Random(1))
    assert found is not None and found <= MAX_WAIT_S * (1 + JITTER)
    assert busy_login_wait_s(UserFacingError("wrong_password", "…"),
                             rng=random.Random(1)) is None
