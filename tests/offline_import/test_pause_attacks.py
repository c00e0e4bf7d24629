"""Attacks on the pause (server/attempt_time.py, server/merge.py): a PC tries to get an
answer made while the candidate's clock was paused counted, or to end the pause itself.
Real server on 127.0.0.1, real HTTP; each test is one attack (benchmarks/session_attacks.py
counts them). What must hold: an answer made inside a pause interval is held, not merged,
whatever the PC stamps on it or however it arrives, and only the console or the server's
own limit ends a pause."""

from __future__ import annotations

import pytest
import requests
from offline_helpers import sit
from sqlalchemy import select

from server import attempt_time
from server import schema as t
from server.pause_limit import end_overdue_pauses

MINUTE = 60_000


def _set_paused(srv, sitting, *, paused: bool, at_ms: int) -> None:
    exam = srv.db.get_exam(sitting.exam_id)
    with srv.db.write() as conn:
        attempt_time.set_paused(conn, exam=exam, candidate_id=int(sitting.candidate_id),
                                paused=paused, now_ms=at_ms)


def _answers(srv, sitting) -> dict[str, object]:
    attempt = srv.db.find_attempt(exam_id=sitting.exam_id,
                                  candidate_id=int(sitting.candidate_id))
    return dict(srv.db.current_answers(attempt.id))


def _held(srv, sitting) -> list[tuple[str, int]]:
    attempt = srv.db.find_attempt(exam_id=sitting.exam_id,
                                  candidate_id=int(sitting.candidate_id))
    with srv.db.read() as conn:
        rows = conn.execute(select(t.paused_revisions.c.question_id,
                                   t.paused_revisions.c.revision)
                            .where(t.paused_revisions.c.attempt_id == attempt.id)).all()
    return sorted((r.question_id, int(r.revision)) for r in rows)


@pytest.mark.attack("pause")
def test_an_answer_without_a_time_sent_during_a_pause_is_held(srv):
    """A PC that has no server-time estimate (never reached the server's clock) sends its
    answers without a time: one that arrives while the pause is under way was made in it
    at the latest then (the arrival is an upper bound), so it is held like a stamped one."""
    alice = sit(srv)
    start = srv.clock.now_ms()
    _set_paused(srv, alice, paused=True, at_ms=start + MINUTE)
    srv.clock.set_now(start + 3 * MINUTE)
    response = alice.push([("q1", 1, "A", None)])
    assert response.status_code == 200
    assert response.json().get("held_during_pause") == [["q1", 1]]
    assert _answers(srv, alice) == {}
    assert _held(srv, alice) == [("q1", 1)]


@pytest.mark.attack("pause")
def test_a_time_stamp_before_the_pause_on_an_answer_sent_during_it_is_kept_as_given(srv):
    """The control for the attack above: a PC's claimed time before the pause counts (its
    answer was given before the network cut), a claimed time inside it is held."""
    alice = sit(srv)
    start = srv.clock.now_ms()
    _set_paused(srv, alice, paused=True, at_ms=start + MINUTE)
    srv.clock.set_now(start + 3 * MINUTE)
    body = alice.push([("q1", 1, "A", start + MINUTE - 1), ("q2", 1, "B", start + MINUTE)])
    assert body.json()["held_during_pause"] == [["q2", 1]]
    assert _answers(srv, alice) == {"q1": "A"}


@pytest.mark.attack("pause")
def test_logging_in_again_or_beating_does_not_end_a_pause(srv):
    """The candidate restarts the client (a new login on the same PC) and its heartbeats
    keep coming: the pause stays on, the end keeps moving."""
    alice = sit(srv)
    start = srv.clock.now_ms()
    _set_paused(srv, alice, paused=True, at_ms=start)
    srv.clock.set_now(start + 2 * MINUTE)
    again = sit(srv, register=False)
    for who in (alice, again):
        beat = requests.post(srv.api("/attempt/heartbeat"), json={"identity_hold": 0},
                             headers=who.headers(), timeout=10)
        if beat.status_code == 200:
            assert beat.json()["paused"] is True
    exam = srv.db.get_exam(alice.exam_id)
    clock = attempt_time.clock_for(srv.db, exam=exam, candidate_id=int(alice.candidate_id))
    assert clock.paused and clock.paused_since_ms == start
    srv.clock.set_now(start + 4 * MINUTE)
    assert again.push([("q1", 1, "A", start + 3 * MINUTE)]).json()["held_during_pause"] == [
        ["q1", 1]]


@pytest.mark.attack("pause")
def test_a_pause_ended_by_the_server_s_limit_still_holds_what_was_made_in_it(srv):
    """A forgotten pause ends by itself after max_pause_s; the PC that answered on through
    it offline sends everything afterwards: what it made inside the pause stays held, what
    it made after the limit ended it counts."""
    alice = sit(srv)
    start = srv.clock.now_ms()
    _set_paused(srv, alice, paused=True, at_ms=start)
    ended = end_overdue_pauses(srv.db, now_ms=start + 30 * MINUTE, max_pause_ms=20 * MINUTE)
    assert len(ended) == 1
    srv.clock.set_now(start + 40 * MINUTE)
    body = alice.push([("q1", 1, "A", start + 10 * MINUTE), ("q2", 1, "B", start + 35 * MINUTE)])
    assert body.json()["held_during_pause"] == [["q1", 1]]
    assert _answers(srv, alice) == {"q2": "B"}
