"""Automatic submission at the end time: online, and sealed offline then submitted later.

The server submits by itself for candidates who never come back; an answer given before
the end and delivered late (sync after reconnecting) still merges into that submission.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from fault_proxy import FaultProxy
from offline_support import attempt_of, build_session, start_exam, wait_until

from client.errors import UserFacingError
from client.session.exam_session import Phase
from server.testing import LiveServer, live_server


def test_online_the_end_seals_and_submits_without_the_ui(server: LiveServer, proxy: FaultProxy,
                                                         tmp_path: Path) -> None:
    assert server.demo is not None
    # A second candidate logs in, answers once and never comes back.
    other = server.demo.candidates[1]
    body = requests.post(server.api("/login"), json={
        "username": other.student_no, "password": other.password,
        "center_id": server.demo.center_id, "client_id": "pc-gone"}, timeout=10).json()
    session = build_session(proxy.url, tmp_path / "pc")
    try:
        session.login(username=server.demo.username, password=server.demo.password)
        session.preload()
        start_exam(server, session)
        requests.post(server.api("/attempt/answers"), json={"answers": [
            {"question_id": "q1", "revision": 1, "value": "C",
             "client_time_ms": server.clock.now_ms()}]},
            headers={"Authorization": f"Bearer {body['token']}"}, timeout=10).raise_for_status()
        session.save_answer("q1", "B")
        wait_until(lambda: server.db.current_answers(attempt_of(server).id) == {"q1": "B"})
        server.clock.set_now(server.demo.end_ms + 500)  # type: ignore[attr-defined]
        session.api.server_time_ms()  # the client learns the time at its next contact
        wait_until(lambda: session.phase is Phase.SUBMITTED, timeout_s=30,
                   message=lambda: f"submitted ({session.phase}, {session.auto_submit_error!r})")
        with pytest.raises(UserFacingError) as sealed:
            session.save_answer("q2", "A")
        assert sealed.value.code == "answer.sealed"
        mine = attempt_of(server)
        assert mine.status in ("submitted", "auto_submitted")
        assert server.db.current_answers(mine.id) == {"q1": "B"}
        gone = attempt_of(server, student_no=other.student_no)
        wait_until(lambda: attempt_of(server, student_no=other.student_no).status
                   == "auto_submitted", message="server auto-submission")
        assert server.db.current_answers(gone.id) == {"q1": "C"}
    finally:
        session.close()


def test_offline_the_answers_are_sealed_at_the_end_and_submitted_when_back(
        tmp_path: Path) -> None:
    with live_server(tmp_path / "server", demo=True, start_in_s=2.0, duration_s=6.0) as srv:
        assert srv.demo is not None
        port = int(srv.url.rsplit(":", 1)[1])
        with FaultProxy(("127.0.0.1", port)) as proxy:
            session = build_session(proxy.url, tmp_path / "pc")
            try:
                session.login(username=srv.demo.username, password=srv.demo.password)
                session.preload()
                # Past the start by the PC's estimate of server time, with a margin: the
                # estimate can be a few ms ahead on a loaded machine (CI saw not_started).
                wait_until(lambda: (session.ms_until_start() or 1) <= -250, message="start")
                session.unlock()
                session.save_answer("q1", "A")
                wait_until(lambda: srv.db.current_answers(attempt_of(srv).id) == {"q1": "A"})
                proxy.set_mode("down")
                session.save_answer("q2", "D")  # given before the end, with no network
                wait_until(lambda: session.phase is Phase.SEALED, timeout_s=10,
                           message="sealed at the end time")
                left = session.ms_until_end()
                assert left is not None and left <= 0
                with pytest.raises(UserFacingError):
                    session.save_answer("q3", "B")
                time.sleep(0.5)
                assert session.phase is Phase.SEALED  # still no server: not submitted
                wait_until(lambda: attempt_of(srv).status == "auto_submitted",
                           message="the server's own submission at the end")
                proxy.set_mode("pass")
                wait_until(lambda: session.phase is Phase.SUBMITTED, timeout_s=20,
                           message="submitted after reconnecting")
                attempt = attempt_of(srv)
                # The late answer merged into the server's automatic submission.
                assert srv.db.current_answers(attempt.id) == {"q1": "A", "q2": "D"}
                assert attempt.status == "auto_submitted"
                assert attempt.submitted_at_ms == srv.demo.end_ms
                assert session.submit() == attempt.submitted_at_ms
            finally:
                session.close()
