"""Client uploads that batch (issue 18): one upload per interval carrying every revision
saved since the last, jittered; a server's 429 Retry-After is obeyed, and a login queued
out gets a calm message."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from offline_support import attempt_of, build_session, start_exam, wait_until

from client.sync.api import ExamApi, PushOutcome
from client.sync.clock import ServerClock
from client.sync.errors import ServerRefused
from client.sync.pusher import (
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    AnswerPusher,
    SyncStatus,
    interval_from_package,
)
from server.testing import LiveServer, live_server


@pytest.fixture
def slow_sync_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose packages tell clients to upload once a second."""
    with live_server(tmp_path / "server", demo=True, start_in_s=600, duration_s=3600,
                     sync_interval_s=1.0) as srv:
        yield srv


def test_saves_within_an_interval_travel_in_one_upload(slow_sync_server: LiveServer,
                                                       tmp_path: Path) -> None:
    server = slow_sync_server
    assert server.demo is not None
    # The session's own fallback (0.05 s) is overruled by the package's 1 s: the
    # interval is the server's, carried in the signed package header.
    session = build_session(server.url, tmp_path / "pc", sync_interval_s=0.05, timeout_s=10)
    session.login(username=server.demo.username, password=server.demo.password)
    session.preload()
    paper = start_exam(server, session)
    essay = next(i for i in paper.items() if i.type.value == "essay")
    uploads: list[int] = []
    real_push = session.api.push_answers

    def counted(answers: Sequence[Any]) -> PushOutcome:
        uploads.append(len(answers))
        return real_push(answers)

    session.api.push_answers = counted  # type: ignore[method-assign]
    assert session.upload_interval_s() == 1.0
    typed = ""
    for n in range(30):  # typing: a save every 50 ms for 1.5 s
        typed += f"字{n}"
        session.save_answer(essay.id, typed)
        time.sleep(0.05)
    attempt = attempt_of(server)
    wait_until(lambda: server.db.current_answers(attempt.id).get(essay.id) == typed,
               message="the last draft on the server")
    # Before: one POST per save (30). Now at most one per interval (1.5 s + the wait).
    assert 1 <= len(uploads) <= 4, uploads
    assert sum(uploads) >= 2  # the batches carried several revisions
    session.close()


class _BusyThenOk(BaseHTTPRequestHandler):
    """A server that is overloaded for its first upload (429, Retry-After: 1)."""

    times: ClassVar[list[float]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _BusyThenOk.times.append(time.monotonic())
        if len(_BusyThenOk.times) == 1:
            self._send(429, {"error": "busy", "detail": {}}, {"Retry-After": "1"})
        else:
            acked = [[a["question_id"], a["revision"]] for a in body["answers"]]
            self._send(200, {"acked": acked, "epoch_ms": 0}, {})

    def _send(self, status: int, payload: object, headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Type": "application/json",
                            "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _ListOutbox:
    def __init__(self, revisions: list[dict[str, Any]]) -> None:
        self.pending = list(revisions)

    def unsynced_batch(self, limit: int) -> Sequence[dict[str, Any]]:
        return self.pending[:limit]

    def acknowledge(self, acks: Sequence[tuple[str, int]]) -> int:
        done = set(acks)
        self.pending = [r for r in self.pending if (r["question_id"], r["revision"]) not in done]
        return len(self.pending)


@pytest.fixture
def busy_server() -> Iterator[str]:
    _BusyThenOk.times = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _BusyThenOk)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_upload_waits_for_retry_after(busy_server: str) -> None:
    api = ExamApi(busy_server, clock=ServerClock(), timeout_s=5, client_id="pc")
    api.token = "t"
    outbox = _ListOutbox([{"question_id": "q1", "revision": 1, "value": "A",
                           "client_time_ms": None}])
    statuses: list[SyncStatus] = []
    pusher = AnswerPusher(outbox=outbox, push=api.push_answers, now_ms=lambda: 0,
                          interval_s=0.05, on_status=statuses.append)
    pusher.start()
    try:
        wait_until(lambda: not outbox.pending, timeout_s=10, message="the upload")
    finally:
        pusher.stop()
    first, second = _BusyThenOk.times[:2]
    assert second - first >= 1.0  # not before Retry-After, although the interval is 50 ms
    assert any(s.error == "busy" for s in statuses)


def test_login_queued_out_gets_a_calm_message_and_retry_after(tmp_path: Path) -> None:
    with live_server(tmp_path / "server", login_slots=1, login_max_wait_s=0.01) as live:
        assert live.demo is not None
        demo = live.demo
        refusals: list[ServerRefused] = []

        def login(n: int) -> None:
            api = ExamApi(live.url, clock=ServerClock(), timeout_s=30, client_id=f"pc-{n}")
            try:
                api.login(username=demo.username, password=demo.password,
                          center_id=demo.center_id)
            except ServerRefused as exc:
                refusals.append(exc)

        threads = [threading.Thread(target=login, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Requests straight to the server agree with what the client understood.
        assert requests.get(live.api("/time"), timeout=5).status_code == 200
    busy = [r for r in refusals if r.code == "busy"]
    assert busy, [r.code for r in refusals]
    assert busy[0].status == 429
    seconds = busy[0].detail["retry_after_s"]
    assert isinstance(seconds, int) and seconds >= 1
    assert f"约 {seconds} 秒" in busy[0].message and "不会丢失" in busy[0].message


def test_the_interval_comes_from_the_signed_package_within_bounds() -> None:
    assert interval_from_package({"sync": {"interval_s": 7.5}}, fallback=3.0) == 7.5
    # A package from an older server, or a value that is not a number: the fallback.
    for extra in ({}, {"sync": None}, {"sync": {"interval_s": "1"}},
                  {"sync": {"interval_s": True}}, {"sync": {"interval_s": float("nan")}}):
        assert interval_from_package(extra, fallback=3.0) == 3.0, extra
    # A mistyped server setting cannot make a hall hammer the server, nor stop uploads.
    assert interval_from_package({"sync": {"interval_s": 0}}, fallback=3.0) == MIN_INTERVAL_S
    assert interval_from_package({"sync": {"interval_s": 1e9}}, fallback=3.0) == MAX_INTERVAL_S
