"""Answers a PC saved while the candidate's clock was paused (it never heard of the pause:
offline) are held, not merged, on a late sync and in an offline file alike: the pause
gives its length back at the end, so counting them would give the candidate that time
twice. They are kept once each for the proctor; the end stays base + pauses."""

from __future__ import annotations

from offline_helpers import rev, sit
from sqlalchemy import select

from server import attempt_time
from server import schema as t
from server.offline_import import ImportScope, format_report, import_offline_file

MINUTE = 60_000


def _pause(srv, sitting, *, start_ms: int, end_ms: int) -> None:
    exam = srv.db.get_exam(sitting.exam_id)
    with srv.db.write() as conn:
        attempt_time.set_paused(conn, exam=exam, candidate_id=int(sitting.candidate_id),
                                paused=True, now_ms=start_ms)
    with srv.db.write() as conn:
        attempt_time.set_paused(conn, exam=exam, candidate_id=int(sitting.candidate_id),
                                paused=False, now_ms=end_ms)


def _held(srv, attempt_id: int) -> list[tuple[str, int, object, int]]:
    with srv.db.read() as conn:
        rows = conn.execute(select(t.paused_revisions)
                            .where(t.paused_revisions.c.attempt_id == attempt_id)
                            .order_by(t.paused_revisions.c.question_id,
                                      t.paused_revisions.c.revision)).all()
    return [(r.question_id, r.revision, r.value, r.pause_started_ms) for r in rows]


def test_a_late_sync_does_not_merge_answers_saved_during_a_pause(srv):
    alice = sit(srv)
    start = srv.clock.now_ms()
    assert alice.push([("q1", 1, "A", start)]).status_code == 200
    # The PC goes offline; meanwhile the proctor pauses the candidate for 4 minutes.
    _pause(srv, alice, start_ms=start + MINUTE, end_ms=start + 5 * MINUTE)
    srv.clock.set_now(start + 10 * MINUTE)
    response = alice.push([("q1", 2, "B", start + 2 * MINUTE),   # during the pause
                           ("q2", 1, "D", start + 3 * MINUTE),   # during the pause
                           ("q1", 3, "C", start + 6 * MINUTE),   # after the resume
                           ("q3", 1, "A", start + MINUTE - 1)])  # just before it
    assert response.status_code == 200
    body = response.json()
    assert sorted(map(tuple, body["held_during_pause"])) == [("q1", 2), ("q2", 1)]
    assert len(body["acked"]) == 4  # stored (as held), the PC may forget them
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    assert srv.db.current_answers(attempt.id) == {"q1": "C", "q3": "A"}
    assert _held(srv, attempt.id) == [("q1", 2, "B", start + MINUTE),
                                      ("q2", 1, "D", start + MINUTE)]
    # A retry of the same batch (ack lost) holds nothing twice and changes nothing.
    assert alice.push([("q2", 1, "D", start + 3 * MINUTE)]).json()["held_during_pause"] == [
        ["q2", 1]]
    assert len(_held(srv, attempt.id)) == 2
    exam = srv.db.get_exam(alice.exam_id)
    assert attempt_time.end_ms_for(srv.db, exam=exam, candidate_id=int(alice.candidate_id),
                                   now_ms=srv.clock.now_ms()) == exam.end_ms + 4 * MINUTE


def test_a_claimed_time_after_the_arrival_counts_as_the_arrival(srv):
    """A PC cannot move an answer out of a pause under way by stamping it in the future."""
    alice = sit(srv)
    start = srv.clock.now_ms()
    exam = srv.db.get_exam(alice.exam_id)
    with srv.db.write() as conn:
        attempt_time.set_paused(conn, exam=exam, candidate_id=int(alice.candidate_id),
                                paused=True, now_ms=start)
    srv.clock.set_now(start + MINUTE)
    response = alice.push([("q1", 1, "A", start + 60 * MINUTE)])
    assert response.json()["held_during_pause"] == [["q1", 1]]
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    assert srv.db.current_answers(attempt.id) == {}


def test_an_offline_file_does_not_merge_answers_saved_during_a_pause(srv):
    alice = sit(srv)
    start = srv.clock.now_ms()
    _pause(srv, alice, start_ms=start + MINUTE, end_ms=start + 5 * MINUTE)
    srv.clock.set_now(start + 20 * MINUTE)
    name, data = alice.build_file([rev("q1", 1, "A", start + 30_000),
                                   rev("q1", 2, "B", start + 2 * MINUTE),
                                   rev("q2", 1, "D", start + 4 * MINUTE),
                                   rev("q4", 1, "C", start + 5 * MINUTE)])
    report = import_offline_file(srv.context, data=data, file_name=name,
                                 scope=ImportScope(imported_by="test"))
    assert report.code == "offline.merged", report
    assert report.counts["held_during_pause"] == 2 and report.counts["applied"] == 2
    lines = "\n".join(format_report(report))
    assert "题 q1：1 个暂停期间的修改未计入答案" in lines
    assert "题 q2：1 个暂停期间的修改未计入答案" in lines
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    assert srv.db.current_answers(attempt.id) == {"q1": "A", "q4": "C"}
    assert [h[:2] for h in _held(srv, attempt.id)] == [("q1", 2), ("q2", 1)]
    # The same file again: nothing new anywhere.
    again = import_offline_file(srv.context, data=data, file_name=name,
                                scope=ImportScope(imported_by="test"))
    assert again.code == "offline.unchanged"
    assert len(_held(srv, attempt.id)) == 2
