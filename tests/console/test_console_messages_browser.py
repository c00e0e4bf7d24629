"""Messages in a real headless Chromium: a proctor writes to one seat from its details
and to the room from 多名考生发消息; the tiles say 已发送, then 已送达 and 已读 as the
candidate's PC acknowledges them on its heartbeats."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from console_helpers import candidate_login
from headless_chromium import SHOTS, console_page, needs_chromium

from server.console.demo_room import DEMO_CONSOLE_PASSWORD
from server.demo import DEMO_CANDIDATES
from server.testing import LiveServer

pytest.importorskip("playwright.sync_api")


pytestmark = needs_chromium
ZHANG, LI, CHEN = DEMO_CANDIDATES


def _beat(srv: LiveServer, token: str, *, seen: int = 0, read: int = 0) -> list[dict]:
    response = requests.post(srv.api("/attempt/heartbeat"), timeout=10,
                             headers={"Authorization": f"Bearer {token}"},
                             json={"messages_seen": seen, "messages_read": read})
    response.raise_for_status()
    return list(response.json()["messages"])


def test_a_proctor_writes_to_a_seat_and_to_the_room(srv: LiveServer) -> None:
    tokens = {p.student_no: candidate_login(srv, p, client_id=f"pc-{i}").json()["token"]
              for i, p in enumerate(DEMO_CANDIDATES)}
    with console_page(srv.url, username="jiankao",
                      password=DEMO_CONSOLE_PASSWORD) as page:
        page.wait_for_selector('.tile[data-seat="2"]')

        # One seat: 李四, from the details.
        page.click('.tile[data-seat="2"]')
        page.click('#detail [data-action="message"]')
        page.fill("#message-text", "请把草稿纸写上姓名和座位号")
        page.click("#confirm")
        page.wait_for_selector("#message-done")
        page.wait_for_selector('.tile[data-seat="2"] [data-message-state="sent"]')
        [message] = _beat(srv, tokens[LI.student_no])
        assert message["text"] == "请把草稿纸写上姓名和座位号"
        _beat(srv, tokens[LI.student_no], seen=message["id"])
        page.wait_for_selector('.tile[data-seat="2"] [data-message-state="delivered"]',
                               timeout=6000)
        _beat(srv, tokens[LI.student_no], seen=message["id"], read=message["id"])
        page.wait_for_selector('.tile[data-seat="2"] [data-message-state="read"]',
                               timeout=6000)
        assert "已读" in page.inner_text("#detail")
        if SHOTS:
            page.screenshot(path=str(Path(SHOTS) / "console-09-message.png"))

        # The room: every seat shown is ticked.
        page.click("#detail .close")
        page.click("#group-message")
        page.wait_for_selector("#group-list")
        assert page.locator(".group-seat").count() == 3
        page.fill("#message-text", "距考试结束还有 15 分钟，请检查答卷")
        page.click("#confirm")
        page.wait_for_selector("#group-done")
        assert "3 人" in page.inner_text("#group-done")
        for person in DEMO_CANDIDATES:
            texts = [m["text"] for m in _beat(srv, tokens[person.student_no])]
            assert texts[-1] == "距考试结束还有 15 分钟，请检查答卷"
        page.goto(f"{srv.url}/console/audit")
        assert page.locator('#audit tr[data-action="message"]').count() == 4
        assert "发送消息" in page.inner_text("#audit")
