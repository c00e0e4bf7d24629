"""A forgotten pause: the console shows how long a seat has been paused and flags it
需关注 after the server's pause_alarm_s; after max_pause_s the pause ends by itself
(audited, the end moved by exactly the limit), and the sweeper then submits the attempt
at its moved end. Over real HTTP against a real server; the sweep is the server's own."""

from __future__ import annotations

import requests
from console_helpers import candidate_login, console_login
from sqlalchemy import select

from server import attempt_time
from server.app import sweep
from server.console import tables as ct
from server.demo import DEMO_CANDIDATES
from server.pause_limit import end_overdue_pauses
from server.testing import LiveServer

ZHANG = DEMO_CANDIDATES[0]
MINUTE = 60_000


def test_a_forgotten_pause_is_flagged_then_ended_by_the_server(srv: LiveServer) -> None:
    settings = srv.context.settings
    assert (settings.max_pause_s, settings.pause_alarm_s) == (30 * 60, 10 * 60)  # defaults
    proctor = console_login(srv, "jiankao")
    zhang_id = proctor.tile(ZHANG.student_no)["candidate_id"]
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    exam = srv.db.get_exam(srv.demo.exam_id)
    assert exam is not None
    srv.clock.set_now(exam.start_ms + 5 * MINUTE)  # type: ignore[attr-defined]
    assert proctor.act("pause", zhang_id, reason="考生离开考场").status_code == 200
    paused_at = proctor.tile(ZHANG.student_no)["paused_since_ms"]
    assert abs(paused_at - srv.clock.now_ms()) < 2_000

    srv.clock.set_now(paused_at + 9 * MINUTE)  # type: ignore[attr-defined]
    tile = proctor.tile(ZHANG.student_no)
    assert tile["paused"] and not tile["pause_overdue"]
    srv.clock.set_now(paused_at + 10 * MINUTE)  # type: ignore[attr-defined]
    view = proctor.room().json()
    tile = next(t for t in view["tiles"] if t["candidate_id"] == zhang_id)
    assert tile["pause_overdue"] is True and view["counts"]["attention"] >= 1

    # 29 minutes: still paused; 31: the sweep ends it at exactly 30, with an audit row.
    srv.clock.set_now(paused_at + 29 * MINUTE)  # type: ignore[attr-defined]
    sweep(srv.context)
    assert proctor.tile(ZHANG.student_no)["paused"] is True
    srv.clock.set_now(paused_at + 31 * MINUTE)  # type: ignore[attr-defined]
    sweep(srv.context)
    sweep(srv.context)  # a second sweep finds nothing more to end
    tile = proctor.tile(ZHANG.student_no)
    assert tile["paused"] is False and tile["pause_overdue"] is False
    new_end = exam.end_ms + 30 * MINUTE
    assert tile["end_ms"] == new_end
    beat = requests.post(srv.api("/attempt/heartbeat"), json={}, timeout=10,
                         headers={"Authorization": f"Bearer {token}"}).json()
    assert (beat["paused"], beat["end_ms"]) == (False, new_end)
    [stored] = attempt_time.pauses_of(srv.db, exam_id=exam.id, candidate_id=zhang_id)
    assert (stored.started_ms, stored.ended_ms, stored.ended_by) == (
        paused_at, paused_at + 30 * MINUTE, "limit")
    with srv.db.read() as conn:
        rows = conn.execute(select(ct.audit).where(ct.audit.c.action == "pause_limit")).all()
    assert [(r.actor, r.role, r.candidate_id, r.at_ms) for r in rows] == [
        ("server", "system", zhang_id, paused_at + 30 * MINUTE)]
    assert rows[0].detail["paused_for_ms"] == 30 * MINUTE
    audit_page = proctor.http.get(f"{srv.url}/console/audit", timeout=10).text
    assert "暂停超时，自动恢复作答" in audit_page  # the room's proctor sees it

    # The sweeper then submits at the moved end, not before (the clock keeps running, so
    # a minute before; tests/console/test_extra_time_property.py checks the millisecond).
    srv.clock.set_now(new_end - MINUTE)  # type: ignore[attr-defined]
    sweep(srv.context)
    attempt = srv.db.find_attempt(exam_id=exam.id, candidate_id=zhang_id)
    assert attempt is not None and attempt.status == "in_progress"
    srv.clock.set_now(new_end + 1_000)  # type: ignore[attr-defined]
    sweep(srv.context)
    done = srv.db.get_attempt(attempt.id)
    assert done is not None and done.submitted_at_ms == new_end


def test_no_limit_when_max_pause_is_zero(srv: LiveServer) -> None:
    proctor = console_login(srv, "jiankao")
    zhang_id = proctor.tile(ZHANG.student_no)["candidate_id"]
    candidate_login(srv, ZHANG, client_id="pc-01")
    exam = srv.db.get_exam(srv.demo.exam_id)
    assert exam is not None
    srv.clock.set_now(exam.start_ms + MINUTE)  # type: ignore[attr-defined]
    assert proctor.act("pause", zhang_id, reason="考生离开考场").status_code == 200
    later = srv.clock.now_ms() + 5 * 3600_000
    assert end_overdue_pauses(srv.db, now_ms=later, max_pause_ms=0) == []
    assert attempt_time.clock_for(srv.db, exam=exam, candidate_id=zhang_id).paused
