"""POST /attempt/heartbeat over real HTTP: the attempt's clock for a candidate token only."""

from __future__ import annotations

from server_testkit import Api

from server.testing import LiveServer


def test_heartbeat_answers_with_the_attempts_clock_and_counts_as_contact(
        server: LiveServer, api: Api) -> None:
    assert server.demo is not None
    token = api.token()
    attempt_id = server.db.find_attempt(
        exam_id=server.demo.exam_id,
        candidate_id=server.db.find_candidate(student_no=server.demo.username).id).id
    server.clock.advance(ms=60_000)
    response = api.post("/attempt/heartbeat",
                        {"focus_losses": 0, "pending": 3, "messages_seen": 0}, token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"server_time_ms": body["server_time_ms"], "end_ms": server.demo.end_ms,
                    "paused": False, "paused_since_ms": None, "messages": [],
                    "identity_hold": None}  # no failed face check waiting
    assert abs(body["server_time_ms"] - server.clock.now_ms()) < 5_000
    # The contact the console shows moved with the heartbeat (no answer was uploaded).
    attempt = server.db.get_attempt(attempt_id)
    assert attempt is not None and attempt.last_contact_ms is not None
    assert attempt.last_contact_ms >= server.clock.now_ms() - 5_000


def test_heartbeat_needs_a_candidate_token_and_sane_numbers(server: LiveServer,
                                                           api: Api) -> None:
    assert api.post("/attempt/heartbeat", {"pending": 0}).status_code == 401
    assert api.post("/attempt/heartbeat", {"pending": 0},
                    token="not-a-token").status_code == 401
    token = api.token()
    assert api.post("/attempt/heartbeat", {"pending": -1}, token=token).status_code == 422
    assert api.post("/attempt/heartbeat", {"focus_losses": "x"},
                    token=token).status_code == 422
    huge = api.post("/attempt/heartbeat", {"pending": 0, "pad": "x" * 10_000}, token=token)
    assert huge.status_code == 413
