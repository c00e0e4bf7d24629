"""One PC as its own process, for the stateful lifecycle test's real kill
(tests/lifecycle/test_lifecycle_stateful.py, rule ``kill_client_mid_save``).

It logs in as the candidate on the PC's data directory (the real SQLCipher store), opens
the paper (online, or offline with the start code), then saves answers without pause and
prints every save the store acknowledged (durable, flushed) as one JSON line. The test
reads a few of them and SIGKILLs the process while it is in the middle of the next save:
no close, no flush, no logout, what a power cut or a killed process leaves behind. A PC
that cannot enter the exam (held as a second login, refused) prints its phase and exits.
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import sys
import time
from pathlib import Path

from offline_support import build_session

from client.errors import UserFacingError
from client.session.exam_session import Phase, SessionEvents
from client.store import Revision

VALUES: dict[str, list[object]] = {"q1": ["A", "B", "C"], "q2": [["A"], ["B", "C"]],
                                   "q5": [True, False]}


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("--url", "--username", "--password", "--start-code"):
        parser.add_argument(name, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heartbeat-s", type=float, default=1.0)
    args = parser.parse_args()
    saved: queue.Queue[Revision | BaseException] = queue.Queue()
    session = build_session(args.url, args.data_dir, timeout_s=10,
                            heartbeat_interval_s=args.heartbeat_s)
    session.events = SessionEvents(on_answer_saved=saved.put)
    try:
        session.login(username=args.username, password=args.password)
        session.preload()
        try:
            session.unlock()
        except UserFacingError as exc:
            if exc.code != "unlock.start_code_needed":
                raise
            session.unlock_with_start_code(args.start_code)
    except UserFacingError as exc:
        print(json.dumps({"phase": session.phase.name, "code": exc.code}), flush=True)
        return 0
    print(json.dumps({"phase": session.phase.name}), flush=True)
    picks = random.Random(args.seed)
    while session.phase is Phase.RUNNING:
        question = picks.choice(sorted(VALUES))
        try:
            session.save_answer(question, picks.choice(VALUES[question]))
        except UserFacingError:
            break  # revoked or sealed meanwhile: nothing more to acknowledge
        session.writer.flush().result()
        result = saved.get(timeout=30)
        if isinstance(result, BaseException):
            raise result
        print(json.dumps({"revision": {
            "question_id": result.question_id, "revision": result.revision,
            "value": result.value, "wall_time_ms": result.wall_time_ms,
            "mono_time_ns": result.mono_time_ns, "server_time_ms": result.server_time_ms,
        }}), flush=True)
    print(json.dumps({"phase": session.phase.name}), flush=True)
    while True:  # wait for the kill, like a PC left on
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
