"""The save indicator says what is true (issue 15, "Status words that are true"): 已同步
only after the server acknowledged, and exact pending counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_proxy import FaultProxy
from offline_support import build_session, start_exam, wait_until

from client.session.exam_session import ExamSession
from client.sync.pusher import MAX_BATCH_REVISIONS
from server.testing import LiveServer, live_server


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server", demo=True, start_in_s=600, duration_s=3600) as live:
        yield live


@pytest.fixture
def proxy(srv: LiveServer) -> Iterator[FaultProxy]:
    with FaultProxy(("127.0.0.1", int(srv.url.rsplit(":", 1)[1]))) as fault:
        yield fault


def state(session: ExamSession) -> tuple[str, int]:
    status = session.last_sync_status
    return ("none", -1) if status is None else (status.state, status.pending)


def test_synced_only_after_the_acknowledgement_and_exact_pending_counts(
        srv: LiveServer, proxy: FaultProxy, tmp_path: Path) -> None:
    assert srv.demo is not None
    session = build_session(proxy.url, tmp_path / "pc", timeout_s=20)
    try:
        session.login(username=srv.demo.username, password=srv.demo.password)
        session.preload()
        start_exam(srv, session)
        session.save_answer("q1", "A")
        wait_until(lambda: state(session) == ("synced", 0), message="first answer synced")
        # The upload of the next answer hangs (a black hole, not a refusal): before, the
        # indicator kept saying 已同步 until the request timed out.
        proxy.set_mode("blackhole")
        session.save_answer("q1", "B")
        wait_until(lambda: state(session) == ("pending", 1), timeout_s=3.0,
                   message=lambda: f"pending 1 while the upload hangs, not {state(session)}")
        # Many answers while the network is down: the count is exact, not one upload batch
        # (200 then, MAX_BATCH_REVISIONS now: more than one batch, or the test proves nothing).
        proxy.set_mode("down")
        saves = MAX_BATCH_REVISIONS + 50
        for round_no in range(saves):
            session.save_answer("q5", round_no % 2 == 0)
        session.writer.flush().result()
        expected = session.run_on_store(lambda store: store.unsynced_count()).result()
        assert expected == saves + 1
        wait_until(lambda: state(session) == ("offline", saves + 1), timeout_s=60.0,
                   message=lambda: f"offline with {saves + 1} pending, not {state(session)}")
    finally:
        session.close()
