"""The admin upload page in a real headless Chromium (Playwright, Debian's chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest
from headless_chromium import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from offline_helpers import rev, sit

from client.export.offline_file import Marks

playwright_api = pytest.importorskip("playwright.sync_api")


pytestmark = needs_chromium


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def test_admin_logs_in_and_uploads_several_files(browser, srv, tmp_path: Path):
    alice, bob = sit(srv, 0), sit(srv, 1, client_id="pc-02")
    now = srv.clock.now_ms()
    files = []
    for sitting, answers, marks in (
            (alice, [rev("q1", 1, "B", now), rev("q2", 1, "C", now)],
             Marks(question_ids=("q5", "q2"), changed_server_ms=now)),
            (bob, [rev("q5", 1, True, now)], None)):
        name, data = sitting.build_file(answers, marks=marks)
        (tmp_path / name).write_bytes(data)
        files.append(tmp_path / name)
    renamed = tmp_path / "renamed.examans"
    renamed.write_bytes(files[1].read_bytes())
    files.append(renamed)

    page = browser.new_page()
    page.goto(f"{srv.url}/admin/offline")
    assert page.url.endswith("/admin/login")  # not logged in: sent to the login page
    page.fill("#username", srv.demo.admin_username)
    page.fill("#password", "wrong-password")
    page.click("#login")
    assert "用户名或密码错误" in page.inner_text("#error")
    page.fill("#password", srv.demo.admin_password)
    page.click("#login")
    page.wait_for_url("**/admin/offline")
    assert page.inner_text("#admin") == srv.demo.admin_username

    page.set_input_files("#files", [str(f) for f in files])
    page.click("#upload")
    page.wait_for_selector("#results")
    rows = [page.get_attribute(f"#result-{i}", "data-code") for i in range(3)]
    assert rows == ["offline.merged", "offline.merged", "offline.renamed"]
    assert "题 q2：版本 - -> 1" in page.inner_text("#result-0")
    assert "考生的标记已更新：q2, q5" in page.inner_text("#result-0")
    assert "改过名" in page.inner_text("#result-2")
    # The upload was stored and queued; the progress page's totals line sums the files.
    assert "/admin/offline/batch/" in page.url
    assert page.get_attribute("#totals", "data-finished") == "1"
    assert "共 3 个文件" in page.inner_text("#totals")
    assert "完成 2，失败 1" in page.inner_text("#totals")
    assert page.get_attribute("#job-2", "data-state") == "failed"
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    assert srv.db.current_answers(attempt.id) == {"q1": "B", "q2": "C"}

    # The same files again: nothing changes, and the page says so per file.
    page.click("text=继续上传")
    page.wait_for_url("**/admin/offline")
    page.set_input_files("#files", [str(f) for f in files[:2]])
    page.click("#upload")
    page.wait_for_selector("#results")
    assert [page.get_attribute(f"#result-{i}", "data-code") for i in range(2)] == [
        "offline.unchanged", "offline.unchanged"]

    page.click("#logout")
    page.wait_for_url("**/admin/login")
    page.goto(f"{srv.url}/admin/offline")
    assert page.url.endswith("/admin/login")


def test_candidate_token_in_the_browser_gets_the_login_page(browser, srv):
    alice = sit(srv)
    context = browser.new_context()
    context.add_cookies([{"name": "exam_admin", "value": alice.token, "url": srv.url + "/admin"}])
    page = context.new_page()
    page.goto(f"{srv.url}/admin/offline")
    assert page.url.endswith("/admin/login")
    assert page.locator("#files").count() == 0
    context.close()
