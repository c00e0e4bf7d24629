"""Roles, scope, CSRF, throttling and the audit trail of the console, over real HTTP."""

from __future__ import annotations

import csv
import io

import pytest
import requests
from console_helpers import candidate_login, console_login

from server.console.accounts import create_account
from server.console.roles import Account, Action, Role
from server.console.seating import SeatRow, assign
from server.demo import DEMO_CANDIDATES, DEMO_CENTER_ID
from server.staff_throttle import MAX_FAILURES_PER_ACCOUNT
from server.testing import LiveServer

ZHANG, LI, CHEN = DEMO_CANDIDATES


def _second_room(srv: LiveServer) -> None:
    """Move 陈大文 to 第2考场 and give that room its own proctor."""
    assign(srv.db, exam_id=srv.demo.exam_id,
           rows=[SeatRow(candidate=CHEN.student_no, room="第2考场", seat="1")])
    create_account(srv.db, username="room2", display_name="赵老师", role=Role.PROCTOR,
                   center_id=DEMO_CENTER_ID, room="第2考场", password="room2-pass",
                   now_ms=srv.clock.now_ms())


def test_a_proctor_sees_and_acts_on_their_own_room_only(srv: LiveServer) -> None:
    _second_room(srv)
    proctor = console_login(srv, "jiankao")
    chen_id = console_login(srv, "room2", "room2-pass").tiles()[0]["candidate_id"]
    assert {t["student_no"] for t in proctor.tiles()} == {ZHANG.student_no, LI.student_no}
    # Asking for the other room by name gives nothing either.
    assert proctor.tiles(center=DEMO_CENTER_ID, room="第2考场") == []
    assert proctor.room().json()["rooms"] == [[DEMO_CENTER_ID, "第1考场"]]
    # Acting on a seat of the other room looks like "no such seat" and changes nothing.
    refused = proctor.act("mark_absent", chen_id)
    assert refused.status_code == 404
    assert refused.json()["error"] == "console.no_such_seat"
    photo = proctor.http.get(f"{srv.url}/console/photo/{srv.demo.exam_id}/{chen_id}",
                             timeout=10)
    assert photo.status_code == 404
    # The chief examiner sees both rooms.
    chief = console_login(srv, "zhukao")
    assert len(chief.tiles()) == 3
    assert chief.room().json()["rooms"] == [[DEMO_CENTER_ID, "第1考场"],
                                            [DEMO_CENTER_ID, "第2考场"]]


def test_approving_a_second_login_is_the_chief_examiners_decision(srv: LiveServer) -> None:
    first = candidate_login(srv, LI, client_id="pc-02")
    assert first.status_code == 200
    srv.clock.advance(ms=700_000)
    held = candidate_login(srv, LI, client_id="pc-09")
    assert held.status_code == 409
    request_id = held.json()["detail"]["request_id"]
    proctor, chief = console_login(srv, "jiankao"), console_login(srv, "zhukao")
    li_id = proctor.tile(LI.student_no)["candidate_id"]

    denied = proctor.act("approve_login", li_id, request_id=request_id)
    assert denied.status_code == 403
    assert "无权" in denied.json()["message"]
    assert candidate_login(srv, LI, client_id="pc-09").status_code == 409

    no_reason = chief.act("approve_login", li_id, request_id=request_id, reason=" ")
    assert no_reason.status_code == 409
    assert no_reason.json()["error"] == "console.reason_required"

    approved = chief.act("approve_login", li_id, request_id=request_id,
                         reason="原电脑蓝屏，已核对身份证")
    assert approved.status_code == 200, approved.text
    assert candidate_login(srv, LI, client_id="pc-09").status_code == 200
    again = chief.act("approve_login", li_id, request_id=request_id)
    assert again.json()["error"] == "console.request_closed"

    audit = chief.http.get(f"{srv.url}/console/audit", timeout=10).text
    assert "批准再次登录" in audit and "原电脑蓝屏，已核对身份证" in audit


def test_refusing_a_request_keeps_the_pc_out(srv: LiveServer) -> None:
    assert candidate_login(srv, LI, client_id="pc-02").status_code == 200
    srv.clock.advance(ms=700_000)
    request_id = candidate_login(srv, LI, client_id="pc-66").json()["detail"]["request_id"]
    chief = console_login(srv, "zhukao")
    li_id = chief.tile(LI.student_no)["candidate_id"]
    assert chief.act("refuse_login", li_id, request_id=request_id,
                     reason="非本人").status_code == 200
    again = candidate_login(srv, LI, client_id="pc-66")
    assert again.status_code == 409
    assert again.json()["detail"]["request_id"] != request_id  # a new request, not approved
    assert srv.db.get_login_request(request_id).status == "refused"


def test_issued_code_lets_the_held_pc_in(srv: LiveServer) -> None:
    assert candidate_login(srv, ZHANG, client_id="pc-01").status_code == 200
    srv.clock.advance(ms=700_000)
    assert candidate_login(srv, ZHANG, client_id="pc-31").status_code == 409
    chief = console_login(srv, "zhukao")
    zhang_id = chief.tile(ZHANG.student_no)["candidate_id"]
    issued = chief.act("issue_code", zhang_id, reason="学生机死机，换机")
    assert issued.status_code == 200
    code = issued.json()["code"]
    let_in = requests.post(srv.api("/login"), timeout=30, json={
        "username": ZHANG.student_no, "password": ZHANG.password, "client_id": "pc-31",
        "authorization_code": code})
    assert let_in.status_code == 200, let_in.text
    assert code not in chief.http.get(f"{srv.url}/console/audit.csv", timeout=10).text


def test_reset_password_end_attempt_attendance_and_incident_are_audited(
        srv: LiveServer) -> None:
    from server.passwords import hash_password

    chief = console_login(srv, "zhukao")
    chen_id = chief.tile(CHEN.student_no)["candidate_id"]
    srv.db.update_candidate(chen_id, password_hash=hash_password("forgotten"))
    assert candidate_login(srv, CHEN, client_id="pc-03").status_code == 401
    assert chief.act("reset_password", chen_id, reason="考生忘记密码").status_code == 200
    token = candidate_login(srv, CHEN, client_id="pc-03").json()["token"]  # 123456 again

    srv.clock.advance(ms=601_000)
    assert chief.act("end_attempt", chen_id, reason="携带手机，违纪").status_code == 200
    assert chief.tile(CHEN.student_no)["state"] == "submitted"
    attempt = srv.db.find_attempt(exam_id=srv.demo.exam_id, candidate_id=chen_id)
    assert attempt is not None and attempt.is_submitted
    assert token

    proctor = console_login(srv, "jiankao")
    zhang_id = proctor.tile(ZHANG.student_no)["candidate_id"]
    assert proctor.act("mark_absent", zhang_id, reason="").status_code == 200
    assert proctor.tile(ZHANG.student_no)["attendance"] == "absent"
    assert proctor.act("incident", zhang_id, category="device",
                       reason="显示器黑屏，已更换").status_code == 200
    assert proctor.act("incident", zhang_id, category="nonsense",
                       reason="x").status_code == 409
    # A proctor may not export the day's record; the chief examiner may.
    assert proctor.http.get(f"{srv.url}/console/audit.csv", timeout=10).status_code == 403
    exported = chief.http.get(f"{srv.url}/console/audit.csv", timeout=10)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][1:3] == ["操作人姓名", "操作人账号"]
    actions = [(r[1], r[2], r[4], r[10]) for r in rows[1:]]
    assert ("李主考", "zhukao", "重置密码", "考生忘记密码") in actions
    assert ("李主考", "zhukao", "结束作答", "携带手机，违纪") in actions
    assert ("王老师", "jiankao", "标记缺考", "") in actions
    assert ("王老师", "jiankao", "记录违纪/异常", "显示器黑屏，已更换") in actions
    # The proctor's audit page shows the actions in their room (all three sit in it).
    page = proctor.http.get(f"{srv.url}/console/audit", timeout=10).text
    assert "显示器黑屏" in page and "携带手机" in page


def test_actions_need_the_csrf_token(srv: LiveServer) -> None:
    proctor = console_login(srv, "jiankao")
    zhang_id = proctor.tile(ZHANG.student_no)["candidate_id"]
    forged = proctor.act("mark_absent", zhang_id, csrf="0" * 64)
    assert forged.status_code == 403
    assert proctor.tile(ZHANG.student_no)["attendance"] is None
    logout_without = proctor.http.post(f"{srv.url}/console/logout", data={}, timeout=10)
    assert logout_without.status_code == 200
    assert logout_without.url.endswith("/console")  # still logged in
    assert proctor.room().status_code == 200
    logout = proctor.http.post(f"{srv.url}/console/logout", data={"csrf": proctor.csrf},
                               timeout=10)
    assert logout.url.endswith("/console/login")
    assert proctor.room().status_code == 401


def test_console_logins_are_throttled_per_account(srv: LiveServer) -> None:
    http = requests.Session()
    url = f"{srv.url}/console/login"
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        wrong = http.post(url, data={"username": "zhukao", "password": "guess"}, timeout=30)
        assert wrong.status_code == 401
    locked = http.post(url, data={"username": "zhukao", "password": "kaowu2026"}, timeout=30)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "分钟后再试" in locked.text
    srv.clock.advance(ms=16 * 60 * 1000)
    assert console_login(srv, "zhukao").tiles()


@pytest.mark.parametrize(("role", "allowed"), [
    (Role.PROCTOR, {Action.MARK_ABSENT, Action.INCIDENT}),
    (Role.CHIEF, {Action.APPROVE_LOGIN, Action.END_ATTEMPT, Action.EXPORT_DAY}),
])
def test_role_rules(role: Role, allowed: set[Action]) -> None:
    account = Account(username="u", display_name="u", role=role, center_id="c", room="r1")
    assert all(account.may(a) for a in allowed)
    assert account.may(Action.APPROVE_LOGIN) is (role is not Role.PROCTOR)
    assert account.sees(center_id="c", room="r1")
    assert account.sees(center_id="c", room="r2") is (role is Role.CHIEF)
    assert not account.sees(center_id="other", room="r1")
