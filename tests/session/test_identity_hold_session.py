"""A real ExamSession held after a failed face check learns the console's decision from
its heartbeat: the failed check and its frames reach the console, the proctor approves
(or refuses, with the reason the PC shows), and only the decision on the hold the PC
waits on counts. Real server on 127.0.0.1, real HTTP, real SQLCipher store."""

from __future__ import annotations

from pathlib import Path

import pytest
from console_actions import console_action, room_tiles
from face_photos import face_jpeg
from test_extra_time_session import session_for, wait_for

from client.camera.identity_check import IdentityResult, Outcome
from client.errors import UserFacingError
from client.session.exam_session import SessionEvents
from client.session.identity_hold import HoldDecision, parse_decision
from server.identity_holds import get_hold
from server.testing import live_server


def failed_check() -> IdentityResult:
    return IdentityResult(outcome=Outcome.NOT_MATCHED, message="人脸比对未通过",
                          reason="match.not_matched", threshold=0.363, score=0.18,
                          scores=(0.18, 0.2), captures=(face_jpeg(0), face_jpeg(1)),
                          attempt=3, failures_before=2)


def test_a_held_session_is_let_in_or_refused_from_the_console(tmp_path: Path) -> None:
    decisions: list[HoldDecision] = []
    with live_server(tmp_path / "server", start_in_s=600, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        session = session_for(srv, tmp_path, SessionEvents(
            on_identity_decision=decisions.append))
        try:
            login = session.login(username=demo.username, password=demo.password)
            candidate_id = int(login.candidate_id)
            first = session.request_identity_hold(failed_check(), event_id="evt-check-3-fail")
            tile = next(t for t in room_tiles(srv) if t["candidate_id"] == candidate_id)
            assert tile["face_hold"]["id"] == first
            assert tile["face_hold"]["status"] == "pending"
            assert tile["face_hold"]["failures"] == 3 and tile["face_hold"]["captures"] == 2
            # Heartbeats while pending bring no decision.
            beats = session._heartbeat.beats  # type: ignore[union-attr]
            wait_for(lambda: session._heartbeat.beats >= beats + 2,  # type: ignore[union-attr]
                     timeout_s=10, what="two heartbeats while pending")
            assert decisions == []

            console_action(srv, action="refuse_face", candidate_id=candidate_id,
                           hold_id=first, reason="与身份证照片不符")
            wait_for(lambda: len(decisions) == 1, timeout_s=10, what="the refusal")
            assert decisions[0].status == "refused"
            assert "与身份证照片不符" in decisions[0].candidate_text()
            # Still held: the paper does not open, online or with a start code.
            assert session.identity_held
            with pytest.raises(UserFacingError) as held:
                session.unlock()
            assert held.value.code == "identity.held"
            with pytest.raises(UserFacingError):
                session.unlock_with_start_code("000000")

            # The candidate asks again (the proctor came and looked): a new hold, which the
            # refusal does not decide; the approval comes with the next heartbeat.
            second = session.request_identity_hold(failed_check(), event_id="evt-check-3-fail")
            assert second != first
            assert session.identity_decision is None
            console_action(srv, action="approve_face", candidate_id=candidate_id,
                           hold_id=second, reason="已核对身份证，本人")
            wait_for(lambda: len(decisions) == 2, timeout_s=10, what="the approval")
            assert decisions[1].approved and decisions[1].hold_id == second
            assert session.identity_decision == decisions[1]
            assert not session.identity_held
            assert get_hold(srv.db, second).status == "approved"  # type: ignore[union-attr]
            # Decided: the PC stops asking, and nothing more arrives.
            beats = session._heartbeat.beats  # type: ignore[union-attr]
            wait_for(lambda: session._heartbeat.beats >= beats + 2,  # type: ignore[union-attr]
                     timeout_s=10, what="two more heartbeats")
            assert len(decisions) == 2
        finally:
            session.close()


def test_only_a_decision_on_the_awaited_hold_counts() -> None:
    approved = {"id": 7, "status": "approved", "reason": "ok", "at_ms": 1_700_000_000_000}
    assert parse_decision(approved, waiting_on=7) == HoldDecision(7, "approved", "ok",
                                                                  1_700_000_000_000)
    for raw, waiting in [
        (approved, 6),                                   # another (older) hold's approval
        (approved, 0),                                   # not waiting at all
        ({**approved, "id": True}, 1),                   # a bool is no id
        ({**approved, "status": "APPROVED"}, 7),         # unknown status
        ({**approved, "at_ms": None}, 7),                # a decision without its time
        ({**approved, "at_ms": 2 ** 60}, 7),             # beyond any calendar
        ({**approved, "reason": ["x"]}, 7),
        ("approved", 7), (None, 7),
    ]:
        assert parse_decision(raw, waiting_on=waiting) is None, (raw, waiting)
    refused = parse_decision({"id": 7, "status": "refused", "reason": "照片\u202e不符\x1b",
                              "at_ms": 5}, waiting_on=7)
    assert refused is not None and refused.reason == "照片不符"
    assert parse_decision({"id": 7, "status": "pending", "reason": "", "at_ms": None},
                          waiting_on=7) == HoldDecision(7, "pending", "", None)


def test_the_proctor_at_the_pc_releases_the_hold(tmp_path: Path) -> None:
    """Proctor mode on the PC still lets a held candidate in (no network needed)."""
    with live_server(tmp_path / "server", start_in_s=600, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        session = session_for(srv, tmp_path, SessionEvents())
        try:
            session.login(username=demo.username, password=demo.password)
            session.request_identity_hold(failed_check(), event_id="evt-check-3-fail")
            assert session.identity_held
            session.release_identity_hold(proctor="王老师")
            assert not session.identity_held
        finally:
            session.close()
