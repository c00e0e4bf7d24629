"""POST /attempt/answers over real HTTP: acks, idempotency, highest revision wins, sealing."""

from __future__ import annotations

from server.testing import LiveServer


def _rev(qid: str, revision: int, value: object, client_time_ms: int | None = None) -> dict:
    return {"question_id": qid, "revision": revision, "value": value,
            "client_time_ms": client_time_ms}


def _attempt_id(server: LiveServer) -> int:
    candidate = server.db.find_candidate(student_no=server.demo.username)
    attempt = server.db.find_attempt(exam_id="demo-exam", candidate_id=candidate.id)
    return attempt.id


def test_batch_is_acked_and_stored(api, server: LiveServer, token: str) -> None:
    batch = [_rev("q1", 1, "A"), _rev("q2", 1, ["A", "C"]), _rev("q5", 1, "作文")]
    response = api.post("/attempt/answers", {"answers": batch}, token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(map(tuple, body["acked"])) == [("q1", 1), ("q2", 1), ("q5", 1)]
    assert abs(body["epoch_ms"] - server.clock.now_ms()) < 2_000
    assert server.db.current_answers(_attempt_id(server)) == {
        "q1": "A", "q2": ["A", "C"], "q5": "作文"}


def test_replayed_batch_changes_nothing(api, server: LiveServer, token: str) -> None:
    batch = [_rev("q1", 1, "A"), _rev("q1", 2, "B"), _rev("q3", 1, True)]
    first = api.post("/attempt/answers", {"answers": batch}, token=token).json()
    attempt_id = _attempt_id(server)
    before = (server.db.current_answers(attempt_id), server.db.answer_change_count(attempt_id))
    again = api.post("/attempt/answers", {"answers": batch}, token=token).json()
    assert sorted(map(tuple, again["acked"])) == sorted(map(tuple, first["acked"]))
    after = (server.db.current_answers(attempt_id), server.db.answer_change_count(attempt_id))
    assert after == before
    assert server.db.current_revisions(attempt_id) == {"q1": 2, "q3": 1}


def test_highest_revision_wins_in_any_order(api, server: LiveServer, token: str) -> None:
    api.post("/attempt/answers", {"answers": [_rev("q1", 3, "B")]}, token=token)
    late_older = api.post("/attempt/answers", {"answers": [_rev("q1", 2, "A")]}, token=token)
    assert late_older.json()["acked"] == [["q1", 2]]  # acked: the client may forget it
    attempt_id = _attempt_id(server)
    assert server.db.current_answers(attempt_id) == {"q1": "B"}
    assert server.db.current_revisions(attempt_id) == {"q1": 3}
    assert server.db.answer_change_count(attempt_id) == 2  # both kept in the history


def test_cleared_answer_is_stored_as_null(api, server: LiveServer, token: str) -> None:
    api.post("/attempt/answers", {"answers": [_rev("q1", 1, "B"), _rev("q1", 2, None)]},
             token=token)
    assert server.db.current_answers(_attempt_id(server)) == {"q1": None}


def test_same_revision_with_other_content_is_kept_as_evidence(api, server: LiveServer,
                                                              token: str) -> None:
    api.post("/attempt/answers", {"answers": [_rev("q1", 1, "A")]}, token=token)
    response = api.post("/attempt/answers", {"answers": [_rev("q1", 1, "B")]}, token=token)
    assert response.json()["acked"] == [["q1", 1]]
    attempt_id = _attempt_id(server)
    assert server.db.current_answers(attempt_id) == {"q1": "A"}
    conflicts = server.db.events(attempt_id=attempt_id, kind="revision_conflict")
    assert [e.payload["rejected_value"] for e in conflicts] == ["B"]


def test_after_the_end_late_revisions_are_sealed(api, server: LiveServer, token: str) -> None:
    end = server.demo.end_ms
    server.clock.set_now(end + 60_000)
    response = api.post(
        "/attempt/answers",
        {"answers": [
            _rev("q1", 1, "B", client_time_ms=end - 5_000),  # made before the network cut
            _rev("q2", 1, ["A"], client_time_ms=end + 30_000),  # made after the end
        ]},
        token=token,
    )
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "sealed"
    assert body["detail"]["acked"] == [["q1", 1]]
    assert body["detail"]["rejected"] == [["q2", 1]]
    attempt = server.db.get_attempt(_attempt_id(server))
    assert attempt.status == "auto_submitted" and attempt.submitted_at_ms == end
    assert server.db.current_answers(attempt.id) == {"q1": "B"}


def test_requests_need_a_candidate_token(api) -> None:
    response = api.post("/attempt/answers", {"answers": []})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_malformed_batch_is_rejected_whole(api, server: LiveServer, token: str) -> None:
    response = api.post("/attempt/answers",
                        {"answers": [_rev("q1", 1, "A"), _rev("q2", 0, "A")]}, token=token)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert server.db.current_answers(_attempt_id(server)) == {}


def test_an_answer_over_the_value_limit_is_refused_with_its_batch(api, server: LiveServer,
                                                                   token: str) -> None:
    from server.api_attempt import MAX_VALUE_BYTES

    at_limit = "字" * (MAX_VALUE_BYTES // 3)  # 3 bytes each in UTF-8, JSON quotes add 2
    over = at_limit + "字"
    response = api.post("/attempt/answers",
                        {"answers": [_rev("q1", 1, "A"), _rev("q5", 1, over)]}, token=token)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert "larger than" in response.text, response.text
    assert server.db.current_answers(_attempt_id(server)) == {}
    fits = "字" * ((MAX_VALUE_BYTES - 2) // 3)
    response = api.post("/attempt/answers", {"answers": [_rev("q5", 1, fits)]}, token=token)
    assert response.status_code == 200, response.text
