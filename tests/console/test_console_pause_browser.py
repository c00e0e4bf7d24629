"""A forgotten pause and answers saved during it, in a real headless Chromium: the seat's
tile says how long it has been paused, turns 需关注 after pause_alarm_s, and counts the
answers its PC saved while paused (held by the server, not merged); the details explain
both."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from console_helpers import candidate_login, console_login
from headless_chromium import SHOTS, console_page, needs_chromium

from server.console.demo_room import DEMO_CONSOLE_PASSWORD
from server.demo import DEMO_CANDIDATES
from server.testing import LiveServer

pytest.importorskip("playwright.sync_api")


pytestmark = needs_chromium
ZHANG = DEMO_CANDIDATES[0]
MINUTE = 60_000


def test_a_long_pause_is_flagged_and_answers_saved_during_it_are_shown(
        srv: LiveServer) -> None:
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    exam = srv.db.get_exam(srv.demo.exam_id)
    assert exam is not None
    srv.clock.set_now(exam.start_ms + 5 * MINUTE)  # type: ignore[attr-defined]
    proctor = console_login(srv, "jiankao")
    zhang_id = proctor.tile(ZHANG.student_no)["candidate_id"]
    assert proctor.act("pause", zhang_id, reason="考生身体不适，暂时离开").status_code == 200
    paused_at = srv.clock.now_ms()
    # The PC never heard of the pause: it uploads an answer saved two minutes into it.
    held = requests.post(srv.api("/attempt/answers"), timeout=10,
                         headers={"Authorization": f"Bearer {token}"},
                         json={"answers": [{"question_id": "q1", "revision": 1, "value": "A",
                                            "client_time_ms": paused_at + 2 * MINUTE}]})
    assert held.status_code == 200 and held.json()["held_during_pause"] == [["q1", 1]]
    srv.clock.set_now(paused_at + 12 * MINUTE)  # type: ignore[attr-defined]

    with console_page(srv.url, username="jiankao",
                      password=DEMO_CONSOLE_PASSWORD) as page:
        tile = '.tile[data-seat="1"]'
        page.wait_for_selector(f"{tile} [data-pause-overdue]")
        text = page.inner_text(tile)
        assert "已暂停 12 分钟" in text and "暂停期间作答 1" in text
        assert "attention" in (page.get_attribute(tile, "class") or "")
        assert page.get_attribute('.tile[data-seat="2"]', "class").find("attention") < 0
        page.click(tile)
        detail = page.inner_text("#detail")
        assert "暂停时间过长，请确认是否恢复作答" in detail
        assert "未计入答案，已留存备查" in detail
        if SHOTS:
            page.screenshot(path=str(Path(SHOTS) / "console-10-pause-alarm.png"),
                            full_page=True)


def test_proctor_actions_from_an_offline_pc_show_both_times(srv: LiveServer) -> None:
    """An exam PC reports, 25 minutes late, what the proctor did on it while it was
    offline: the seat's details and the audit page show when each was done and when it
    arrived."""
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    exam = srv.db.get_exam(srv.demo.exam_id)
    assert exam is not None
    done = exam.start_ms + 5 * MINUTE
    events = [{"seq": i + 1, "kind": kind, "proctor_id": "p1", "wall_time_ms": done + i,
               "server_time_ms": done + i * 3 * MINUTE, "detail": {"name": "王老师"}}
              for i, kind in enumerate(("proctor.unlocked", "proctor.entry_approved",
                                        "proctor.ended"))]
    srv.clock.set_now(done + 25 * MINUTE)  # type: ignore[attr-defined]
    requests.post(srv.api("/attempt/proctor-events"), timeout=10,
                  headers={"Authorization": f"Bearer {token}"},
                  json={"client_id": "pc-01", "events": events}).raise_for_status()
    with console_page(srv.url, username="jiankao",
                      password=DEMO_CONSOLE_PASSWORD) as page:
        page.click('.tile[data-seat="1"]')
        page.wait_for_selector('#detail .pc-actions li[data-action="proctor.entry_approved"]')
        items = page.inner_text("#detail .pc-actions")
        assert "批准入场（考生电脑） · 王老师" in items and "到达" in items
        if SHOTS:
            page.screenshot(path=str(Path(SHOTS) / "console-14-pc-actions-seat.png"))
        page.goto(f"{srv.url}/console/audit")
        row = page.locator('#audit tr[data-action="proctor.entry_approved"]')
        done_cell, arrived_cell = row.locator("td.done").inner_text(), \
            row.locator("td.arrived").inner_text()
        assert done_cell != arrived_cell and done_cell[:10] == arrived_cell[:10]
        assert "王老师（p1）" in row.inner_text()
        if SHOTS:
            page.screenshot(path=str(Path(SHOTS) / "console-15-pc-actions-audit.png"),
                            full_page=True)
