"""Helpers for the review tests: a live server with the review and base-photo routes,
candidates logged in over real HTTP, real JPEGs, a real encrypted store."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import requests
from admin_web import admin_session, csrf_of  # noqa: F401 - re-exported for the tests here
from skimage import data as skdata

import server.app
import server.cli
from client.review.transport import HttpTransport
from client.store import AnswerStore, StoreWriter
from server.testing import LiveServer, live_server

# Wired by the lead in server/app.py EXTENSION_ROUTERS and server/cli.py EXTENSION_MODULES;
# added here only while they are missing there, through the same mechanism.
REVIEW_ROUTERS = [("server.review", "router", "/api/v1"),
                  ("server.base_photos", "router", "/api/v1"),
                  ("server.admin_web", "router", "")]
REVIEW_MODULES = ["server.review", "server.base_photos"]


def wire(monkeypatch: Any) -> None:
    missing = [r for r in REVIEW_ROUTERS if r not in server.app.EXTENSION_ROUTERS]
    monkeypatch.setattr(server.app, "EXTENSION_ROUTERS", [*server.app.EXTENSION_ROUTERS, *missing])
    modules = [m for m in REVIEW_MODULES if m not in server.cli.EXTENSION_MODULES]
    monkeypatch.setattr(server.cli, "EXTENSION_MODULES", [*server.cli.EXTENSION_MODULES, *modules])


@contextmanager
def review_server(data_dir: Path, monkeypatch: Any, **options: Any) -> Iterator[LiveServer]:
    wire(monkeypatch)
    options.setdefault("start_in_s", -60.0)
    options.setdefault("duration_s", 3600.0)
    with live_server(data_dir, **options) as srv:
        yield srv


@dataclass
class Candidate:
    srv: LiveServer
    token: str
    candidate_id: int
    student_no: str
    exam_id: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(self.srv.api(path), json=body, headers=self.headers(), timeout=10)

    def get(self, path: str) -> requests.Response:
        return requests.get(self.srv.api(path), headers=self.headers(), timeout=10)

    def transport(self) -> HttpTransport:
        return HttpTransport(base_url=self.srv.url, token=lambda: self.token, timeout_s=5)

    def attempt(self) -> Any:
        return self.srv.db.find_attempt(exam_id=self.exam_id, candidate_id=self.candidate_id)

    def submit_and_result(self) -> dict[str, Any]:
        self.post("/attempt/submit", {"answered_count": 0}).raise_for_status()
        response = self.get("/attempt/result")
        response.raise_for_status()
        return dict(response.json())


def login(srv: LiveServer, index: int = 0, *, client_id: str = "pc-01") -> Candidate:
    assert srv.demo is not None
    person = srv.demo.candidates[index]
    response = requests.post(srv.api("/login"), json={
        "username": person.student_no, "password": person.password,
        "center_id": srv.demo.center_id, "client_id": client_id}, timeout=10)
    response.raise_for_status()
    body = response.json()
    return Candidate(srv, body["token"], int(body["candidate"]["id"]), person.student_no,
                     body["exam"]["id"])


def astronaut() -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))


def jpeg(image: np.ndarray | None = None, *, width: int | None = None, quality: int = 85) -> bytes:
    picture = astronaut() if image is None else image
    if width is not None:
        height = round(picture.shape[0] * width / picture.shape[1])
        picture = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buffer.tobytes()


@contextmanager
def store_writer(path: Path) -> Iterator[StoreWriter]:
    key = os.urandom(32)
    writer = StoreWriter(lambda: AnswerStore.open(path, key=key, snapshot_policy=None))
    writer.ready().result(timeout=10)
    try:
        yield writer
    finally:
        writer.close()


def closed_port_url() -> str:
    """An address where nothing listens (the server is "down")."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


