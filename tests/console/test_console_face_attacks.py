"""Attack set of the console's decision on a failed face check (server/identity_holds.py,
``approve_face`` / ``refuse_face``, ``/console/face/...``): each test is one attack and
passes only when it is stopped. Real server over HTTP; headless Chromium where the
browser decides. benchmarks/console_attacks.py runs it with the console's other sets
(category ``face``).

One server for the module: 张三 and 李四 in room 1 (proctor jiankao), 陈大文 in room 2
(proctor room2), a chief examiner of another center. 张三 and 陈大文 are held.
"""

from __future__ import annotations

import base64
import concurrent.futures
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from console_helpers import (
    ConsoleClient,
    candidate_login,
    console_login,
    face_jpeg,
    heartbeat,
    request_face_hold,
)
from sqlalchemy import select

from server.console import tables as ct
from server.console.accounts import create_account
from server.console.roles import Role
from server.console.seating import SeatRow, assign
from server.demo import DEMO_CANDIDATES, DEMO_CENTER_ID
from server.identity_holds import get_hold
from server.testing import LiveServer, live_server

ZHANG, LI, CHEN = DEMO_CANDIDATES
PASSWORD = "attack-pass-1"
MARKUP = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>比对未通过'
CHROMIUM = "/usr/bin/chromium"


def attack(category: str) -> pytest.MarkDecorator:
    return pytest.mark.attack(category)


class World:
    def __init__(self, srv: LiveServer) -> None:
        self.srv = srv
        self.url = srv.url
        self.exam = srv.demo.exam_id
        now = srv.clock.now_ms()
        assign(srv.db, exam_id=self.exam, rows=[SeatRow(candidate=CHEN.student_no,
                                                        room="第2考场", seat="1")])
        srv.db.upsert_center(center_id="C-OTHER", name="另一考点", allowed_ips=[])
        for username, role, center, room in (("room2", Role.PROCTOR, DEMO_CENTER_ID, "第2考场"),
                                             ("chief2", Role.CHIEF, "C-OTHER", None)):
            create_account(srv.db, username=username, display_name=username, role=role,
                           center_id=center, room=room, password=PASSWORD, now_ms=now)
        self.proctor = console_login(srv, "jiankao")
        self.chief = console_login(srv, "zhukao")
        self.room2 = console_login(srv, "room2", PASSWORD)
        self.chief2 = _no_exam_login(srv, "chief2")
        self.zhang_token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
        self.li_token = candidate_login(srv, LI, client_id="pc-02").json()["token"]
        self.chen_token = candidate_login(srv, CHEN, client_id="pc-03").json()["token"]
        ids = {t["student_no"]: t["candidate_id"] for t in self.chief.tiles()}
        self.zhang, self.li, self.chen = (ids[ZHANG.student_no], ids[LI.student_no],
                                          ids[CHEN.student_no])
        self.zhang_hold = self.hold(self.zhang_token, "zhang-check-0001", message=MARKUP)
        self.chen_hold = self.hold(self.chen_token, "chen-check-0001")

    def hold(self, token: str, event_id: str, **extra: Any) -> int:
        answer = request_face_hold(self.srv, token, event_id=event_id, **extra)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["hold_id"])

    def status(self, hold_id: int) -> str:
        hold = get_hold(self.srv.db, hold_id)
        assert hold is not None
        return hold.status

    def face_url(self, candidate_id: int, hold_id: int, position: int | str = 0) -> str:
        return f"{self.url}/console/face/{self.exam}/{candidate_id}/{hold_id}/{position}"

    def audit_rows(self, action: str) -> list[Any]:
        with self.srv.db.read() as conn:
            return list(conn.execute(select(ct.audit).where(ct.audit.c.action == action)))


def _no_exam_login(srv: LiveServer, username: str) -> ConsoleClient:
    import re

    http = requests.Session()
    page = http.post(f"{srv.url}/console/login", timeout=30,
                     data={"username": username, "password": PASSWORD})
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert match, page.text[:300]
    return ConsoleClient(srv=srv, http=http, csrf=match.group(1))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_server(tmp_path_factory.mktemp("face-attack-server"), start_in_s=600,
                     duration_s=3600) as srv:
        yield World(srv)


# -- deciding someone else's hold ------------------------------------------------------

@attack("face")
def test_another_rooms_proctor_cannot_approve(world: World) -> None:
    refused = world.room2.act("approve_face", world.zhang, hold_id=world.zhang_hold,
                              reason="帮个忙")
    assert refused.status_code == 404
    assert world.status(world.zhang_hold) == "pending"
    # Tried and refused: on the trier's own trail for the chief examiner.
    tried = [r for r in world.audit_rows("action_refused") if r.actor == "room2"]
    assert tried and tried[-1].detail["tried"] == "approve_face"


@attack("face")
def test_another_rooms_proctor_cannot_approve_through_their_own_seat(world: World) -> None:
    refused = world.room2.act("approve_face", world.chen, hold_id=world.zhang_hold,
                              reason="编号写错了")
    assert refused.status_code == 409 and refused.json()["error"] == "console.no_such_hold"
    assert world.status(world.zhang_hold) == "pending"


@attack("face")
def test_another_centers_chief_cannot_approve(world: World) -> None:
    refused = world.chief2.act("approve_face", world.zhang, hold_id=world.zhang_hold,
                               reason="总部批准")
    assert refused.status_code == 404
    assert world.status(world.zhang_hold) == "pending"


@attack("face")
def test_the_candidate_cannot_approve_itself_in_the_console(world: World) -> None:
    body = {"action": "approve_face", "exam_id": world.exam, "candidate_id": world.zhang,
            "hold_id": world.zhang_hold, "reason": "我是本人"}
    for kwargs in ({"headers": {"Authorization": f"Bearer {world.zhang_token}"}},
                   {"cookies": {"exam_console": world.zhang_token}}):
        answer = requests.post(f"{world.url}/console/api/action", timeout=10, json=body,
                               **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == 401
    assert world.status(world.zhang_hold) == "pending"


@attack("face")
def test_the_candidate_cannot_approve_itself_through_the_pc_api(world: World) -> None:
    # A decision in the request body (extra fields) is not read; the hold stays pending.
    asked = request_face_hold(world.srv, world.zhang_token, event_id="zhang-check-0001",
                              status="approved", decided_by="proctor:jiankao",
                              approved_by_proctor=True)
    assert asked.json() == {"hold_id": world.zhang_hold, "status": "pending"}
    # Nor by a heartbeat, nor by the identity upload claiming a proctor's approval.
    beat = heartbeat(world.srv, world.zhang_token, identity_hold=world.zhang_hold,
                     status="approved").json()
    assert beat["identity_hold"]["status"] == "pending"
    assert world.status(world.zhang_hold) == "pending"


@attack("face")
def test_a_heartbeat_cannot_read_another_attempts_decision(world: World) -> None:
    # 李四's PC names 陈大文's hold (any id it can guess): nothing about it comes back.
    for hold_id in (world.chen_hold, world.zhang_hold, 10**9):
        assert heartbeat(world.srv, world.li_token,
                         identity_hold=hold_id).json()["identity_hold"] is None


@attack("face")
def test_absurd_ids_are_refused_cleanly(world: World) -> None:
    """Found: a position or id beyond a database integer was a 500 (OverflowError)."""
    for hold_id in (2**63, -1):
        answer = world.proctor.act("approve_face", world.zhang, hold_id=hold_id, reason="x")
        assert answer.status_code in (404, 409, 422), answer.text
    for url in (world.face_url(world.zhang, world.zhang_hold, 2**64),
                world.face_url(world.zhang, 2**64), world.face_url(2**64, world.zhang_hold),
                f"{world.url}/console/photo/{world.exam}/{2**64}"):
        assert world.proctor.http.get(url, timeout=10).status_code in (404, 422)
    assert world.status(world.zhang_hold) == "pending"


@attack("face")
def test_approving_a_hold_of_another_seat_of_the_own_room_is_refused(world: World) -> None:
    refused = world.proctor.act("approve_face", world.li, hold_id=world.zhang_hold,
                                reason="核对身份证")
    assert refused.status_code == 409 and refused.json()["error"] == "console.no_such_hold"
    assert world.status(world.zhang_hold) == "pending"


@attack("face")
def test_approving_without_the_csrf_token_or_from_another_site_is_refused(
        world: World) -> None:
    body = {"action": "approve_face", "exam_id": world.exam, "candidate_id": world.zhang,
            "hold_id": world.zhang_hold, "reason": "x"}
    for headers in ({}, {"X-CSRF-Token": "0" * 64},
                    {"X-CSRF-Token": world.proctor.csrf, "Origin": "http://evil.example"}):
        answer = world.proctor.http.post(f"{world.url}/console/api/action", timeout=10,
                                         json=body, headers=headers)
        assert answer.status_code == 403
    assert world.status(world.zhang_hold) == "pending"


# -- the evidence photo -------------------------------------------------------------------

@attack("face")
def test_another_rooms_proctor_cannot_fetch_the_evidence(world: World) -> None:
    for client in (world.room2, world.chief2):
        for position in (0, 1):
            photo = client.http.get(world.face_url(world.zhang, world.zhang_hold, position),
                                    timeout=10)
            assert photo.status_code == 404 and not photo.content


@attack("face")
def test_the_evidence_is_not_served_without_a_staff_session(world: World) -> None:
    url = world.face_url(world.zhang, world.zhang_hold)
    assert requests.get(url, timeout=10).status_code == 404
    for kwargs in ({"headers": {"Authorization": f"Bearer {world.zhang_token}"}},
                   {"cookies": {"exam_console": world.zhang_token}}):
        answer = requests.get(url, timeout=10, **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == 404 and not answer.content


@attack("face")
def test_another_seats_evidence_cannot_be_fetched_through_an_own_seat(world: World) -> None:
    # room2's proctor names their own seat (陈大文) with 张三's hold; jiankao names 李四.
    assert world.room2.http.get(world.face_url(world.chen, world.zhang_hold),
                                timeout=10).status_code == 404
    assert world.proctor.http.get(world.face_url(world.li, world.zhang_hold),
                                  timeout=10).status_code == 404
    assert world.proctor.http.get(world.face_url(world.zhang, world.chen_hold),
                                  timeout=10).status_code == 404
    for position in ("-1", "2", "99999999999999999999", "0%2F..%2F1", "..%2F0"):
        answer = world.proctor.http.get(world.face_url(world.zhang, world.zhang_hold, position),
                                        timeout=10)
        assert answer.status_code in (404, 422) and answer.headers.get(
            "content-type", "").split(";")[0] != "image/jpeg"


@attack("face")
def test_the_evidence_is_never_cached(world: World) -> None:
    photo = world.proctor.http.get(world.face_url(world.zhang, world.zhang_hold), timeout=10)
    assert photo.status_code == 200 and photo.content == face_jpeg(0)
    cache = photo.headers["cache-control"]
    assert "no-store" in cache and "public" not in cache and "max-age" not in cache
    assert photo.headers["x-content-type-options"] == "nosniff"


# -- the upload -------------------------------------------------------------------------

@attack("face")
def test_non_image_evidence_is_refused(world: World) -> None:
    for data in (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
                 b"<html><script>alert(1)</script></html>", b"\x89PNG\r\n\x1a\n" + b"0" * 64,
                 b"GIF89a" + b"0" * 64, b""):
        answer = request_face_hold(world.srv, world.li_token, event_id="li-bad-0001",
                                   captures=[data])
        assert answer.status_code in (400, 422), (data[:10], answer.text)
    bad_base64 = requests.post(world.srv.api("/attempt/identity-hold"), timeout=10, json={
        "event_id": "li-bad-0002", "reason": "x", "captures": ["%%%not base64%%%"]},
        headers={"Authorization": f"Bearer {world.li_token}"})
    assert bad_base64.status_code == 400
    assert all(t["face_hold"] is None for t in world.chief.tiles()
               if t["candidate_id"] == world.li)


@attack("face")
def test_oversized_evidence_is_refused(world: World) -> None:
    one_too_big = request_face_hold(world.srv, world.li_token, event_id="li-big-0001",
                                    captures=[b"\xff\xd8\xff" + b"\0" * (1024 * 1024)])
    assert one_too_big.status_code == 413
    too_many = request_face_hold(world.srv, world.li_token, event_id="li-big-0002",
                                 captures=[face_jpeg()] * 5)
    assert too_many.status_code == 422
    # 7 MiB announced: refused from its Content-Length, before a byte is read.
    flood = requests.post(world.srv.api("/attempt/identity-hold"), timeout=30,
                          data=b"{" + b" " * (7 * 1024 * 1024) + b"}",
                          headers={"Authorization": f"Bearer {world.li_token}",
                                   "Content-Type": "application/json"})
    assert flood.status_code == 413
    huge_record = request_face_hold(world.srv, world.li_token, event_id="li-big-0003",
                                    record={"x": "y" * (70 * 1024)})
    assert huge_record.status_code == 422
    assert all(t["face_hold"] is None for t in world.chief.tiles()
               if t["candidate_id"] == world.li)


@attack("face")
def test_an_anonymous_upload_is_refused(world: World) -> None:
    frame = base64.b64encode(face_jpeg()).decode()
    answer = requests.post(world.srv.api("/attempt/identity-hold"), timeout=10, json={
        "event_id": "anon-0001", "reason": "x", "captures": [frame]})
    assert answer.status_code == 401


# -- replays and races -------------------------------------------------------------------

@attack("face")
def test_replaying_an_old_approval_does_not_decide_a_new_hold(world: World) -> None:
    first = world.hold(world.li_token, "li-check-0001")
    assert world.proctor.act("approve_face", world.li, hold_id=first,
                             reason="已核对身份证").status_code == 200
    # Later the PC fails again (another check): a new hold, which the old approval,
    # replayed as it was sent, does not decide.
    second = world.hold(world.li_token, "li-check-0002")
    assert second != first
    replay = world.proctor.act("approve_face", world.li, hold_id=first, reason="已核对身份证")
    assert replay.status_code == 409 and replay.json()["error"] == "console.hold_closed"
    assert world.status(second) == "pending"
    assert heartbeat(world.srv, world.li_token,
                     identity_hold=second).json()["identity_hold"]["status"] == "pending"
    approvals = [r for r in world.audit_rows("approve_face") if r.detail["hold_id"] == first]
    assert len(approvals) == 1
    assert world.proctor.act("refuse_face", world.li, hold_id=second,
                             reason="不是本人").status_code == 200


@attack("face")
def test_simultaneous_decisions_decide_once(world: World) -> None:
    """Eight decisions of one hold at once (double clicks, two tabs, proctor and chief)."""
    hold_id = world.hold(world.chen_token, "chen-check-0001")
    assert hold_id == world.chen_hold  # still the same pending hold

    def decide(i: int) -> int:
        client, action = ((world.room2, "approve_face") if i % 2 else
                          (world.chief, "refuse_face"))
        return client.act(action, world.chen, hold_id=hold_id,
                          reason=f"第 {i} 次").status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(decide, range(8)))
    assert sorted(codes) == [200] + [409] * 7, codes
    rows = [r for r in world.audit_rows("approve_face") + world.audit_rows("refuse_face")
            if r.detail["hold_id"] == hold_id]
    assert len(rows) == 1
    assert rows[0].action == ("approve_face" if world.status(hold_id) == "approved"
                              else "refuse_face")


# -- the browser -------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium")
@attack("face")
def test_markup_in_the_pcs_message_stays_text_in_the_console(world: World) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(locale="zh-CN")
            page.goto(f"{world.url}/console/login")
            page.fill("#username", "jiankao")
            page.fill("#password", "kaowu2026")
            page.click("#login")
            page.wait_for_selector(f'.tile[data-candidate="{world.zhang}"]')
            page.click(f'.tile[data-candidate="{world.zhang}"]')
            page.wait_for_selector("#face-hold")
            assert "<script>" in page.inner_text("#face-hold")
            assert page.evaluate("window.__xss") is None
            assert page.locator("#face-hold script, #face-hold img[src='x']").count() == 0
        finally:
            browser.close()
