"""Extra time from the console, over real HTTP against a real server: one seat, a group,
the whole room; minutes or a multiplier; before the exam or during it. The server's own
end follows it everywhere (automatic submission, late uploads, the login and heartbeat
answers); every grant is audited with its actor; a proctor acts on their own room only."""

from __future__ import annotations

import requests
from console_helpers import candidate_login, console_login, save_answer
from sqlalchemy import select

from server import schema as t
from server.console import tables as ct
from server.console.accounts import create_account
from server.console.roles import Role
from server.console.seating import SeatRow, assign
from server.demo import DEMO_CANDIDATES, DEMO_CENTER_ID
from server.testing import LiveServer

ZHANG, LI, CHEN = DEMO_CANDIDATES
MINUTE = 60_000


def _audit_rows(srv: LiveServer, action: str) -> list[dict[str, object]]:
    with srv.db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(ct.audit).where(ct.audit.c.action == action).order_by(ct.audit.c.id))]


def _heartbeat(srv: LiveServer, token: str) -> dict[str, object]:
    response = requests.post(srv.api("/attempt/heartbeat"), json={}, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return dict(response.json())


def test_extra_time_planned_before_the_exam_reaches_the_login_and_the_tile(
        srv: LiveServer) -> None:
    proctor = console_login(srv, "jiankao")
    zhang_id = proctor.tile(ZHANG.student_no)["candidate_id"]
    end = srv.demo.end_ms
    duration = end - srv.demo.start_ms
    granted = proctor.act("extra_time", zhang_id, reason="残疾考生延时（准考证备注）",
                          multiplier=1.25)
    assert granted.status_code == 200, granted.text
    assert granted.json()["granted"] == [{"candidate_id": zhang_id, "end_ms": end + duration // 4,
                                          "end": granted.json()["granted"][0]["end"]}]
    tile = proctor.tile(ZHANG.student_no)
    assert (tile["extra_ms"], tile["end_ms"]) == (duration // 4, end + duration // 4)
    assert proctor.tile(LI.student_no)["end_ms"] == end  # the others keep the exam's end
    # The login answer gives the PC the candidate's own end; the exam's stays the exam's.
    body = candidate_login(srv, ZHANG, client_id="pc-01").json()
    assert body["attempt"]["end_ms"] == end + duration // 4
    assert body["exam"]["end_ms"] == end
    [row] = _audit_rows(srv, "extra_time")
    assert (row["actor"], row["role"], row["reason"], row["candidate_id"]) == (
        "jiankao", "proctor", "残疾考生延时（准考证备注）", zhang_id)
    assert row["detail"]["planned"] is True and row["detail"]["extra_ms"] == duration // 4


def test_extra_time_during_the_exam_moves_the_servers_end_for_that_candidate_only(
        srv: LiveServer) -> None:
    srv.clock.set_now(srv.demo.start_ms + 10 * MINUTE)  # type: ignore[attr-defined]
    zhang = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    li = candidate_login(srv, LI, client_id="pc-02").json()["token"]
    proctor = console_login(srv, "jiankao")
    zhang_id = proctor.tile(ZHANG.student_no)["candidate_id"]
    end = srv.demo.end_ms
    for minutes in (5, 10):  # two grants add up
        assert proctor.act("extra_time", zhang_id, reason="电脑死机重启耽误时间",
                           minutes=minutes).status_code == 200
    assert _heartbeat(srv, zhang)["end_ms"] == end + 15 * MINUTE
    assert _heartbeat(srv, li)["end_ms"] == end

    # Past the exam's end: 李四 is submitted at the end, 张三 goes on answering.
    srv.clock.set_now(end + 5 * MINUTE)  # type: ignore[attr-defined]
    assert save_answer(srv, zhang, question_id="q1", revision=1, value="B").status_code == 200
    late = save_answer(srv, li, question_id="q1", revision=1, value="B")
    assert late.status_code == 409 and late.json()["error"] == "sealed"
    attempts = {a.candidate_id: a for a in (
        srv.db.find_attempt(exam_id=srv.demo.exam_id, candidate_id=c)
        for c in (zhang_id, proctor.tile(LI.student_no)["candidate_id"]))}
    assert attempts[zhang_id].status == "in_progress"
    li_attempt = attempts[proctor.tile(LI.student_no)["candidate_id"]]
    assert (li_attempt.status, li_attempt.submitted_at_ms) == ("auto_submitted", end)
    assert srv.db.current_answers(attempts[zhang_id].id) == {"q1": "B"}

    # At the candidate's own end the sweeper submits it, stamped with that end; an answer
    # stamped after it is refused.
    srv.clock.set_now(end + 15 * MINUTE + 1_000)  # type: ignore[attr-defined]
    srv.db.auto_submit_ended(now_ms=srv.clock.now_ms())
    after = srv.db.get_attempt(attempts[zhang_id].id)
    assert after is not None
    assert (after.status, after.submitted_at_ms) == ("auto_submitted", end + 15 * MINUTE)
    refused = save_answer(srv, zhang, question_id="q2", revision=1, value="C")
    assert refused.status_code == 409 and refused.json()["error"] == "sealed"
    # No more time once it is over.
    over = proctor.act("extra_time", zhang_id, reason="补时", minutes=5)
    assert over.status_code == 409 and over.json()["error"] == "console.time_over"


def test_the_whole_room_at_once_with_one_audit_row_per_candidate(srv: LiveServer) -> None:
    chief = console_login(srv, "zhukao")
    ids = [tile["candidate_id"] for tile in chief.tiles()]
    response = chief.http.post(f"{srv.url}/console/api/action", timeout=10,
                               headers={"X-CSRF-Token": chief.csrf},
                               json={"action": "extra_time", "exam_id": srv.demo.exam_id,
                                     "candidate_ids": ids, "minutes": 10,
                                     "reason": "考场停电 10 分钟"})
    assert response.status_code == 200, response.text
    assert {tile["extra_ms"] for tile in chief.tiles()} == {10 * MINUTE}
    rows = _audit_rows(srv, "extra_time")
    assert sorted(int(str(r["candidate_id"])) for r in rows) == sorted(ids)
    assert {(r["actor"], r["reason"]) for r in rows} == {("zhukao", "考场停电 10 分钟")}


def test_a_proctor_cannot_give_time_to_another_room_and_a_mixed_group_changes_nothing(
        srv: LiveServer) -> None:
    assign(srv.db, exam_id=srv.demo.exam_id,
           rows=[SeatRow(candidate=CHEN.student_no, room="第2考场", seat="1")])
    create_account(srv.db, username="room2", display_name="赵老师", role=Role.PROCTOR,
                   center_id=DEMO_CENTER_ID, room="第2考场", password="room2-pass",
                   now_ms=srv.clock.now_ms())
    chen_id = console_login(srv, "room2", "room2-pass").tiles()[0]["candidate_id"]
    proctor = console_login(srv, "jiankao")
    zhang_id = proctor.tile(ZHANG.student_no)["candidate_id"]
    alone = proctor.act("extra_time", chen_id, reason="补时", minutes=10)
    assert alone.status_code == 404 and alone.json()["error"] == "console.no_such_seat"
    mixed = proctor.http.post(f"{srv.url}/console/api/action", timeout=10,
                              headers={"X-CSRF-Token": proctor.csrf},
                              json={"action": "extra_time", "exam_id": srv.demo.exam_id,
                                    "candidate_ids": [zhang_id, chen_id], "minutes": 10,
                                    "reason": "补时"})
    assert mixed.status_code == 404
    with srv.db.read() as conn:
        assert conn.execute(select(t.attempt_times)).all() == []
    assert _audit_rows(srv, "extra_time") == []
    refused = _audit_rows(srv, "action_refused")
    assert [r["actor"] for r in refused] == ["jiankao", "jiankao"]
    assert refused[-1]["detail"]["candidate_ids"] == [zhang_id, chen_id]
    # A reason and a sensible amount are required.
    assert proctor.act("extra_time", zhang_id, reason=" ", minutes=10).json()["error"] == \
        "console.reason_required"
    for amount in ({"minutes": 0}, {"minutes": 100_000}, {"multiplier": 0.5}, {},
                   {"minutes": 5, "multiplier": 1.5}):
        bad = proctor.act("extra_time", zhang_id, reason="补时", **amount)
        assert bad.json()["error"] == "console.bad_extra_time", amount
