"""Extra time in a real headless Chromium: a proctor gives one seat 15 minutes from its
detail panel, pauses and resumes it, then gives a group (the room with one seat unticked)
a tenth of the duration more; the tiles show it, the candidates' heartbeats answer with
the new end, and the audit page lists each grant, the pause and the resume."""

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
MINUTE = 60_000


def _end_by_heartbeat(srv: LiveServer, token: str) -> int:
    response = requests.post(srv.api("/attempt/heartbeat"), json={}, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return int(response.json()["end_ms"])


def test_a_proctor_gives_one_seat_and_then_a_group_extra_time(srv: LiveServer) -> None:
    tokens = {person.student_no: candidate_login(srv, person, client_id=f"pc-{i}").json()["token"]
              for i, person in enumerate(DEMO_CANDIDATES)}
    srv.clock.advance(ms=20 * MINUTE)  # the exam is under way
    end = srv.demo.end_ms
    with console_page(srv.url, username="jiankao",
                      password=DEMO_CONSOLE_PASSWORD) as page:
        page.wait_for_selector('.tile[data-seat="1"]')

        # One seat, from its detail panel: 15 minutes, with the reason.
        page.click('.tile[data-seat="1"]')
        page.click('#detail [data-action="extra_time"]')
        page.fill("#extra-amount", "15")
        page.fill("#reason", "电脑死机，重启耽误 15 分钟")
        page.click("#confirm")
        page.wait_for_selector("#extra-done")
        assert "新的结束时间" in page.inner_text("#extra-done")
        page.wait_for_selector('.tile[data-seat="1"] .badge.extra', timeout=6000)
        assert "延时 +15 分钟" in page.inner_text('.tile[data-seat="1"]')
        assert _end_by_heartbeat(srv, tokens[ZHANG.student_no]) == end + 15 * MINUTE
        if SHOTS:
            page.screenshot(path=str(Path(SHOTS) / "console-07-extra-time.png"))

        # Pause and resume the same seat: the badge comes and goes, the end moves on.
        page.click('#detail [data-action="pause"]')
        page.fill("#reason", "考生身体不适，暂时离开")
        page.click("#confirm")
        page.wait_for_selector("#pause-done")
        page.wait_for_selector('.tile[data-seat="1"] .badge.held', timeout=6000)
        assert "已暂停" in page.inner_text('.tile[data-seat="1"]')
        srv.clock.advance(ms=2 * MINUTE)
        page.click('#detail [data-action="resume"]')
        page.fill("#reason", "考生已返回座位")
        page.click("#confirm")
        page.wait_for_selector("#pause-done")
        assert "新的结束时间" in page.inner_text("#pause-done")
        seat_1 = "document.querySelector('.tile[data-seat=\"1\"]')"
        page.wait_for_function(f"() => !{seat_1}.innerText.includes('已暂停')", timeout=6000)
        paused_for = _end_by_heartbeat(srv, tokens[ZHANG.student_no]) - end - 15 * MINUTE
        assert 2 * MINUTE <= paused_for < 2 * MINUTE + 30_000
        end += paused_for  # 张三's end, before the group's grant

        # A group: every seat shown is ticked; seat 2 is unticked; a multiplier.
        page.click("#detail .close")
        page.click("#group-action")
        page.wait_for_selector("#group-list")
        assert page.locator(".group-seat").count() == 3
        page.uncheck('.group-seat[data-seat="2"]')
        page.select_option("#extra-mode", "multiplier")
        page.fill("#extra-amount", "1.1")
        page.fill("#reason", "考场停电，全场补时")
        if SHOTS:
            page.screenshot(path=str(Path(SHOTS) / "console-08-extra-time-group.png"))
        page.click("#confirm")
        page.wait_for_selector("#group-done")
        assert "2 人" in page.inner_text("#group-done")
        tenth = (srv.demo.end_ms - srv.demo.start_ms) // 10
        assert _end_by_heartbeat(srv, tokens[ZHANG.student_no]) == end + 15 * MINUTE + tenth
        assert _end_by_heartbeat(srv, tokens[LI.student_no]) == srv.demo.end_ms
        assert _end_by_heartbeat(srv, tokens[CHEN.student_no]) == srv.demo.end_ms + tenth

        # The audit page: one row per grant, by this proctor, with the reasons.
        page.goto(f"{srv.url}/console/audit")
        rows = page.locator('#audit tr[data-action="extra_time"]')
        assert rows.count() == 3
        assert page.locator('#audit tr[data-action="pause"]').count() == 1
        assert page.locator('#audit tr[data-action="resume"]').count() == 1
        text = page.inner_text("#audit")
        assert "电脑死机，重启耽误 15 分钟" in text and "考场停电，全场补时" in text
        assert "jiankao" in text and "延长考试时间" in text
