"""The session, not the window, decides when the exam starts and when its end estimate
moved (issue 15: the UI follows the session by signal, never by polling a clock). Real
server on 127.0.0.1, real store, no UI: the events fire from the session's supervisor."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from resume_child import session_for

from client.session.exam_session import SessionEvents, StartStatus
from server.testing import live_server


def test_the_start_is_announced_when_the_start_time_is_reached(tmp_path: Path) -> None:
    announced: list[tuple[StartStatus, int | None]] = []
    reached = threading.Event()
    with live_server(tmp_path / "server", demo=True, start_in_s=3, duration_s=1800) as server:
        demo = server.demo
        assert demo is not None
        session = session_for(server_url=server.url, center_id=demo.center_id,
                              data_dir=tmp_path / "pc", keyring_file=tmp_path / "keyring.cfg")

        def on_start(status: StartStatus) -> None:
            announced.append((status, session.ms_until_start()))
            if status is StartStatus.REACHED:
                reached.set()

        session.events = SessionEvents(on_start_status=on_start)
        try:
            session.login(username=demo.username, password=demo.password)
            assert reached.wait(15), announced
            statuses = [status for status, _left in announced]
            assert statuses == [StartStatus.UPCOMING, StartStatus.REACHED]
            left_when_reached = announced[-1][1]
            # At the start time, within a supervisor tick (0.25 s) and some scheduling.
            assert left_when_reached is not None and -1_500 < left_when_reached <= 0
            time.sleep(0.6)  # announced once, not on every tick
            assert [status for status, _left in announced] == statuses
        finally:
            session.close()


def test_a_clock_correction_is_announced_as_a_moved_end(tmp_path: Path) -> None:
    moved = threading.Event()
    calls: list[int | None] = []
    with live_server(tmp_path / "server", demo=True, start_in_s=1, duration_s=3600) as server:
        demo = server.demo
        assert demo is not None
        session = session_for(server_url=server.url, center_id=demo.center_id,
                              data_dir=tmp_path / "pc", keyring_file=tmp_path / "keyring.cfg")

        def on_end() -> None:
            calls.append(session.ms_until_end())
            if len(calls) >= 2:
                moved.set()

        session.events = SessionEvents(on_end_estimate=on_end)
        try:
            session.login(username=demo.username, password=demo.password)
            deadline = time.monotonic() + 10
            while not calls:  # the first estimate, right after the login
                assert time.monotonic() < deadline
                time.sleep(0.05)
            time.sleep(0.6)
            assert len(calls) == 1  # time passing is no correction
            server.clock.set_now(demo.end_ms - 10 * 60_000)  # type: ignore[attr-defined]
            session.api.server_time_ms()  # the next contact learns the server's time
            assert moved.wait(5), calls
            left = calls[-1]
            assert left is not None and abs(left - 10 * 60_000) < 2_000
        finally:
            session.close()
