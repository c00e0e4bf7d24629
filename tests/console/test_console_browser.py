"""The console in a real headless Chromium (Playwright, Debian's chromium): a proctor and
a chief examiner log in, watch tiles change live, and act; a held PC is let in."""

from __future__ import annotations

from pathlib import Path

import pytest
from console_helpers import candidate_login, save_answer, upload_lockdown
from headless_chromium import CHROMIUM, CHROMIUM_ARGS, SHOTS, needs_chromium

from client.i18n import set_language
from server.console.demo_room import DEMO_CONSOLE_PASSWORD
from server.demo import DEMO_CANDIDATES
from server.testing import LiveServer

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium
ZHANG, LI, CHEN = DEMO_CANDIDATES


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def _log_in(browser, srv: LiveServer, username: str):
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # HTTP errors the page handles itself (409 refusals, the browser's favicon probe) are
    # logged by Chromium as console errors; script errors and CSP violations are not.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
            and "Failed to load resource" not in msg.text else None)
    page.goto(f"{srv.url}/console")
    assert page.url.endswith("/console/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_CONSOLE_PASSWORD)
    page.click("#login")
    page.wait_for_url("**/console")
    page.wait_for_selector(".tile")
    return page, errors


def test_proctor_watches_the_room_and_the_chief_lets_a_held_pc_in(browser,
                                                                   srv: LiveServer) -> None:
    proctor, proctor_errors = _log_in(browser, srv, "jiankao")
    assert "监考教师" in proctor.inner_text("#who")
    tile = proctor.locator('.tile[data-seat="1"]')
    assert tile.get_attribute("data-state") == "not_logged_in"

    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    assert candidate_login(srv, LI, client_id="pc-02").status_code == 200
    # The page updates by itself (no reload) within a few seconds.
    proctor.wait_for_selector('.tile[data-seat="1"][data-state="waiting"]', timeout=6000)
    srv.clock.advance(ms=601_000)
    save_answer(srv, token, question_id="q1", revision=1, value="B")
    proctor.wait_for_selector('.tile[data-seat="1"][data-state="answering"]', timeout=6000)
    assert "已答 1" in proctor.inner_text('.tile[data-seat="1"]')

    # 李四's PC breaks; the new PC is held, and the tile says so with the request number.
    srv.clock.advance(ms=130_000)
    held = candidate_login(srv, LI, client_id="pc-17")
    request_id = held.json()["detail"]["request_id"]
    proctor.wait_for_selector('.tile[data-seat="2"][data-state="held"]', timeout=6000)
    assert f"#{request_id}" in proctor.inner_text('.tile[data-seat="2"]')
    proctor.click('.count[data-filter="attention"]')
    assert proctor.locator(".tile").count() >= 1
    _shot(proctor, "console-01-room-proctor.png")

    # The proctor marks the empty seat absent with the action panel.
    proctor.click('.count[data-filter="all"]')
    proctor.click('.tile[data-seat="3"]')
    assert proctor.locator('[data-action="approve_login"]').count() == 0  # not theirs
    proctor.click('[data-action="mark_absent"]')
    proctor.fill("#reason", "未到考场")
    proctor.click("#confirm")
    proctor.wait_for_selector('.tile[data-seat="3"] .badge.absent', timeout=6000)
    _shot(proctor, "console-02-seat-detail.png")

    chief, chief_errors = _log_in(browser, srv, "zhukao")
    chief.click('.tile[data-seat="2"]')
    chief.click('[data-action="approve_login"]')
    chief.click("#confirm")  # no reason: refused with a message, nothing changes
    chief.wait_for_selector("#dialog .error")
    assert "请填写原因" in chief.inner_text("#dialog")
    chief.fill("#reason", "原电脑蓝屏，已核对身份证")
    chief.click("#confirm")
    chief.wait_for_selector("#dialog .ok")
    assert candidate_login(srv, LI, client_id="pc-17").status_code == 200
    chief.wait_for_selector('.tile[data-seat="2"][data-state="answering"]', timeout=6000)

    chief.click('.tile[data-seat="1"]')
    chief.click('[data-action="issue_code"]')
    chief.fill("#reason", "学生机死机，换机")
    chief.click("#confirm")
    chief.wait_for_selector("#issued-code")
    assert "有效至" in chief.inner_text("#issued-code")
    _shot(chief, "console-03-chief-code.png")

    chief.click("#audit-link")
    chief.wait_for_selector("#audit")
    audit = chief.inner_text("#audit")
    for line in ("批准再次登录", "发放授权码", "标记缺考", "jiankao", "zhukao"):
        assert line in audit
    _shot(chief, "console-04-audit.png")
    assert not proctor_errors and not chief_errors, proctor_errors + chief_errors


def _next_poll(page) -> None:
    """Wait until the page has applied one more room poll (it stamps the server time)."""
    before = page.evaluate("document.body.dataset.updatedAt")
    page.wait_for_function("(before) => document.body.dataset.updatedAt !== before",
                           arg=before, timeout=10_000)


def test_polls_leave_a_reason_being_typed_and_an_issued_code_alone(browser,
                                                                   srv: LiveServer) -> None:
    """A poll every 2 s used to rebuild the whole detail panel: a reason being typed lost
    its text and focus, and an issued code vanished before the chief could read it out."""
    chief, errors = _log_in(browser, srv, "zhukao")
    chief.click('.tile[data-seat="1"]')
    chief.click('[data-action="issue_code"]')
    chief.type("#reason", "学生机死机")
    _next_poll(chief)
    _next_poll(chief)
    chief.keyboard.type("，换机")  # still typing into the same box
    assert chief.input_value("#reason") == "学生机死机，换机"
    chief.click("#confirm")
    chief.wait_for_selector("#issued-code")
    _next_poll(chief)
    _next_poll(chief)
    assert "有效至" in chief.inner_text("#issued-code")
    # Another seat: its own, empty dialog.
    chief.click('.tile[data-seat="2"]')
    assert chief.locator("#issued-code").count() == 0
    assert errors == []


def test_each_tile_shows_its_switch_count(browser, srv: LiveServer, tmp_path: Path) -> None:
    """The PC uploads its lockdown records (two 切屏, one screen lock, one sleep); the
    proctor's page shows 切屏 2 次, 锁屏 1 次 and 睡眠唤醒 1 次 on that seat's tile and, in
    its detail, the time of each, the lock and the sleep not counted as 切屏. Another PC's
    switch to another user shows as 切屏 and 切换用户 on its own tile."""
    proctor, errors = _log_in(browser, srv, "jiankao")
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    other_token = candidate_login(srv, LI, client_id="pc-02").json()["token"]
    srv.clock.advance(ms=601_000)
    save_answer(srv, token, question_id="q1", revision=1, value="B")
    upload_lockdown(srv, token, tmp_path / "pc-01.db", [
        (0, "lost"), (4_000, "back"), (90_000, "lost"), (3_000, "back"),
        (30_000, "locked"), (200_000, "unlocked"), (0, "back"),
        (60_000, "suspended"), (45_000, "resumed"), (0, "back")])
    proctor.wait_for_selector('.tile[data-seat="1"] .badge.suspends', timeout=6000)
    seat = '.tile[data-seat="1"] .badge'
    assert proctor.inner_text(f"{seat}.switches") == "切屏 2 次"
    assert proctor.inner_text(f"{seat}.session-locks") == "锁屏 1 次"
    assert proctor.inner_text(f"{seat}.suspends") == "睡眠唤醒 1 次"
    assert proctor.locator(f"{seat}.user-switches").count() == 0
    assert proctor.locator('.tile[data-seat="2"] .badge.switches').count() == 0
    proctor.click('.tile[data-seat="1"]')
    detail = proctor.inner_text("#detail")
    assert "切屏\n2 次 · 共 7 秒" in detail
    assert "锁屏\n1 次 · 共 3 分钟（不计为切屏）" in detail
    assert "睡眠唤醒\n1 次 · 共 45 秒（不计为切屏）" in detail
    assert "切换用户\n无" in detail
    _shot(proctor, "console-05-switch-count.png")
    upload_lockdown(srv, other_token, tmp_path / "pc-02.db", [
        (0, "locked"), (2_000, "switched_away"), (600_000, "switched_back"),
        (1_000, "unlocked"), (0, "back")])
    seat = '.tile[data-seat="2"] .badge'
    proctor.wait_for_selector(f"{seat}.user-switches", timeout=6000)
    assert proctor.inner_text(f"{seat}.user-switches") == "切换用户 1 次"
    assert proctor.inner_text(f"{seat}.switches") == "切屏 1 次"
    proctor.click('.tile[data-seat="2"]')
    assert "切换用户\n1 次（计入切屏，待审核）" in proctor.inner_text("#detail")
    _shot(proctor, "console-05b-user-switch.png")
    # The same seat in an English console: every kind named, nothing left in Chinese.
    set_language("en")
    try:
        proctor.reload()
        proctor.wait_for_selector('.tile[data-seat="1"] .badge.suspends', timeout=6000)
        assert proctor.inner_text('.tile[data-seat="1"] .badge.session-locks') == (
            "Screen locked once")
        assert proctor.inner_text('.tile[data-seat="1"] .badge.switches') == (
            "Left the exam window 2 times")
        proctor.click('.tile[data-seat="1"]')
        detail = proctor.inner_text("#detail")
        assert "Asleep\nonce · in total 45 s (not counted as leaving)" in detail
        assert "Screen locked\nonce · in total 3 min (not counted as leaving)" in detail
        _shot(proctor, "console-05-switch-count-en.png")
    finally:
        set_language("zh_CN")
    assert not errors, errors
