"""A client process killed mid-exam (SIGKILL) comes back with ``resume``: the same answer
store, the exam running again, no password; after the submission there is nothing to
resume. Real server on 127.0.0.1, real SQLCipher store, a real file-backed keyring."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from resume_child import open_paper, session_for

from client.errors import UserFacingError
from client.session.exam_session import Phase
from client.session.resume import ticket_path
from server.testing import live_server

CHILD = Path(__file__).with_name("resume_child.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a client subprocess logs in and opens the paper: ~30 s on a busy PC
def test_a_killed_client_resumes_without_the_password(tmp_path: Path) -> None:
    data_dir, keyring_file = tmp_path / "client", tmp_path / "credential-store.cfg"
    with live_server(tmp_path / "server", demo=True, start_in_s=2, duration_s=1800) as server:
        demo = server.demo
        assert demo is not None
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), str(CHILD.parent), os.environ.get("PYTHONPATH", "")])}
        child = subprocess.Popen(
            [sys.executable, str(CHILD), "--server-url", server.url, "--center-id",
             demo.center_id, "--username", demo.username, "--password", demo.password,
             "--data-dir", str(data_dir), "--keyring-file", str(keyring_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else "child died"
            saved = json.loads(line)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        assert ticket_path(data_dir).is_file()

        session = session_for(server_url=server.url, center_id=demo.center_id,
                              data_dir=data_dir, keyring_file=keyring_file)
        try:
            result = session.resume()
            assert session.resumed and result.student_no == demo.username
            open_paper(session)
            assert session.phase is Phase.RUNNING
            assert session.answers()[saved["question"]] == saved["value"]
            assert (session.ms_until_end() or 0) > 0
            session.submit()
            assert not ticket_path(data_dir).exists()
        finally:
            session.close()
        # An exam window's reminder timer can still ask after close(): no crash, no time.
        assert session.ms_until_end() is None and session.ms_until_start() is None

        again = session_for(server_url=server.url, center_id=demo.center_id,
                            data_dir=data_dir, keyring_file=keyring_file)
        try:
            with pytest.raises(UserFacingError) as refused:
                again.resume()
            assert refused.value.code == "resume.none"
            assert again.phase is Phase.LOGGED_OUT
        finally:
            again.close()
