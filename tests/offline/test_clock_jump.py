"""The PC clock moved a day forward, then a day back, in the middle of the exam.

Exam time runs on the server's time anchored to the monotonic clock, so the time left
does not move, answers keep their server-time stamps (what the server judges "before the
end" by), and the jump is reported with its size at the next contact.
"""

from __future__ import annotations

import time
from pathlib import Path

from fault_proxy import FaultProxy
from offline_support import attempt_of, build_session, start_exam, wait_until

from client.session.view_model import clock_warning
from client.sync.clock import ServerClock
from server.testing import LiveServer

DAY_MS = 86_400_000


class MovableWallClock:
    """The PC's wall clock, which the candidate (or a broken CMOS battery) can move."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def __call__(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms


def test_moving_the_pc_clock_changes_nothing(server: LiveServer, proxy: FaultProxy,
                                             tmp_path: Path) -> None:
    assert server.demo is not None
    wall = MovableWallClock()
    session = build_session(proxy.url, tmp_path / "pc", clock=ServerClock(wall_ms=wall))
    try:
        session.login(username=server.demo.username, password=server.demo.password)
        session.preload()
        start_exam(server, session)  # moved server time 10 minutes on: set the PC clock right
        wall.offset_ms = server.clock.now_ms() - time.time_ns() // 1_000_000
        session.api.server_time_ms()
        assert clock_warning(session) == ""
        correct = wall.offset_ms
        for jump, words in ((+DAY_MS, "快了 1 天"), (-2 * DAY_MS, "慢了 1 天")):
            before = session.ms_until_end()
            wall.offset_ms += jump
            after = session.ms_until_end()
            assert before is not None and after is not None
            assert 0 <= before - after < 1_000  # only real time passed
            value = "A" if jump > 0 else "B"
            session.save_answer("q1", value)
            wait_until(lambda value=value: server.db.current_answers(  # type: ignore[misc]
                attempt_of(server).id).get("q1") == value, message="answer on the server")
            session.api.server_time_ms()  # the next contact measures the PC clock again
            reading = session.clock.reading()
            assert reading is not None and reading.pc_clock_wrong
            assert abs(reading.pc_offset_ms - (wall.offset_ms - correct)) < 5_000
            assert words in clock_warning(session)
        # The server judged the answers by server time, not by the moved PC clock.
        with server.db.read() as conn:
            from sqlalchemy import select

            from server import schema as t
            stamps = [r.client_time_ms for r in conn.execute(select(t.answer_revisions)).all()]
        now = server.clock.now_ms()
        assert stamps and all(abs(stamp - now) < 60_000 for stamp in stamps)
        assert session.ms_until_end() is not None and session.ms_until_end() > 3_000_000
    finally:
        session.close()
