"""Login over real HTTP: the exam-center password rules and the two distinct failures."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from server.passwords import default_password, hash_password, normalize_id_number
from server.testing import LiveServer, live_server


@pytest.mark.parametrize(
    ("id_number", "password"),
    [
        ("110101199001011234", "011234"),
        ("11010519851212002x", "12002X"),  # trailing x is stored upper-case
        ("A123456(7)", "123456"),  # Hong Kong
        ("A123456（7）", "123456"),  # typed with full-width parentheses
        ("军字第(2001)0123号", "123456"),  # military
    ],
)
def test_default_password_rule(id_number: str, password: str) -> None:
    assert default_password(id_number) == password


def test_id_numbers_are_normalized() -> None:
    assert normalize_id_number(" 11010519851212002x ") == "11010519851212002X"
    assert normalize_id_number("a123456（7）") == "A123456(7)"


def test_login_with_student_number(api, server: LiveServer) -> None:
    response = api.login()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["candidate"]["student_no"] == server.demo.username
    assert body["candidate"]["name"] == "张三"
    exam = body["exam"]
    assert exam["id"] == "demo-exam"
    assert exam["start_ms"] == server.demo.start_ms and exam["end_ms"] == server.demo.end_ms
    assert exam["package_size"] > 0 and exam["package_etag"].startswith('"')
    assert body["seen_ip"] == "127.0.0.1"
    assert abs(body["epoch_ms"] - server.clock.now_ms()) < 5_000
    assert body["token"]


def test_id_ending_in_x_uses_upper_case_password(api) -> None:
    person = api.demo.candidates[1]
    assert person.id_number.endswith("x")
    # the ID number works as user name, typed in either case
    for username in (person.id_number, person.id_number.upper(), person.student_no):
        assert api.login(username, "12002X").status_code == 200
    wrong = api.login(person.student_no, "12002x")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "wrong_password"


def test_id_with_parentheses_defaults_to_123456(api) -> None:
    person = api.demo.candidates[2]
    assert api.login(person.id_number, "123456").status_code == 200
    assert api.login(person.student_no, "123456").status_code == 200
    assert api.login(person.student_no, "456(7)").json()["error"] == "wrong_password"


def test_wrong_password_is_401(api) -> None:
    response = api.login(password="000000")
    assert response.status_code == 401
    assert response.json()["error"] == "wrong_password"


def test_unknown_user_and_unregistered_user_look_the_same(api, server: LiveServer) -> None:
    # A real candidate who is not registered for any exam ...
    server.db.insert_candidate(
        student_no="2024999999",
        id_number="110101200001019999",
        name="王五",
        center_id="demo-center",
        password_hash=hash_password("019999"),
    )
    unregistered = api.login("2024999999", "019999")
    # ... and a user name that does not exist: the same answer, nothing leaks.
    unknown = api.login("nobody", "019999")
    for response in (unregistered, unknown):
        assert response.status_code == 403
        assert response.json() == {"error": "not_registered", "detail": {"seen_ip": "127.0.0.1"}}


def test_login_after_the_exam_ended_is_not_registered(api, server: LiveServer) -> None:
    # Tokens live 6 h past the end (late sync, the result); after that nobody sits it.
    server.clock.set_now(server.demo.end_ms + server.context.settings.token_grace_s * 1000 + 1)
    response = api.login()
    assert response.status_code == 403
    assert response.json()["error"] == "not_registered"


def test_a_pc_that_never_reached_the_server_logs_in_after_the_end(api, server: LiveServer) -> None:
    """Issue 15: the background login after the end was refused (current_exam_for wanted
    end_ms > now), so answers saved offline before the end could never arrive by sync."""
    server.clock.set_now(server.demo.end_ms + 60_000)
    response = api.login()
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    body = {"answers": [{"question_id": "q1", "revision": 1, "value": "B",
                         "client_time_ms": server.demo.end_ms - 5_000},
                        {"question_id": "q2", "revision": 1, "value": "A",
                         "client_time_ms": server.demo.end_ms + 5_000}]}
    pushed = requests.post(server.api("/attempt/answers"), json=body, timeout=10,
                           headers={"Authorization": f"Bearer {token}"})
    assert pushed.status_code == 409 and pushed.json()["detail"]["acked"] == [["q1", 1]]
    attempt = server.db.find_attempt(exam_id=server.demo.exam_id,
                                     candidate_id=server.db.find_candidate(
                                         student_no=server.demo.username).id)
    assert attempt.status == "auto_submitted" and attempt.submitted_at_ms == server.demo.end_ms
    assert server.db.current_answers(attempt.id) == {"q1": "B"}


def test_login_count_is_kept(api, server: LiveServer) -> None:
    api.login()
    second = api.login()
    assert second.json()["attempt"]["login_count"] == 2
    candidate = server.db.find_candidate(student_no=server.demo.username)
    attempt = server.db.find_attempt(exam_id="demo-exam", candidate_id=candidate.id)
    assert attempt.login_count == 2
    logins = server.db.events(attempt_id=attempt.id, kind="login")
    assert [e.payload["client_id"] for e in logins] == ["test-pc-01", "test-pc-01"]


def test_forwarded_for_is_ignored_unless_trusted(api) -> None:
    response = api.session.post(
        api.server.api("/login"),
        json={"username": api.demo.username, "password": api.demo.password},
        headers={"X-Forwarded-For": "203.0.113.9"},
        timeout=10,
    )
    assert response.json()["seen_ip"] == "127.0.0.1"


def test_forwarded_for_behind_a_trusted_proxy(tmp_path: Path, paper_source: Path) -> None:
    with live_server(tmp_path / "data", demo_paper=paper_source, trust_proxy=True) as live:
        response = requests.post(
            live.api("/login"),
            json={"username": live.demo.username, "password": live.demo.password},
            # the client made up the first entry; the proxy appended the real address
            headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.9"},
            timeout=10,
        )
    assert response.json()["seen_ip"] == "203.0.113.9"


def test_bad_login_body_is_a_coded_error(api) -> None:
    response = api.session.post(api.server.api("/login"), json={"password": "x"}, timeout=10)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_admin_login(api) -> None:
    ok = api.post("/admin/login", {"username": "admin", "password": api.demo.admin_password})
    assert ok.status_code == 200
    assert ok.json()["center_id"] == "demo-center" and ok.json()["token"]
    for username, password in (("admin", "wrong"), ("nobody", api.demo.admin_password)):
        refused = api.post("/admin/login", {"username": username, "password": password})
        assert refused.status_code == 401 and refused.json()["error"] == "wrong_password"


def test_candidate_token_expires_after_the_grace_period(api, server: LiveServer,
                                                        token: str) -> None:
    grace_ms = server.context.settings.token_grace_s * 1000
    server.clock.set_now(server.demo.end_ms + grace_ms - 5_000)
    assert api.get("/attempt/result", token=token).status_code == 200  # auto-submitted
    server.clock.set_now(server.demo.end_ms + grace_ms + 1_000)
    expired = api.get("/attempt/result", token=token)
    assert expired.status_code == 401 and expired.json()["error"] == "unauthorized"
