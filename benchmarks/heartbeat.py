"""What the console's channel costs on the heartbeat: the candidate's own end (extra
time, pauses) and the messages (newer ones, acknowledgements) read on every beat.

A real server on 127.0.0.1 (the demo exam, SQLite), one HTTP session per candidate, the
beats sent one after another so the figure is the server's work, not queueing:

- baseline: ``GET /api/v1/time`` (no token, no database), same run;
- a heartbeat of a candidate with nothing from the console (the usual beat);
- a heartbeat of a candidate with extra time and 5 messages, all acknowledged;
- a heartbeat that acknowledges a new message (the one beat that writes);
- in process, the two reads this work added to every beat (the candidate's clock and
  the message exchange), against the token-and-attempt read every beat already made.

    python benchmarks/heartbeat.py [--beats 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server import attempt_time, staff_messages
from server.console import actions
from server.console.roles import Account, Role
from server.demo import DEMO_CANDIDATES, DEMO_CENTER_ID
from server.testing import live_server

CHIEF = Account(username="zhukao", display_name="李主考", role=Role.CHIEF,
                center_id=DEMO_CENTER_ID, room=None)


def timed(call: Callable[[], object], beats: int) -> list[float]:
    call()  # warm: connection, caches
    found = []
    for _ in range(beats):
        started = time.perf_counter()
        call()
        found.append((time.perf_counter() - started) * 1000)
    return found


def line(name: str, ms: list[float], baseline: float) -> str:
    p50 = statistics.median(ms)
    p95 = sorted(ms)[int(len(ms) * 0.95) - 1]
    return (f"{name:<46} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  "
            f"x{p50 / baseline:4.1f} of /time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beats", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            live_server(Path(tmp), start_in_s=-60, duration_s=3600) as srv:
        assert srv.demo is not None
        tokens = {}
        for person in DEMO_CANDIDATES[:2]:
            body = requests.post(srv.api("/login"), timeout=30, json={
                "username": person.student_no, "password": person.password,
                "client_id": f"bench-{person.student_no}"}).json()
            tokens[person.student_no] = (body["token"], int(body["candidate"]["id"]))
        quiet, busy = (tokens[p.student_no] for p in DEMO_CANDIDATES[:2])
        exam = srv.db.get_exam(srv.demo.exam_id)
        assert exam is not None
        now = srv.clock.now_ms()
        actions.grant_extra_time(srv.db, CHIEF, exam=exam, candidate_ids=[busy[1]],
                                 reason="bench", now_ms=now, minutes=15, multiplier=None)
        ids = actions.send_message(srv.db, CHIEF, exam=exam, candidate_ids=[busy[1]] * 1,
                                   text="x", now_ms=now)
        for _ in range(4):
            ids += actions.send_message(srv.db, CHIEF, exam=exam, candidate_ids=[busy[1]],
                                        text="y", now_ms=now)
        http = requests.Session()

        def beat(token: str, seen: int = 0, read: int = 0) -> object:
            response = http.post(srv.api("/attempt/heartbeat"), timeout=10,
                                 headers={"Authorization": f"Bearer {token}"},
                                 json={"messages_seen": seen, "messages_read": read})
            response.raise_for_status()
            return response

        baseline = timed(lambda: http.get(srv.api("/time"), timeout=10).raise_for_status(),
                         args.beats)
        plain = timed(lambda: beat(quiet[0]), args.beats)
        top = max(ids)
        busy_beats = timed(lambda: beat(busy[0], top, top), args.beats)

        acknowledging: list[float] = []
        for _ in range(min(args.beats, 50)):
            [new] = actions.send_message(srv.db, CHIEF, exam=exam, candidate_ids=[busy[1]],
                                         text="z", now_ms=srv.clock.now_ms())
            beat(busy[0], top, top)  # delivers it
            started = time.perf_counter()
            beat(busy[0], new, new)  # acknowledges it: the writing beat
            acknowledging.append((time.perf_counter() - started) * 1000)
            top = new
        token_read = timed(lambda: srv.db.token_and_attempt(quiet[0]), args.beats)
        def added_reads() -> object:  # what the heartbeat route does besides auth
            with srv.db.read() as conn:
                return (attempt_time.read_clock(conn, exam=exam, candidate_id=busy[1]),
                        staff_messages.read_exchange(conn, exam_id=exam.id,
                                                     candidate_id=busy[1], seen=top,
                                                     read=top))

        added = timed(added_reads, args.beats)
        base = statistics.median(baseline)
        print(f"heartbeat cost, {args.beats} beats each, sequential, SQLite")
        print(line("GET /time (baseline, no database)", baseline, base))
        print(line("heartbeat, nothing from the console", plain, base))
        print(line("heartbeat, extra time + 5 messages, all acked", busy_beats, base))
        print(line("heartbeat acknowledging a new message (write)", acknowledging, base))
        print(f"in process: token+attempt read p50 {statistics.median(token_read):.3f} ms; "
              f"added clock+messages reads p50 {statistics.median(added):.3f} ms "
              f"(x{statistics.median(added) / statistics.median(token_read):.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
