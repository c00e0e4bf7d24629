"""One writer per attempt, idempotent logins, and a submitted attempt that does not change
(issue 15, "One writer per attempt")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lifecycle_support import raw_login, raw_push, raw_submit
from offline_support import attempt_of, build_session, start_exam, wait_until

from client.errors import UserFacingError
from client.session.authorization import authorization_code, window_of
from client.session.exam_session import Phase
from client.sync.errors import ServerRefused
from server.api_admin import authorize_login
from server.api_attempt import current_flags
from server.testing import LiveServer, live_server


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server", demo=True, start_in_s=-5.0, duration_s=1800) as live:
        yield live


def test_a_lost_login_answer_retried_from_the_same_pc_is_the_same_login(srv: LiveServer) -> None:
    """Before: the retry needed a proctor (409 second_login), and left a pending request."""
    first = raw_login(srv, client_id="pc-07")
    assert first.status_code == 200  # ... but the answer never reached the PC
    retry = raw_login(srv, client_id="pc-07")
    assert retry.status_code == 200, retry.text
    assert retry.json()["attempt"]["login_kind"] == "same_client"
    assert srv.db.login_requests(status="pending") == []
    other = raw_login(srv, client_id="pc-08")
    assert other.status_code == 409 and other.json()["error"] == "second_login"


def test_a_pc_that_got_in_leaves_no_phantom_request(srv: LiveServer) -> None:
    """A request held for a PC must not be approved later once that PC got in by itself."""
    assert srv.demo is not None
    raw_login(srv, client_id="pc-01")
    held = raw_login(srv, client_id="pc-02")
    assert held.status_code == 409
    # pc-02 gets in with the proctor's code meanwhile ...
    code = authorization_code(proctor_secret=srv.demo.proctor_secret, exam_id=srv.demo.exam_id,
                              student_no=srv.demo.username,
                              window=window_of(srv.clock.now_ms()))
    assert raw_login(srv, client_id="pc-02", authorization_code=code).status_code == 200
    # ... so its held request is gone: nothing for an admin to approve by mistake.
    assert srv.db.login_requests(status="pending") == []


def test_a_take_over_revokes_the_old_pc(srv: LiveServer, tmp_path: Path) -> None:
    """Before: the old PC kept its token, kept answering, showed 已同步 and was merged."""
    assert srv.demo is not None
    # Mostly it learns from the upload of the save below; its first heartbeat (at a random
    # moment in its first 2 s) may come late on a loaded machine and tell it first.
    old = build_session(srv.url, tmp_path / "old-pc", timeout_s=15, heartbeat_interval_s=600)
    new = build_session(srv.url, tmp_path / "new-pc", timeout_s=15)
    try:
        old.login(username=srv.demo.username, password=srv.demo.password)
        old.preload()
        start_exam(srv, old)
        old.save_answer("q1", "A")
        wait_until(lambda: srv.db.current_answers(attempt_of(srv).id) == {"q1": "A"},
                   message="the old PC's answer on the server")
        with pytest.raises(ServerRefused):
            new.login(username=srv.demo.username, password=srv.demo.password)
        assert new.phase is Phase.AUTHORIZING
        authorize_login(srv.db, exam_id=srv.demo.exam_id, who=srv.demo.username,
                        approved_by="chief", now_ms=srv.clock.now_ms())
        new.retry_login()
        try:
            old.save_answer("q2", ["A"])  # typed on the old PC right after the take-over
            typed = 1
        except UserFacingError as exc:  # its first heartbeat came late and told it first
            assert exc.code == "session.revoked"
            typed = 0
        wait_until(lambda: old.phase is Phase.REVOKED, message="the old PC told it lost the seat")
        with pytest.raises(UserFacingError) as refused:
            old.save_answer("q3", True)
        assert refused.value.code == "session.revoked"
        assert "已在其他电脑登录" in refused.value.message
        assert srv.db.current_answers(attempt_of(srv).id) == {"q1": "A"}
        # The old PC's answer stays on it, for the proctor's file.
        unsynced = old.run_on_store(lambda store: store.unsynced_count()).result()
        assert unsynced == typed
        kinds = [e.kind for e in srv.db.events(attempt_id=attempt_of(srv).id)]
        assert "tokens_revoked" in kinds
    finally:
        old.close()
        new.close()


def test_a_submitted_attempt_changes_only_by_late_revisions_of_its_pc(srv: LiveServer) -> None:
    """Before: another PC's answers were merged into the submitted attempt and re-scored."""
    assert srv.demo is not None
    now = srv.clock.now_ms()
    holder = raw_login(srv, client_id="pc-01").json()["token"]
    assert raw_push(srv, holder, [("q1", 1, "A", now)]).status_code == 200
    assert raw_submit(srv, holder).status_code == 200
    submitted_at = attempt_of(srv).submitted_at_ms
    # Another PC after the submission: it may read the result, never write.
    other = raw_login(srv, client_id="pc-02")
    assert other.status_code == 200 and other.json()["attempt"]["may_write"] is False
    other_token = other.json()["token"]
    refused = raw_push(srv, other_token, [("q1", 9, "D", now)])
    assert refused.status_code == 403 and refused.json()["error"] == "read_only"
    assert raw_submit(srv, other_token).status_code == 403
    # The holder's revision made after its submission: refused for good.
    late = raw_push(srv, holder, [("q2", 1, ["B"], submitted_at + 1_000)])
    assert late.status_code == 409 and late.json()["detail"]["rejected"] == [["q2", 1]]
    # The holder's revision made before it, arriving late: merged, audited.
    delivered = raw_push(srv, holder, [("q3", 1, True, submitted_at - 1_000)])
    assert delivered.status_code == 200, delivered.text
    assert srv.db.current_answers(attempt_of(srv).id) == {"q1": "A", "q3": True}
    audit = srv.db.events(attempt_id=attempt_of(srv).id, kind="late_revisions")
    assert [e.payload["applied"] for e in audit] == [[["q3", 1]]]
    assert audit[0].payload["client_id"] == "pc-01"


def test_marks_follow_the_candidate_to_the_new_pc(srv: LiveServer, tmp_path: Path) -> None:
    """Before: the marks (标记) lived in the old PC's store only; after a take-over the new
    PC showed none. Now the PC that writes sends them at once, and the new PC seeds them
    with the answers, before its exam page opens; the answered state comes with them."""
    assert srv.demo is not None
    old = build_session(srv.url, tmp_path / "old-pc", timeout_s=15)
    new = build_session(srv.url, tmp_path / "new-pc", timeout_s=15)
    try:
        old.login(username=srv.demo.username, password=srv.demo.password)
        old.preload()
        old.unlock()
        old.save_answer("q1", "A")
        old.save_flags(["q5", "q2"])
        old.save_flags(["q5", "q2", "q1"])
        old.save_flags(["q5", "q2"])  # unmarked again: the last word counts
        attempt_id = attempt_of(srv).id
        wait_until(lambda: current_flags(srv.context, attempt_id) == ["q2", "q5"],
                   message="the marks on the server")
        wait_until(lambda: srv.db.current_answers(attempt_id) == {"q1": "A"})
        with pytest.raises(ServerRefused):
            new.login(username=srv.demo.username, password=srv.demo.password)
        authorize_login(srv.db, exam_id=srv.demo.exam_id, who=srv.demo.username,
                        approved_by="chief", now_ms=srv.clock.now_ms())
        new.retry_login()
        assert new.flags() == ["q2", "q5"]
        assert new.answers() == {"q1": "A"}
        new.preload()
        new.unlock()
        new.save_flags(["q2"])  # the new PC is the one that writes them now
        wait_until(lambda: current_flags(srv.context, attempt_id) == ["q2"],
                   message="the new PC's marks on the server")
        wait_until(lambda: old.phase is Phase.REVOKED, timeout_s=30,
                   message="the old PC told it lost the seat")
        with pytest.raises(ServerRefused) as refused:
            old.api.put_flags(["q1"])  # the old PC may not change them any more
        assert refused.value.code in ("revoked", "unauthorized")  # it dropped its token
        assert current_flags(srv.context, attempt_id) == ["q2"]
    finally:
        old.close()
        new.close()


def test_marks_are_checked_like_answers(srv: LiveServer) -> None:
    """Only questions of this paper, only from the PC that writes."""
    token = raw_login(srv, client_id="pc-01").json()["token"]

    def put(token: str, flags: list[str]) -> requests.Response:
        return requests.put(srv.api("/attempt/flags"), json={"flags": flags}, timeout=10,
                            headers={"Authorization": f"Bearer {token}"})

    unknown = put(token, ["q1", "no-such-question"])
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_question"
    assert put(token, ["q1", "q1"]).json()["flags"] == ["q1"]
    assert raw_submit(srv, token).status_code == 200
    reader = raw_login(srv, client_id="pc-02").json()
    assert reader["attempt"]["may_write"] is False
    assert put(reader["token"], []).status_code == 403
    assert current_flags(srv.context, attempt_of(srv).id) == ["q1"]
