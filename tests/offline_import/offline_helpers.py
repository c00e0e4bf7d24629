"""Helpers for the offline-import tests: a live server with the offline routes, candidates
who log in and register a session key over real HTTP, and files built like the client."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from admin_web import admin_session, csrf_of  # noqa: F401 - re-exported for the tests here
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import func, select

import server.app
import server.cli
from client.export.naming import offline_file_name
from client.export.offline_file import (
    FileIdentity,
    Marks,
    OfflinePayload,
    SubmissionInfo,
    build_offline_file,
    revisions_sorted,
)
from client.export.session_key import registration_body
from client.proctor.proctor_log import ProctorEvent
from client.store.model import Revision
from server import offline_import
from server import schema as t
from server.testing import LiveServer, live_server

OFFLINE_MODULE = "server.offline_import"


# Wired by the lead in server/app.py EXTENSION_ROUTERS and server/cli.py EXTENSION_MODULES;
# added here only while they are missing there, through the same mechanism.
OFFLINE_ROUTERS = [("server.offline_import", "api_router", "/api/v1"),
                   ("server.admin_web", "router", "")]


@contextmanager
def offline_server(data_dir: Path, monkeypatch: Any, **options: Any) -> Iterator[LiveServer]:
    missing = [r for r in OFFLINE_ROUTERS if r not in server.app.EXTENSION_ROUTERS]
    monkeypatch.setattr(server.app, "EXTENSION_ROUTERS", [*server.app.EXTENSION_ROUTERS, *missing])
    if OFFLINE_MODULE not in server.cli.EXTENSION_MODULES:
        monkeypatch.setattr(server.cli, "EXTENSION_MODULES",
                            [*server.cli.EXTENSION_MODULES, OFFLINE_MODULE])
    options.setdefault("start_in_s", -60.0)
    options.setdefault("duration_s", 3600.0)
    with live_server(data_dir, **options) as srv:
        yield srv


@dataclass
class Sitting:
    """One candidate logged in on one PC, with a registered session key."""

    server: LiveServer
    token: str
    candidate_id: str
    student_no: str
    exam_id: str
    end_ms: int
    client_id: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    seq: int = 0

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def push(self, answers: list[tuple[str, int, Any, int | None]]) -> requests.Response:
        body = {"answers": [{"question_id": q, "revision": r, "value": v, "client_time_ms": c}
                            for q, r, v, c in answers]}
        return requests.post(self.server.api("/attempt/answers"), json=body,
                             headers=self.headers(), timeout=10)

    def register_key(self) -> requests.Response:
        body = registration_body(self.key, exam_id=self.exam_id, candidate_id=self.candidate_id,
                                 client_id=self.client_id)
        return requests.post(self.server.api("/attempt/session-key"), json=body,
                             headers=self.headers(), timeout=10)

    def identity(self, **overrides: str) -> FileIdentity:
        values = {"exam_id": self.exam_id, "candidate_id": self.candidate_id,
                  "candidate_no": self.student_no, "client_id": self.client_id,
                  "package_sha256": "00" * 32, "paper_id": "demo"}
        values.update(overrides)
        return FileIdentity(**values)

    def build_file(self, revisions: list[Revision], *, state: str = "answering",
                   at_ms: int | None = None, identity: FileIdentity | None = None,
                   key: Ed25519PrivateKey | None = None,
                   marks: Marks | None = None,
                   proctor_log: tuple[ProctorEvent, ...] = ()) -> tuple[str, bytes]:
        self.seq += 1
        at = at_ms if at_ms is not None else self.server.clock.now_ms() + self.seq * 1000
        ident = identity or self.identity()
        name = offline_file_name(exam_id=ident.exam_id, candidate_no=ident.candidate_no,
                                 at_ms=at)
        payload = OfflinePayload(revisions=revisions_sorted(revisions),
                                 submission=SubmissionInfo(state=state),  # type: ignore[arg-type]
                                 proctor_log=proctor_log, client_info={"app_version": "test"},
                                 marks=marks)
        box = X25519PublicKey.from_public_bytes(self.server.box_public_key)
        data = build_offline_file(identity=ident, payload=payload, file_name=name,
                                  created_wall_ms=at, created_server_ms=at, export_seq=self.seq,
                                  session_key=key or self.key, server_box_key=box)
        return name, data


def sit(srv: LiveServer, index: int = 0, *, client_id: str = "pc-01",
        register: bool = True) -> Sitting:
    assert srv.demo is not None
    person = srv.demo.candidates[index]
    response = requests.post(srv.api("/login"), json={
        "username": person.student_no, "password": person.password,
        "center_id": srv.demo.center_id, "client_id": client_id}, timeout=10)
    response.raise_for_status()
    body = response.json()
    sitting = Sitting(server=srv, token=body["token"], candidate_id=str(body["candidate"]["id"]),
                      student_no=person.student_no, exam_id=body["exam"]["id"],
                      end_ms=int(body["exam"]["end_ms"]), client_id=client_id)
    if register:
        sitting.register_key().raise_for_status()
    return sitting


def rev(question_id: str, revision: int, value: Any, server_time_ms: int | None) -> Revision:
    return Revision(question_id=question_id, revision=revision, value=value,
                    wall_time_ms=0, mono_time_ns=revision, server_time_ms=server_time_ms,
                    synced=False)


def db_state(srv: LiveServer) -> dict[str, Any]:
    """Everything an import could change, to prove a refused file changed nothing."""
    with srv.db.read() as conn:
        return {
            "answers": sorted(map(tuple, conn.execute(select(
                t.answers.c.attempt_id, t.answers.c.question_id, t.answers.c.revision,
                t.answers.c.value)).all())),
            "history": conn.execute(select(func.count()).select_from(
                t.answer_revisions)).scalar_one(),
            "attempts": sorted(map(tuple, conn.execute(select(
                t.attempts.c.id, t.attempts.c.status, t.attempts.c.score)).all())),
            "imports": conn.execute(select(func.count()).select_from(
                offline_import.offline_imports)).scalar_one(),
        }




def upload(session: requests.Session, srv: LiveServer, files: list[tuple[str, bytes]],
           *, exam: str = "") -> str:
    page = session.get(f"{srv.url}/admin/offline", timeout=10)
    page.raise_for_status()
    response = session.post(
        f"{srv.url}/admin/offline",
        data={"csrf": csrf_of(page.text), "exam": exam},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        timeout=60)
    assert response.status_code == 200, response.text
    # The files are stored and queued; the page it leads to reloads until every file is
    # merged (server/import_jobs.py).
    deadline = time.monotonic() + 60
    while 'data-finished="1"' not in response.text:
        assert "/admin/offline/batch/" in response.url, response.text
        assert time.monotonic() < deadline, "the import jobs did not finish"
        time.sleep(0.2)
        response = session.get(response.url, timeout=10)
        assert response.status_code == 200, response.text
    return response.text


def wait_for(predicate: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
