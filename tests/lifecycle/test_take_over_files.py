"""The proctor's file from a PC that was taken over (docs/offline.md, "A file from a PC that
was taken over"): merged up to the moment the PC lost the attempt, the rest refused and
reported to the admin (in the admin's language), before and after the submission.

The old PC is cut off (fault proxy down), so it never learns of the take-over and keeps
answering: what a lab PC whose cable was pulled does while the candidate moves on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_proxy import FaultProxy
from lifecycle_support import admin_import, proctor_export, raw_login, raw_submit
from offline_support import attempt_of, build_session, wait_until

from client.errors import UserFacingError
from client.i18n import set_language
from client.session.exam_session import ExamSession, Phase
from client.sync.errors import ServerRefused
from server.api_admin import authorize_login
from server.merge import Outcome
from server.offline_import import ImportStatus, format_report
from server.take_over import seat_lost_ms
from server.testing import LiveServer, live_server

MARGIN_S = 0.3  # between a save and the take-over: far above the PC's clock estimate error


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server", demo=True, start_in_s=-5.0, duration_s=1800) as live:
        yield live


@pytest.fixture
def cable(srv: LiveServer) -> Iterator[FaultProxy]:
    with FaultProxy(("127.0.0.1", int(srv.url.rsplit(":", 1)[1]))) as proxy:
        yield proxy


def enter(srv: LiveServer, session: ExamSession) -> None:
    session.preload()
    session.unlock()
    assert session.phase is Phase.RUNNING


def old_pc_then_take_over(srv: LiveServer, cable: FaultProxy, tmp_path: Path
                          ) -> tuple[ExamSession, ExamSession]:
    """The candidate answers q1 on the old PC (synced), its cable goes, q2 is answered
    there offline, then the candidate moves to the new PC (admin's approval)."""
    assert srv.demo is not None
    old = build_session(cable.url, tmp_path / "old-pc", timeout_s=15)
    old.login(username=srv.demo.username, password=srv.demo.password)
    enter(srv, old)
    old.save_answer("q1", "A")
    wait_until(lambda: srv.db.current_answers(attempt_of(srv).id) == {"q1": "A"})
    cable.set_mode("down")
    old.save_answer("q2", ["A"])
    old.writer.flush().result()
    time.sleep(MARGIN_S)
    new = build_session(srv.url, tmp_path / "new-pc", timeout_s=15)
    with pytest.raises(ServerRefused):  # held as a second login: the admin approves it
        new.login(username=srv.demo.username, password=srv.demo.password)
    authorize_login(srv.db, exam_id=srv.demo.exam_id, who=srv.demo.username,
                    approved_by="chief", now_ms=srv.clock.now_ms())
    new.retry_login()
    enter(srv, new)
    time.sleep(MARGIN_S)
    return old, new


def test_a_taken_over_pcs_file_merges_what_it_saved_before_and_refuses_the_rest(
        srv: LiveServer, cable: FaultProxy, tmp_path: Path) -> None:
    """The attempt still runs on the new PC. The old PC's file brings q2 (saved before the
    take-over); q5 and its 交卷, made there after the candidate had moved, are refused."""
    old, new = old_pc_then_take_over(srv, cable, tmp_path)
    try:
        attempt = attempt_of(srv)
        lost = seat_lost_ms(srv.db, attempt_id=attempt.id, client_id=old.api.client_id)
        assert lost is not None
        old.save_answer("q5", True)  # nobody the candidate: they are at the new PC
        with pytest.raises(UserFacingError):  # offline: sealed on the PC, in its file
            old.submit()
        assert old.phase is Phase.SEALED
        report = admin_import(srv, proctor_export(old, tmp_path / "usb"))
        assert report.status is ImportStatus.MERGED and report.code == "offline.merged"
        assert report.counts[Outcome.APPLIED.value] == 1
        assert report.counts[Outcome.REFUSED_AFTER_TAKE_OVER.value] == 1
        assert report.seat_lost_at_ms == lost and report.refused_submission
        assert not report.submitted_by_import
        assert srv.db.current_answers(attempt.id) == {"q1": "A", "q2": ["A"]}
        assert not attempt_of(srv).is_submitted  # the new PC's candidate is still answering
        lines = "\n".join(format_report(report))
        assert "换到其他电脑；这台电脑此后的 1 个修改未合并" in lines, lines
        assert "交卷未采用" in lines, lines
        event = srv.db.events(attempt_id=attempt.id, kind="offline_after_take_over")[-1]
        assert event.payload["refused"] == [["q5", 1]] and event.payload["refused_submission"]
        # The new PC goes on as the only writer.
        new.save_answer("q5", False)
        wait_until(lambda: srv.db.current_answers(attempt.id).get("q5") is False)
    finally:
        old.close()
        new.close()


def test_after_the_submission_the_file_adds_only_what_was_saved_before_the_take_over(
        srv: LiveServer, cable: FaultProxy, tmp_path: Path) -> None:
    """The new PC submitted; the old PC's file arrives afterwards: q2 (saved before the
    take-over) is a late revision (merged, re-scored, audited), q5 is refused."""
    old, new = old_pc_then_take_over(srv, cable, tmp_path)
    try:
        old.save_answer("q5", True)
        new.submit()
        attempt = attempt_of(srv)
        assert attempt.is_submitted
        wait_until(lambda: attempt_of(srv).score is not None, message="scored")
        before = attempt_of(srv).score
        report = admin_import(srv, proctor_export(old, tmp_path / "usb"))
        assert report.code == "offline.merged", report.message
        assert report.counts[Outcome.REFUSED_AFTER_TAKE_OVER.value] == 1
        assert srv.db.current_answers(attempt.id) == {"q1": "A", "q2": ["A"]}
        audit = srv.db.events(attempt_id=attempt.id, kind="late_revisions")
        assert [e.payload["applied"] for e in audit] == [[["q2", 1]]]
        assert audit[0].payload["client_id"] == old.api.client_id
        wait_until(lambda: attempt_of(srv).score is not None, message="scored again")
        assert report.score_before == before
    finally:
        old.close()
        new.close()


def test_a_file_with_nothing_from_before_the_take_over_is_refused_in_the_admins_language(
        srv: LiveServer, cable: FaultProxy, tmp_path: Path) -> None:
    """Everything in it that the server lacks was made after the candidate moved: the
    file is refused as a whole (offline.after_take_over), the attempt is untouched, and
    the admin reads why (Chinese, and English when the server runs in English)."""
    old, new = old_pc_then_take_over(srv, cable, tmp_path)
    try:
        usb = tmp_path / "usb"
        first = admin_import(srv, proctor_export(old, usb))  # brings q2
        assert first.code == "offline.merged"
        old.save_answer("q5", True)
        old.save_answer("q1", "C")
        attempt = attempt_of(srv)
        answers = srv.db.current_answers(attempt.id)
        report = admin_import(srv, proctor_export(old, usb))
        assert report.status is ImportStatus.REFUSED, report
        assert report.code == "offline.after_take_over"
        assert "换到其他电脑作答" in report.message
        assert report.counts[Outcome.REFUSED_AFTER_TAKE_OVER.value] == 2
        assert srv.db.current_answers(attempt.id) == answers
        set_language("en")
        try:
            english = admin_import(srv, proctor_export(old, usb))
            lines = "\n".join(format_report(english))
        finally:
            set_language("zh_CN")
        assert english.code == "offline.after_take_over"
        assert "moved to another PC" in english.message, english.message
        assert "not merged" in lines and "换" not in lines, lines
    finally:
        old.close()
        new.close()


def test_only_pcs_that_wrote_lose_the_attempt_and_taking_it_back_lifts_the_limit(
        srv: LiveServer) -> None:
    """The server's record behind the rule: A loses the attempt at B's take-over; B loses
    it when A takes it back (A has no limit then); a PC that could only read the result
    (a login after the submission) never held it."""
    assert srv.demo is not None

    def take(client_id: str) -> str:
        response = raw_login(srv, client_id=client_id)
        if response.status_code == 409:
            authorize_login(srv.db, exam_id=srv.demo.exam_id, who=srv.demo.username,
                            approved_by="chief", now_ms=srv.clock.now_ms())
            response = raw_login(srv, client_id=client_id)
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def lost(client_id: str) -> int | None:
        return seat_lost_ms(srv.db, attempt_id=attempt_of(srv).id, client_id=client_id)

    take("pc-a")
    assert lost("pc-a") is None
    take("pc-b")
    a_lost = lost("pc-a")
    assert a_lost is not None and lost("pc-b") is None
    token = take("pc-a")
    assert lost("pc-a") is None and lost("pc-b") is not None
    assert raw_submit(srv, token).status_code == 200
    assert raw_login(srv, client_id="pc-c").json()["attempt"]["may_write"] is False
    take("pc-a")  # the holder again (late revisions): revokes pc-c's read-only token
    assert lost("pc-c") is None, "a PC that only read the result never held the attempt"
