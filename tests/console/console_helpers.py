"""Shared helpers for tests/console: a demo server, console and candidate HTTP clients."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from face_photos import face_jpeg

from client.lockdown.focus import FocusLog
from client.lockdown.session_change import SessionChange
from client.review.outbox import all_items, outbox_counts
from client.review.services import ReviewServices
from client.review.transport import HttpTransport
from client.store import AnswerStore, StoreWriter
from server.console.demo_room import DEMO_CONSOLE_PASSWORD, DEMO_ROOM
from server.demo import DemoCandidate
from server.testing import LiveServer

CSRF_PATTERN = re.compile(r'&quot;csrf&quot;: &quot;([0-9a-f]{64})&quot;')


@dataclass
class ConsoleClient:
    """A browser-like session of one console account (cookie + CSRF token)."""

    srv: LiveServer
    http: requests.Session
    csrf: str

    def room(self, **params: str) -> requests.Response:
        return self.http.get(f"{self.srv.url}/console/api/room",
                             params={"exam": self.srv.demo.exam_id, **params}, timeout=10)

    def tiles(self, **params: str) -> list[dict[str, Any]]:
        response = self.room(**params)
        response.raise_for_status()
        return list(response.json()["tiles"])

    def tile(self, student_no: str) -> dict[str, Any]:
        return next(t for t in self.tiles() if t["student_no"] == student_no)

    def act(self, action: str, candidate_id: int, *, reason: str = "核对身份证后处理",
            csrf: str | None = None, **extra: Any) -> requests.Response:
        return self.http.post(
            f"{self.srv.url}/console/api/action", timeout=10,
            headers={"X-CSRF-Token": self.csrf if csrf is None else csrf},
            json={"action": action, "exam_id": self.srv.demo.exam_id,
                  "candidate_id": candidate_id, "reason": reason, **extra})


def console_login(srv: LiveServer, username: str,
                  password: str = DEMO_CONSOLE_PASSWORD) -> ConsoleClient:
    http = requests.Session()
    response = http.post(f"{srv.url}/console/login", timeout=30,
                         data={"username": username, "password": password})
    response.raise_for_status()
    assert response.url.endswith("/console"), response.text[:300]
    match = CSRF_PATTERN.search(response.text)
    assert match, "the room page carries the CSRF token"
    return ConsoleClient(srv=srv, http=http, csrf=match.group(1))


def candidate_login(srv: LiveServer, person: DemoCandidate, *, client_id: str,
                    resume_token: str = "") -> requests.Response:
    return requests.post(srv.api("/login"), timeout=30, json={
        "username": person.student_no, "password": person.password, "client_id": client_id,
        "resume_token": resume_token})


def save_answer(srv: LiveServer, token: str, *, question_id: str, revision: int,
                value: Any) -> requests.Response:
    return requests.post(srv.api("/attempt/answers"), timeout=10,
                         headers={"Authorization": f"Bearer {token}"},
                         json={"answers": [{"question_id": question_id, "revision": revision,
                                            "value": value,
                                            "client_time_ms": srv.clock.now_ms()}]})


def upload_lockdown(srv: LiveServer, token: str, store_path: Path,
                    script: list[tuple[int, str]]) -> FocusLog:
    """A PC's lockdown records, made by a real FocusLog from *script* ((ms since the
    previous step, step): lost, back, or a SessionChange value), queued as the exam
    window's guard queues them and uploaded by the real review uploader from a real
    SQLCipher store."""
    clock = [srv.clock.now_ms()]
    focus = FocusLog(now_ms=lambda: clock[0])
    key = os.urandom(32)
    writer = StoreWriter(lambda: AnswerStore.open(store_path, key=key, snapshot_policy=None))
    writer.ready().result(timeout=10)
    services = ReviewServices(
        run_on_store=writer.call,
        transport=HttpTransport(base_url=srv.url, token=lambda: token, timeout_s=5),
        client_id="pc-01", server_now_ms=srv.clock.now_ms)
    services.start()
    try:
        for delay, step in script:
            clock[0] += delay
            if step == "lost":
                events = [focus.lost()]
            elif step == "back":
                events = [focus.regained(), *focus.back_in_front()]
            else:
                events = list(focus.session(SessionChange(step)))
            for event in events:
                if event is not None:
                    services.lockdown(event.finding(), event_id=event.event_id,
                                      ended=event.ended_ms is not None, at_ms=clock[0])
        deadline = time.monotonic() + 15
        while writer.call(outbox_counts).result().pending:
            assert time.monotonic() < deadline, "lockdown records not uploaded"
            time.sleep(0.02)
        assert all(item.rejected is None for item in writer.call(all_items).result())
    finally:
        services.stop()
        writer.close()
    return focus


__all__ = ["DEMO_ROOM", "ConsoleClient", "candidate_login", "console_login", "face_jpeg",
           "heartbeat", "request_face_hold", "save_answer",
           "upload_lockdown"]


def request_face_hold(srv: LiveServer, token: str, *, event_id: str = "check-0001-failed",
                      captures: list[bytes] | None = None, **extra: Any) -> requests.Response:
    """A PC held after a failed face check asks the console (POST /attempt/identity-hold),
    with the check's frames and result, as client/session/identity_hold.py sends it."""
    import base64

    frames = [face_jpeg(0), face_jpeg(1)] if captures is None else captures
    body = {"event_id": event_id, "client_id": "pc-01", "reason": "match.not_matched",
            "message": "人脸比对未通过", "score": 0.21, "threshold": 0.363, "failures": 3,
            "record": {"outcome": "not_matched", "attempt": 3}, "at_ms": srv.clock.now_ms(),
            "captures": [base64.b64encode(c).decode() for c in frames], **extra}
    return requests.post(srv.api("/attempt/identity-hold"), timeout=30, json=body,
                         headers={"Authorization": f"Bearer {token}"})


def heartbeat(srv: LiveServer, token: str, **body: Any) -> requests.Response:
    return requests.post(srv.api("/attempt/heartbeat"), timeout=10, json=body,
                         headers={"Authorization": f"Bearer {token}"})
