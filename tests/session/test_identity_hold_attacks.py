"""Attacks on the hold after a failed face check (client/session/identity_hold.py,
server/identity_holds.py): a candidate who failed the check, or whom a proctor refused,
tries to reach the paper without a proctor's approval. Real server on 127.0.0.1, real
HTTP, real SQLCipher stores, real ExamSession objects; each test is one attack
(benchmarks/session_attacks.py counts them).

What must hold: while the attempt's newest hold is pending or refused the paper does not
open on any PC, after a restart, a killed client or a wiped data folder alike (the server
keeps the paper key); only a decision on that hold counts, once."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import requests
from console_actions import CSRF, console_action
from resume_child import open_paper
from test_extra_time_session import session_for, wait_for
from test_identity_hold_session import failed_check

from client.errors import UserFacingError
from client.session.exam_session import ExamSession, Phase, SessionEvents
from client.session.identity_hold import HoldDecision
from client.sync.errors import ServerRefused
from server.console.demo_room import DEMO_CONSOLE_PASSWORD, DEMO_PROCTOR_USERNAME
from server.identity_holds import get_hold
from server.testing import LiveServer, live_server

START_IN_S = 2


def _held_then_killed(srv: LiveServer, tmp_path: Path) -> tuple[int, int]:
    """The candidate logs in, fails the face check and is held; the client is then
    killed (closed without anything said). Returns (candidate id, hold id)."""
    demo = srv.demo
    assert demo is not None
    first = session_for(srv, tmp_path, SessionEvents())
    try:
        login = first.login(username=demo.username, password=demo.password)
        hold_id = first.request_identity_hold(failed_check(), event_id="evt-check-3-fail")
    finally:
        first.close()
    return int(login.candidate_id), hold_id


def _paper_stays_closed(session: ExamSession) -> None:
    with pytest.raises(UserFacingError) as refused:
        open_paper(session)
    assert refused.value.code == "identity.held", refused.value
    assert session.identity_held
    assert session.phase is not Phase.RUNNING


@pytest.mark.attack("identity_hold")
def test_restarting_the_client_mid_hold_does_not_open_the_paper(tmp_path: Path) -> None:
    """Kill the client while the console has not decided, start it again, log in: the
    restarted session is held again, waits on the same hold, and the console's approval
    (only that) opens the paper."""
    decisions: list[HoldDecision] = []
    with live_server(tmp_path / "server", start_in_s=START_IN_S, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        candidate_id, hold_id = _held_then_killed(srv, tmp_path)
        again = session_for(srv, tmp_path, SessionEvents(on_identity_decision=decisions.append))
        try:
            again.login(username=demo.username, password=demo.password)
            _paper_stays_closed(again)
            console_action(srv, action="approve_face", candidate_id=candidate_id,
                           hold_id=hold_id, reason="已核对身份证，本人")
            wait_for(lambda: len(decisions) == 1, timeout_s=10, what="the approval")
            assert decisions[0].approved and not again.identity_held
            again.unlock()
            assert again.phase is Phase.RUNNING
        finally:
            again.close()


@pytest.mark.attack("identity_hold")
def test_a_refused_hold_stays_refused_after_a_restart(tmp_path: Path) -> None:
    with live_server(tmp_path / "server", start_in_s=START_IN_S, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        candidate_id, hold_id = _held_then_killed(srv, tmp_path)
        console_action(srv, action="refuse_face", candidate_id=candidate_id,
                       hold_id=hold_id, reason="与身份证照片不符")
        again = session_for(srv, tmp_path, SessionEvents())
        try:
            again.login(username=demo.username, password=demo.password)
            _paper_stays_closed(again)
            # Asking the server again does not turn the refusal round either.
            with pytest.raises(UserFacingError):
                again.unlock()
        finally:
            again.close()
        assert get_hold(srv.db, hold_id).status == "refused"  # type: ignore[union-attr]


@pytest.mark.attack("identity_hold")
@pytest.mark.parametrize("where", ["wiped data folder", "another PC"])
def test_a_new_installation_mid_hold_does_not_open_the_paper(tmp_path: Path,
                                                             where: str) -> None:
    """Before the start (when any PC may log in: the hold comes at the waiting page) the
    candidate deletes the client's data folder (their own profile), or walks to a free
    PC, and logs in as a new installation: either the server holds the login as a second
    one (a proctor's authorization) or the paper stays closed; never the paper."""
    with live_server(tmp_path / "server", start_in_s=8, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        _held_then_killed(srv, tmp_path)
        if where == "wiped data folder":
            shutil.rmtree(tmp_path / "pc")
            (tmp_path / "keyring.cfg").unlink(missing_ok=True)
            fresh = session_for(srv, tmp_path, SessionEvents())
        else:
            fresh = session_for(srv, tmp_path / "free-pc", SessionEvents())
        try:
            try:
                fresh.login(username=demo.username, password=demo.password)
            except ServerRefused as refused:
                assert refused.code == "second_login"
                return  # held as a second login: a proctor's authorization is needed
            if fresh.phase is Phase.AUTHORIZING:
                return
            _paper_stays_closed(fresh)
        finally:
            fresh.close()


@pytest.mark.attack("identity_hold")
def test_naming_another_candidates_approved_hold_brings_no_decision(tmp_path: Path) -> None:
    """Replay: a held PC names in its heartbeat a hold the console approved for someone
    else (or an old one of its own already decided)."""
    with live_server(tmp_path / "server", start_in_s=600, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        zhang = session_for(srv, tmp_path / "zhang", SessionEvents())
        li = session_for(srv, tmp_path / "li", SessionEvents())
        try:
            zhang_id = int(zhang.login(username=demo.username,
                                       password=demo.password).candidate_id)
            approved = zhang.request_identity_hold(failed_check(), event_id="evt-zhang-fail")
            console_action(srv, action="approve_face", candidate_id=zhang_id,
                           hold_id=approved, reason="已核对身份证，本人")
            other = demo.candidates[1]
            li.login(username=other.student_no, password=other.password)
            li.request_identity_hold(failed_check(), event_id="evt-li-fail")
            reply = li.api.heartbeat(focus_losses=0, pending=0, messages_seen=0,
                                     identity_hold=approved)
            assert reply.identity_hold is None
            assert li.identity_held
        finally:
            zhang.close()
            li.close()


@pytest.mark.attack("identity_hold")
def test_approve_and_refuse_at_the_same_moment_decide_once(tmp_path: Path) -> None:
    """Two proctors (or two tabs) click 批准入场 and 不予入场 together: exactly one
    decision is taken and the PC follows the stored one."""
    decisions: list[HoldDecision] = []
    with live_server(tmp_path / "server", start_in_s=600, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        session = session_for(srv, tmp_path, SessionEvents(
            on_identity_decision=decisions.append))
        try:
            candidate_id = int(session.login(username=demo.username,
                                             password=demo.password).candidate_id)
            hold_id = session.request_identity_hold(failed_check(), event_id="evt-fail")
            browsers = []
            for _ in range(2):
                http = requests.Session()
                page = http.post(f"{srv.url}/console/login", timeout=30, data={
                    "username": DEMO_PROCTOR_USERNAME, "password": DEMO_CONSOLE_PASSWORD})
                match = CSRF.search(page.text)
                assert match
                browsers.append((http, match.group(1)))
            codes: dict[str, int] = {}
            gate = threading.Barrier(2)

            def click(index: int, action: str) -> None:
                http, csrf = browsers[index]
                gate.wait()
                codes[action] = http.post(
                    f"{srv.url}/console/api/action", timeout=10,
                    headers={"X-CSRF-Token": csrf},
                    json={"exam_id": demo.exam_id, "action": action,
                          "candidate_id": candidate_id, "hold_id": hold_id,
                          "reason": "同时点击"}).status_code

            clicks = [threading.Thread(target=click, args=(0, "approve_face")),
                      threading.Thread(target=click, args=(1, "refuse_face"))]
            for thread in clicks:
                thread.start()
            for thread in clicks:
                thread.join()
            assert sorted(codes.values())[0] == 200 and sorted(codes.values())[1] != 200
            stored = get_hold(srv.db, hold_id)
            assert stored is not None
            winner = "approved" if codes["approve_face"] == 200 else "refused"
            assert stored.status == winner
            wait_for(lambda: len(decisions) == 1, timeout_s=10, what="the decision")
            assert decisions[0].status == winner
            assert session.identity_held is (winner == "refused")
        finally:
            session.close()


def test_the_proctor_at_the_pc_opens_a_paper_the_server_keeps_with_the_start_code(
        tmp_path: Path) -> None:
    """Not an attack: the proctor at the PC let the candidate in (proctor mode) while the
    console's hold is still pending; the server keeps the paper key, so the PC asks for
    the start code, which the proctor types there."""
    with live_server(tmp_path / "server", start_in_s=START_IN_S, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        session = session_for(srv, tmp_path, SessionEvents())
        try:
            session.login(username=demo.username, password=demo.password)
            session.request_identity_hold(failed_check(), event_id="evt-check-3-fail")
            session.release_identity_hold(proctor="王老师")
            with pytest.raises(UserFacingError) as asked:
                open_paper(session)
            assert asked.value.code == "unlock.start_code_needed"
            assert session.needs_start_code
            session.unlock_with_start_code(demo.start_code)
            assert session.phase is Phase.RUNNING
        finally:
            session.close()
