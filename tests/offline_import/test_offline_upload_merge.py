"""The admin upload over real HTTP: incremental merge, replay, late revisions, submitted and
auto-submitted attempts (re-scored), concurrent uploads of one file."""

from __future__ import annotations

import re
import threading

from offline_helpers import admin_session, db_state, rev, sit, upload, wait_for

from server.offline_import import offline_imports


def row_codes(html: str) -> list[str]:
    return re.findall(r'data-code="([^"]+)"', html)


def test_incremental_merge_both_sides_newer(srv):
    alice = sit(srv)
    now = srv.clock.now_ms()
    # The server got q1 up to revision 3 and q2 revision 1 before the network died.
    assert alice.push([("q1", 1, "A", now), ("q1", 2, "C", now), ("q1", 3, "B", now),
                       ("q2", 1, "A", now)]).status_code == 200
    # The PC kept q1 only up to revision 2 (restored from a backup), but has newer q2, q3.
    name, data = alice.build_file([rev("q1", 1, "A", now), rev("q1", 2, "C", now),
                                   rev("q2", 1, "A", now), rev("q2", 2, "C", now + 5),
                                   rev("q3", 1, "B", now + 6)])
    admin = admin_session(srv)
    html = upload(admin, srv, [(name, data)])
    assert row_codes(html) == ["offline.merged"]
    assert "题 q2：版本 1 -&gt; 2" in html and "题 q3：版本 - -&gt; 1" in html
    assert "题 q1" not in html  # older on the PC: the server's newer answer stays
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    assert srv.db.current_answers(attempt.id) == {"q1": "B", "q2": "C", "q3": "B"}
    assert srv.db.current_revisions(attempt.id) == {"q1": 3, "q2": 2, "q3": 1}


def test_replay_changes_nothing_and_says_so(srv):
    alice = sit(srv)
    now = srv.clock.now_ms()
    name, data = alice.build_file([rev("q1", 1, "B", now), rev("q5", 1, True, now)])
    admin = admin_session(srv)
    assert row_codes(upload(admin, srv, [(name, data)])) == ["offline.merged"]
    before = db_state(srv)
    html = upload(admin, srv, [(name, data)])
    assert row_codes(html) == ["offline.unchanged"]
    assert "重复导入不会改变任何内容" in html and "此文件以前已导入过" in html
    assert db_state(srv) == before


def test_older_export_after_newer_changes_nothing(srv):
    alice = sit(srv)
    now = srv.clock.now_ms()
    old = alice.build_file([rev("q1", 1, "A", now)])
    new = alice.build_file([rev("q1", 1, "A", now), rev("q1", 2, "B", now + 1)])
    admin = admin_session(srv)
    assert row_codes(upload(admin, srv, [new])) == ["offline.merged"]
    assert row_codes(upload(admin, srv, [old])) == ["offline.unchanged"]
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    assert srv.db.current_revisions(attempt.id) == {"q1": 2}


def test_auto_submitted_attempt_is_updated_late_answers_rejected_and_rescored(srv):
    alice = sit(srv)
    now = srv.clock.now_ms()
    end = alice.end_ms
    assert alice.push([("q1", 1, "A", now)]).status_code == 200  # wrong answer synced
    # The exam ends; the sweeper auto-submits and scores what the server has.
    srv.clock.advance(ms=end - now + 60_000)
    attempt_id = srv.db.find_attempt(exam_id=alice.exam_id,
                                     candidate_id=int(alice.candidate_id)).id
    wait_for(lambda: srv.db.get_attempt(attempt_id).score is not None)
    first = srv.db.get_attempt(attempt_id)
    assert first.status == "auto_submitted" and first.score == 0.0
    # The offline file: q1 corrected before the end, q2 answered before the end, and one
    # change to q3 after the end (clock estimate past end_ms), which must not count.
    name, data = alice.build_file([rev("q1", 1, "A", now), rev("q1", 2, "B", end - 5_000),
                                   rev("q2", 1, "C", end - 1_000), rev("q3", 1, "B", end + 1),
                                   rev("q6", 1, False, None)], state="auto_submitted")
    html = upload(admin_session(srv), srv, [(name, data)])
    assert row_codes(html) == ["offline.merged"]
    assert "考试结束后的修改被拒绝：2 个" in html  # q3 after the end, q6 with no trusted time
    assert "重新评分：0.0 -&gt; 4.0" in html
    after = srv.db.get_attempt(attempt_id)
    assert after.status == "auto_submitted" and after.score == 4.0
    assert srv.db.current_answers(attempt_id) == {"q1": "B", "q2": "C"}


def test_submitted_attempt_is_updated_and_rescored(srv):
    alice = sit(srv)
    now = srv.clock.now_ms()
    response = alice.push([("q5", 1, False, now)])
    assert response.status_code == 200
    import requests
    requests.post(srv.api("/attempt/submit"), json={"answered_count": 1},
                  headers=alice.headers(), timeout=10).raise_for_status()
    attempt_id = srv.db.find_attempt(exam_id=alice.exam_id,
                                     candidate_id=int(alice.candidate_id)).id
    wait_for(lambda: srv.db.get_attempt(attempt_id).score is not None)
    name, data = alice.build_file([rev("q5", 1, False, now), rev("q5", 2, True, now + 10)],
                                  state="submitted")
    html = upload(admin_session(srv), srv, [(name, data)])
    assert row_codes(html) == ["offline.merged"] and "题 q5：版本 1 -&gt; 2" in html
    assert srv.db.get_attempt(attempt_id).score == 2.0
    assert srv.db.get_attempt(attempt_id).status == "submitted"


def test_file_that_says_submitted_submits_an_open_attempt(srv):
    alice = sit(srv)
    name, data = alice.build_file([rev("q1", 1, "B", srv.clock.now_ms())], state="submitted")
    html = upload(admin_session(srv), srv, [(name, data)])
    assert "该考生的答卷已按文件记录交卷" in html
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    assert attempt.status == "submitted"


def test_many_files_one_bad_per_file_results(srv):
    alice, bob, chen = sit(srv, 0), sit(srv, 1, client_id="pc-2"), sit(srv, 2, client_id="pc-3")
    now = srv.clock.now_ms()
    files = [alice.build_file([rev("q1", 1, "B", now)])]
    name, data = bob.build_file([rev("q1", 1, "C", now)])
    files.append((name, data[:100]))
    files.append(chen.build_file([rev("q4", 1, ["A", "B", "D"], now)]))
    html = upload(admin_session(srv), srv, files)
    assert row_codes(html) == ["offline.merged", "offline.truncated", "offline.merged"]


def test_concurrent_uploads_of_the_same_file(srv):
    alice = sit(srv)
    now = srv.clock.now_ms()
    revisions = [rev(f"q{i}", r, "B", now + r) for i in range(1, 5) for r in (1, 2, 3)]
    name, data = alice.build_file(revisions)
    sessions = [admin_session(srv) for _ in range(4)]
    results: list[list[str]] = []
    barrier = threading.Barrier(len(sessions))

    def go(session):
        barrier.wait()
        results.append(row_codes(upload(session, srv, [(name, data)])))

    threads = [threading.Thread(target=go, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r[0] for r in results) == ["offline.merged"] + ["offline.unchanged"] * 3
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    assert srv.db.current_revisions(attempt.id) == {"q1": 3, "q2": 3, "q3": 3, "q4": 3}
    assert srv.db.answer_change_count(attempt.id) == 12
    with srv.db.read() as conn:
        assert len(conn.execute(offline_imports.select()).all()) == 1
