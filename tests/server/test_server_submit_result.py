"""Submission and results over real HTTP, scored by client.paper.scoring."""

from __future__ import annotations

import time

import pytest
from server_testkit import KNOWN_ANSWERS, KNOWN_SCORE, MAX_OBJECTIVE, Api

from server.testing import LiveServer, live_server


def _push_known_answers(api, token: str, *, client_time_ms: int | None = None) -> None:
    batch = [{"question_id": qid, "revision": 1, "value": value, "client_time_ms": client_time_ms}
             for qid, value in KNOWN_ANSWERS.items()]
    assert api.post("/attempt/answers", {"answers": batch}, token=token).status_code == 200


def _wait_result(api, token: str, status: str, timeout_s: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        body = api.get("/attempt/result", token=token).json()
        if body["status"] == status or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def _attempt(server: LiveServer):
    candidate = server.db.find_candidate(student_no=server.demo.username)
    return server.db.find_attempt(exam_id="demo-exam", candidate_id=candidate.id)


def test_result_before_submission_is_refused(api, token: str) -> None:
    response = api.get("/attempt/result", token=token)
    assert response.status_code == 409
    assert response.json()["error"] == "not_submitted"


def test_submit_scores_the_known_answers(api, server: LiveServer, token: str) -> None:
    _push_known_answers(api, token)
    first = api.post("/attempt/submit", {"answered_count": 5}, token=token)
    assert first.status_code == 200, first.text
    assert first.json()["answered_count"] == 5  # the server's own count agrees
    body = _wait_result(api, token, "scored")
    assert body == {"status": "scored", "score": KNOWN_SCORE, "max_score": MAX_OBJECTIVE,
                    "unscored_items": ["q5"]}


def test_submit_is_idempotent(api, server: LiveServer, token: str) -> None:
    first = api.post("/attempt/submit", {"answered_count": 0}, token=token).json()
    server.clock.advance(ms=30_000)
    second = api.post("/attempt/submit", {"answered_count": 0}, token=token).json()
    assert second["submitted_at_ms"] == first["submitted_at_ms"]
    assert len(server.db.events(attempt_id=_attempt(server).id, kind="submit")) == 1


def test_result_is_computing_until_scored(tmp_path, paper_source) -> None:
    # No sweeper in this server: the only scoring is the one the request starts.
    with live_server(tmp_path / "data", demo_paper=paper_source, sweep_interval_s=3600) as live:
        api = Api(live)
        token = api.token()
        _push_known_answers(api, token)
        # Submitted without going through POST /submit, so nothing is scoring it yet.
        live.db.submit_attempt(_attempt(live).id, at_ms=live.clock.now_ms())
        computing = api.get("/attempt/result", token=token).json()
        assert computing["status"] == "computing"
        assert computing["score"] is None and computing["max_score"] == MAX_OBJECTIVE
        assert _wait_result(api, token, "scored")["score"] == KNOWN_SCORE
        api.session.close()


def test_exam_end_auto_submits_and_scores(api, server: LiveServer, token: str) -> None:
    _push_known_answers(api, token)
    server.clock.set_now(server.demo.end_ms + 1_000)
    deadline = time.monotonic() + 10
    while (_attempt(server).score is None) and time.monotonic() < deadline:
        time.sleep(0.05)  # the sweeper runs every 0.2 s in live_server
    attempt = _attempt(server)
    assert attempt.status == "auto_submitted"
    assert attempt.submitted_at_ms == server.demo.end_ms
    assert attempt.score == KNOWN_SCORE


def test_answers_delivered_late_are_rescored(api, server: LiveServer, token: str) -> None:
    answered_at = server.clock.now_ms() - 1_000
    api.post("/attempt/submit", {"answered_count": 0}, token=token)
    assert _wait_result(api, token, "scored")["score"] == 0.0
    # Answers given before the submission, delivered after it and after the end (the
    # network came back late): merged and scored (docs/lifecycle.md).
    server.clock.set_now(server.demo.end_ms + 60_000)
    _push_known_answers(api, token, client_time_ms=answered_at)
    assert _wait_result(api, token, "scored")["score"] == KNOWN_SCORE


def test_answers_stamped_after_the_submission_are_refused(api, server: LiveServer,
                                                          token: str) -> None:
    api.post("/attempt/submit", {"answered_count": 0}, token=token)
    assert _wait_result(api, token, "scored")["score"] == 0.0
    # 交卷后将不能再修改答案: a revision made after the submission never counts.
    late = api.post("/attempt/answers", {"answers": [
        {"question_id": "q1", "revision": 1, "value": "B",
         "client_time_ms": server.clock.now_ms() + 1_000}]}, token=token)
    assert late.status_code == 409
    assert _wait_result(api, token, "scored")["score"] == 0.0


def test_flagged_attempt_is_pending_review(api, server: LiveServer, token: str) -> None:
    _push_known_answers(api, token)
    api.post("/attempt/submit", {"answered_count": 5}, token=token)
    _wait_result(api, token, "scored")
    server.db.set_review(_attempt(server).id, pending=True, reason="camera: another person")
    body = api.get("/attempt/result", token=token).json()
    assert body["status"] == "pending_review"
    assert body["score"] is None


@pytest.mark.parametrize("count", [3, 7])
def test_answered_count_mismatch_is_recorded(api, server: LiveServer, token: str,
                                             count: int) -> None:
    _push_known_answers(api, token)
    api.post("/attempt/submit", {"answered_count": count}, token=token)
    (event,) = server.db.events(attempt_id=_attempt(server).id, kind="submit")
    assert event.payload == {"client_answered_count": count, "server_answered_count": 5}
