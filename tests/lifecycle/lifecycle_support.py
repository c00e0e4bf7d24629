"""Pieces the lifecycle tests share: a preloaded PC, a proctor's export, an admin's import,
and raw HTTP logins for the server's rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from offline_support import build_session

from client.export.exporter import ExportResult
from client.proctor.services import ProctorServices
from client.session.exam_session import ExamSession
from client.session.preload import preload_exam
from client.sync.api import ExamApi
from client.sync.clock import ServerClock
from server.offline_import import ImportReport, ImportScope, import_offline_file
from server.testing import LiveServer


def preload_pc(srv: LiveServer, url: str, data_dir: Path) -> None:
    """The center admin preloads the package on this PC the day before."""
    assert srv.demo is not None
    # 15 s: the admin's hash runs on the server's low-priority hashing thread, which a
    # loaded machine serves last (2 s timed out under load)
    api = ExamApi(url, clock=ServerClock(), timeout_s=15.0)
    preload_exam(api=api, data_dir=data_dir, exam_id=srv.demo.exam_id,
                 admin_username=srv.demo.admin_username, admin_password=srv.demo.admin_password)


def offline_pc(srv: LiveServer, url: str, data_dir: Path, *, index: int = 0) -> ExamSession:
    """A PC that logs in offline and opens the paper with the start code (never online)."""
    assert srv.demo is not None
    session = build_session(url, data_dir, timeout_s=15)
    who = srv.demo.candidates[index]
    login = session.login(username=who.student_no, password=who.password)
    assert login.offline
    session.preload()
    session.unlock_with_start_code(srv.demo.start_code)
    return session


def proctor_export(session: ExamSession, folder: Path) -> ExportResult:
    """What the proctor panel's export button does."""
    folder.mkdir(parents=True, exist_ok=True)
    services = ProctorServices(session=session, post_json=lambda path, body: None)
    return services.export(folder)


def admin_import(srv: LiveServer, result: ExportResult) -> ImportReport:
    return import_offline_file(srv.context, data=result.path.read_bytes(),
                               file_name=result.file_name, scope=ImportScope())


def raw_login(srv: LiveServer, *, client_id: str, index: int = 0,
              **extra: Any) -> requests.Response:
    assert srv.demo is not None
    who = srv.demo.candidates[index]
    body = {"username": who.student_no, "password": who.password, "center_id": "demo-center",
            "client_id": client_id, **extra}
    return requests.post(srv.api("/login"), json=body, timeout=10)


def raw_push(srv: LiveServer, token: str, answers: list[tuple[str, int, Any, int | None]]
             ) -> requests.Response:
    body = {"answers": [{"question_id": q, "revision": r, "value": v, "client_time_ms": t}
                        for q, r, v, t in answers]}
    return requests.post(srv.api("/attempt/answers"), json=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})


def raw_submit(srv: LiveServer, token: str) -> requests.Response:
    return requests.post(srv.api("/attempt/submit"), json={"answered_count": 1}, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
