"""Pause and resume of one candidate from the console, over real HTTP: the candidate's
clock stands still (the end moves with the server clock while paused, the sweeper leaves
the attempt alone), the resume moves the end by the time paused, both are audited with
their actor, and a proctor acts on their own room only."""

from __future__ import annotations

import requests
from console_helpers import candidate_login, console_login
from sqlalchemy import select

from server.console import tables as ct
from server.console.accounts import create_account
from server.console.roles import Role
from server.console.seating import SeatRow, assign
from server.demo import DEMO_CANDIDATES, DEMO_CENTER_ID
from server.testing import LiveServer

ZHANG, LI, CHEN = DEMO_CANDIDATES
MINUTE = 60_000


def _heartbeat(srv: LiveServer, token: str) -> dict[str, object]:
    response = requests.post(srv.api("/attempt/heartbeat"), json={}, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return dict(response.json())


def test_a_pause_stops_the_candidates_clock_and_the_resume_moves_the_end(
        srv: LiveServer) -> None:
    proctor = console_login(srv, "jiankao")
    zhang_id = proctor.tile(ZHANG.student_no)["candidate_id"]
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    # Before the start there is no clock to stop.
    early = proctor.act("pause", zhang_id, reason="考生身体不适")
    assert early.status_code == 409 and early.json()["error"] == "console.not_in_progress"
    end = srv.demo.end_ms
    srv.clock.set_now(end - 10 * MINUTE)  # type: ignore[attr-defined]
    paused_at = srv.clock.now_ms()
    assert proctor.act("pause", zhang_id, reason="考生身体不适，离开考场就医").status_code == 200
    again = proctor.act("pause", zhang_id, reason="再次暂停")
    assert again.json()["error"] == "console.pause_unchanged"
    beat = _heartbeat(srv, token)
    since = int(str(beat["paused_since_ms"]))
    assert beat["paused"] is True and 0 <= since - paused_at < 2_000
    assert proctor.tile(ZHANG.student_no)["paused"] is True

    # Twenty minutes later, past the exam's end: still open, 10 minutes still to go.
    srv.clock.set_now(end + 10 * MINUTE)  # type: ignore[attr-defined]
    srv.db.auto_submit_ended(now_ms=srv.clock.now_ms())
    attempt = srv.db.find_attempt(exam_id=srv.demo.exam_id, candidate_id=zhang_id)
    assert attempt is not None and attempt.status == "in_progress"
    beat = _heartbeat(srv, token)
    left = int(str(beat["end_ms"])) - int(str(beat["server_time_ms"]))
    assert left == end - since  # what was left when the clock stopped

    resumed = proctor.act("resume", zhang_id, reason="考生已返回座位")
    assert resumed.status_code == 200
    new_end = int(resumed.json()["end_ms"])
    assert abs(new_end - (end + 20 * MINUTE)) < 2_000  # moved by the 20 minutes paused
    beat = _heartbeat(srv, token)
    assert (beat["paused"], beat["end_ms"]) == (False, new_end)
    assert attempt.id not in srv.db.auto_submit_ended(now_ms=new_end - 1)
    srv.db.auto_submit_ended(now_ms=new_end)
    done = srv.db.get_attempt(attempt.id)
    assert done is not None and done.submitted_at_ms == new_end

    with srv.db.read() as conn:
        rows = conn.execute(select(ct.audit).where(ct.audit.c.action.in_(["pause", "resume"]))
                            .order_by(ct.audit.c.id)).all()
    assert [(r.action, r.actor, r.reason) for r in rows] == [
        ("pause", "jiankao", "考生身体不适，离开考场就医"),
        ("resume", "jiankao", "考生已返回座位")]
    assert new_end == end + rows[1].detail["paused_for_ms"]
    kinds = [e.kind for e in srv.db.events(attempt_id=attempt.id)]
    assert "attempt_paused" in kinds and "attempt_resumed" in kinds


def test_a_proctor_cannot_pause_another_rooms_candidate(srv: LiveServer) -> None:
    assign(srv.db, exam_id=srv.demo.exam_id,
           rows=[SeatRow(candidate=CHEN.student_no, room="第2考场", seat="1")])
    create_account(srv.db, username="room2", display_name="赵老师", role=Role.PROCTOR,
                   center_id=DEMO_CENTER_ID, room="第2考场", password="room2-pass",
                   now_ms=srv.clock.now_ms())
    candidate_login(srv, CHEN, client_id="pc-03")
    srv.clock.advance(ms=11 * MINUTE)
    chen_id = console_login(srv, "room2", "room2-pass").tiles()[0]["candidate_id"]
    proctor = console_login(srv, "jiankao")
    refused = proctor.act("pause", chen_id, reason="暂停")
    assert refused.status_code == 404 and refused.json()["error"] == "console.no_such_seat"
    assert console_login(srv, "room2", "room2-pass").tiles()[0]["paused"] is False
