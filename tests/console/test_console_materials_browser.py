"""Issue 22 in a real headless Chromium (Playwright, Debian's chromium): the proctor, shown
by real name with photo in the console header, opens 应急材料, picks a room photo, ticks
a candidate listed by real name, gives the reason and submits; the watermarked photo
then shows in the list. No script error and no CSP violation on the way."""

from __future__ import annotations

from pathlib import Path

import pytest
from headless_chromium import CHROMIUM, CHROMIUM_ARGS, SHOTS, needs_chromium
from test_console_materials import room_jpeg

from server.console.demo_room import DEMO_CONSOLE_PASSWORD, DEMO_PROCTOR_USERNAME
from server.console.identity import set_real_name
from server.demo import DEMO_CANDIDATES, DEMO_PROCTOR_ID_NUMBER, demo_proctor_photo
from server.materials import list_materials
from server.testing import LiveServer

playwright_api = pytest.importorskip("playwright.sync_api")


pytestmark = needs_chromium
ZHANG = DEMO_CANDIDATES[0]
LOADED = "(img) => img.complete && img.naturalWidth > 0"


def test_proctor_submits_materials_from_the_console_in_a_browser(
        srv: LiveServer, tmp_path: Path) -> None:
    assert srv.demo is not None
    set_real_name(srv.db, srv.context.keys, username=DEMO_PROCTOR_USERNAME,
                  id_number=DEMO_PROCTOR_ID_NUMBER, photo=demo_proctor_photo().read_bytes())
    room_file = tmp_path / "room.jpg"
    room_file.write_bytes(room_jpeg())
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # Script errors and CSP violations; failed loads are checked by URL below
            # (Chromium probes /favicon.ico, which the console does not serve).
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                    and "Failed to load resource" not in msg.text else None)
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            page.goto(f"{srv.url}/console/login")
            page.fill("#username", DEMO_PROCTOR_USERNAME)
            page.fill("#password", DEMO_CONSOLE_PASSWORD)
            page.click("#login")
            page.wait_for_url("**/console")
            assert page.inner_text("#id-number") == "身份证号 110101********3456"
            page.wait_for_function(LOADED, arg=page.query_selector("#who-photo"))

            page.click("#materials-link")
            page.wait_for_selector("#upload")
            box = f'label.cand:has(input[value="{ZHANG.student_no}"])'
            assert ZHANG.name in page.inner_text(box)
            page.set_input_files("#photos", str(room_file))
            page.check(f'input[name="candidates"][value="{ZHANG.student_no}"]')
            page.fill("#reason", "考场网络中断，人脸识别无法完成")
            page.click("#submit")
            page.wait_for_selector("#message")
            assert "已提交（1 张照片）" in page.inner_text("#message")
            material = page.locator("div.material").first
            assert "王老师（监考教师" in material.inner_text()
            assert f"{ZHANG.student_no} {ZHANG.name}" in material.inner_text()
            page.wait_for_function(LOADED, arg=page.query_selector("img.material"))
            if SHOTS:
                page.screenshot(path=str(Path(SHOTS) / "console-06-materials.png"),
                                full_page=True)
            assert errors == []
        finally:
            browser.close()
    [stored] = list_materials(srv.db, exam_id=srv.demo.exam_id, center_id=None)
    assert stored.source == "console" and stored.candidates == (ZHANG.student_no,)
