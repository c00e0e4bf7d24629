"""The center IP allowlist, idempotent answer uploads and the end-time refusal, through
the client's HTTP API against the real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from client.session.factory import create_session
from client.sync.api import ExamApi
from client.sync.clock import ServerClock
from client.sync.errors import ServerRefused
from server import schema as t
from server.center_ip import ip_allowed
from server.testing import LiveServer, live_server


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    with live_server(tmp_path / "server", demo=True, start_in_s=600, duration_s=3600) as srv:
        yield srv


def logged_in(server: LiveServer) -> ExamApi:
    assert server.demo is not None
    api = ExamApi(server.url, clock=ServerClock(), client_id="pc-01")
    api.login(username=server.demo.username, password=server.demo.password,
              center_id=server.demo.center_id)
    return api


def test_allowlist_entries_are_addresses_or_networks() -> None:
    assert ip_allowed("203.0.113.9", [])  # nothing registered yet: no restriction
    assert ip_allowed("203.0.113.9", ["198.51.100.1", "203.0.113.0/28"])
    assert ip_allowed("::ffff:203.0.113.9", ["203.0.113.9"])
    assert not ip_allowed("203.0.113.99", ["203.0.113.0/28", "not-an-ip"])
    assert not ip_allowed("garbage", ["203.0.113.0/28"])


def test_unregistered_center_ip_is_told_the_address_the_server_saw(server: LiveServer,
                                                                   tmp_path: Path) -> None:
    assert server.demo is not None
    server.db.upsert_center(center_id=server.demo.center_id, name="演示考点",
                            allowed_ips=["203.0.113.0/28"])
    from client.config import load_settings

    settings = load_settings([]).with_overrides({
        "server/url": server.url, "server/center_id": server.demo.center_id,
        "data/directory": tmp_path / "pc"})
    session = create_session(settings)
    with pytest.raises(ServerRefused) as outside:
        session.login(username=server.demo.username, password=server.demo.password)
    assert outside.value.code == "outside_center" and outside.value.status == 403
    assert "请在考场范围内进行考试" in outside.value.message
    assert "127.0.0.1" in outside.value.message  # what the admin must register
    # The wrong password is still told first: the allowlist reveals nothing to guessers.
    with pytest.raises(ServerRefused) as wrong:
        session.login(username=server.demo.username, password="000000")
    assert wrong.value.code == "wrong_password"
    server.db.upsert_center(center_id=server.demo.center_id, name="演示考点",
                            allowed_ips=["203.0.113.0/28", "127.0.0.1"])
    assert session.login(username=server.demo.username,
                         password=server.demo.password).seen_ip == "127.0.0.1"
    session.close()


def test_a_replayed_batch_changes_nothing(server: LiveServer) -> None:
    assert server.demo is not None
    api = logged_in(server)
    server.clock.set_now(server.demo.start_ms + 1_000)  # type: ignore[attr-defined]
    now = server.clock.now_ms()
    batch = [{"question_id": "q1", "revision": 1, "value": "A", "client_time_ms": now},
             {"question_id": "q1", "revision": 2, "value": "B", "client_time_ms": now},
             {"question_id": "q4", "revision": 1, "value": ["A", "C"], "client_time_ms": now}]

    def state() -> tuple[int, dict[str, object]]:
        with server.db.read() as conn:
            count = conn.execute(select(func.count()).select_from(t.answer_revisions)).scalar()
        candidate = server.db.find_candidate(student_no=server.demo.username)
        assert candidate is not None
        attempt = server.db.find_attempt(exam_id=server.demo.exam_id, candidate_id=candidate.id)
        assert attempt is not None
        return int(count or 0), server.db.current_answers(attempt.id)

    first = api.push_answers(batch)
    after_first = state()
    for _ in range(3):  # the acknowledgement was lost: the same batch again, and again
        assert api.push_answers(batch) == first
        assert state() == after_first
    assert sorted(first.acked) == [("q1", 1), ("q1", 2), ("q4", 1)]
    assert after_first == (3, {"q1": "B", "q4": ["A", "C"]})


def test_after_the_end_the_late_part_is_refused_for_good(server: LiveServer) -> None:
    assert server.demo is not None
    api = logged_in(server)
    end = server.demo.end_ms
    server.clock.set_now(end + 60_000)  # type: ignore[attr-defined]
    outcome = api.push_answers([
        {"question_id": "q1", "revision": 1, "value": "A", "client_time_ms": end - 5_000},
        {"question_id": "q2", "revision": 1, "value": "B", "client_time_ms": end + 5_000}])
    assert outcome.acked == [("q1", 1)] and outcome.rejected == [("q2", 1)]
