"""A client process for tests/session/test_resume_after_kill.py: logs in, opens the paper,
saves one answer durably, prints it as JSON, then waits to be killed (SIGKILL: no logout,
no clean-up, what a crash leaves behind)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from keyrings.alt.file import PlaintextKeyring

from client.session.exam_session import ExamSession, client_id_for
from client.sync.api import ExamApi
from client.sync.clock import ServerClock


def file_keyring(path: Path) -> PlaintextKeyring:
    backend = PlaintextKeyring()
    backend.file_path = str(path)
    return backend


def session_for(*, server_url: str, center_id: str, data_dir: Path,
                keyring_file: Path) -> ExamSession:
    data_dir.mkdir(parents=True, exist_ok=True)
    clock = ServerClock()
    api = ExamApi(server_url, clock=clock, client_id=client_id_for(data_dir))
    return ExamSession(api=api, clock=clock, data_dir=data_dir, center_id=center_id,
                       sync_interval_s=0.5, keyring_backend=file_keyring(keyring_file))


def open_paper(session: ExamSession) -> None:
    session.preload()
    while (session.ms_until_start() or 0) > 0:
        time.sleep(0.2)
    session.unlock()


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("--server-url", "--center-id", "--username", "--password"):
        parser.add_argument(name, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--keyring-file", type=Path, required=True)
    args = parser.parse_args()
    session = session_for(server_url=args.server_url, center_id=args.center_id,
                          data_dir=args.data_dir, keyring_file=args.keyring_file)
    session.login(username=args.username, password=args.password)
    open_paper(session)
    first = next(session.paper.items())
    value = first.option_ids[-1]
    session.save_answer(first.id, value)
    session.run_on_store(lambda store: None).result()  # the writer thread: saved before
    print(json.dumps({"question": first.id, "value": value}), flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
