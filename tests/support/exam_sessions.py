"""A real client session (client.session.ExamSession) on a PC directory of the test, against
a LiveServer: real HTTP, a real SQLCipher store, a file keyring instead of Windows'."""

from __future__ import annotations

import time
from pathlib import Path

from keyrings.alt.file import PlaintextKeyring

from client.session.exam_session import ExamSession, SessionEvents, client_id_for
from client.sync.api import ExamApi
from client.sync.clock import ServerClock
from server.testing import LiveServer


def exam_session(srv: LiveServer, pc_dir: Path, events: SessionEvents | None = None, *,
                 beat_s: float = 0.3) -> ExamSession:
    """One PC's session; *beat_s* short so a console decision arrives within a second."""
    pc_dir.mkdir(parents=True, exist_ok=True)
    clock = ServerClock()
    api = ExamApi(srv.url, clock=clock, client_id=client_id_for(pc_dir))
    keyring = PlaintextKeyring()
    keyring.file_path = str(pc_dir / "keyring.cfg")
    assert srv.demo is not None
    session = ExamSession(api=api, clock=clock, data_dir=pc_dir, center_id=srv.demo.center_id,
                          sync_interval_s=0.3, heartbeat_interval_s=beat_s,
                          keyring_backend=keyring)
    if events is not None:
        session.events = events
    return session


def open_paper(session: ExamSession, *, timeout_s: float = 30.0) -> None:
    """Preload, wait for the start by the session's clock, open the paper."""
    session.preload()
    deadline = time.monotonic() + timeout_s
    while (session.ms_until_start() or 0) > 0:
        assert time.monotonic() < deadline, "the exam did not start"
        time.sleep(0.1)
    session.unlock()
