"""A whole exam answered through a network that drops, resets, black-holes and flaps.

Real client session -> fault proxy -> real server. At the end every question is on the
server exactly once with its final value, every revision the server holds is the one the
client saved under that number, and nothing was stored twice or in conflict.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fault_proxy import FaultProxy
from offline_support import answer_value, attempt_of, build_session, start_exam, wait_until
from sqlalchemy import select

from client.errors import UserFacingError
from client.session.exam_session import Phase, SessionEvents
from client.sync.pusher import SyncStatus
from server import schema as t
from server.testing import LiveServer

# (flap down-mode, its parameters) for each round of answers
FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("down", {}),
    ("reset_response", {"after_bytes": 30}),  # the server stores the batch, the ack is lost
    ("reset_request", {"after_bytes": 60}),  # the batch is cut half-way
    ("blackhole", {}),
    ("delay", {"delay_s": 0.3}),
]


def server_revisions(server: LiveServer, attempt_id: int) -> dict[tuple[str, int], Any]:
    with server.db.read() as conn:
        rows = conn.execute(select(t.answer_revisions).where(
            t.answer_revisions.c.attempt_id == attempt_id)).all()
    return {(r.question_id, r.revision): r.value for r in rows}


def submit_when_possible(session: Any, *, timeout_s: float = 30.0) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return int(session.submit())
        except UserFacingError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_every_answer_arrives_once_with_its_final_value(server: LiveServer, proxy: FaultProxy,
                                                        tmp_path: Path) -> None:
    assert server.demo is not None
    statuses: list[SyncStatus] = []
    session = build_session(proxy.url, tmp_path / "pc")
    session.events = SessionEvents(on_sync_status=statuses.append)
    session.login(username=server.demo.username, password=server.demo.password)
    session.preload()
    paper = start_exam(server, session)
    items = list(paper.items())
    final: dict[str, Any] = {}
    try:
        for round_no, (mode, params) in enumerate(FAULTS):
            proxy.flap(up_s=0.25, down_s=0.4, down_mode=mode, **params)
            for item in items:
                value = answer_value(item, round_no)
                session.save_answer(item.id, value)
                final[item.id] = value
                time.sleep(0.06)
            time.sleep(0.8)
        proxy.set_mode("down")
        session.save_answer(items[0].id, answer_value(items[0], 99))  # answered while cut off
        final[items[0].id] = answer_value(items[0], 99)
        wait_until(lambda: any(s.state == "offline" for s in statuses), message="offline state")
        proxy.set_mode("pass")
        submitted_at = submit_when_possible(session)
        assert session.phase is Phase.SUBMITTED
        assert session.submit() == submitted_at  # again: no change, no network needed

        attempt = attempt_of(server)
        assert attempt.status == "submitted"
        assert server.db.current_answers(attempt.id) == final
        local = session._require_writer().call(lambda store: store.revisions()).result()
        by_number = {(r.question_id, r.revision): r.value for r in local}
        held = server_revisions(server, attempt.id)
        # Everything the server holds is what the client saved under that number ...
        assert held and all(by_number[key] == value for key, value in held.items())
        # ... the last revision of each question is there, and it is the current answer.
        last = {qid: max(r.revision for r in local if r.question_id == qid) for qid in final}
        assert server.db.current_revisions(attempt.id) == last
        assert not server.db.events(attempt_id=attempt.id, kind="revision_conflict")
        assert all(r.synced for r in local if r.revision == last[r.question_id])
        # The faults really happened, and the status said so honestly.
        assert proxy.stats.resets > 5
        offline = [s for s in statuses if s.state == "offline"]
        assert offline and all(s.offline_since_ms for s in offline)
        assert statuses[-1].state == "synced" and statuses[-1].pending == 0
    finally:
        session.close()
