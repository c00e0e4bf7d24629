"""The heartbeat channel: a real session beats to a real server, through the fault proxy,
and the poller waits as the server's Retry-After asks."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fault_proxy import FaultProxy
from offline_support import attempt_of, build_session, wait_until

from client.sync.api import ExamApi, HeartbeatReply
from client.sync.clock import ServerClock
from client.sync.heartbeat import HeartbeatPoller
from server.testing import LiveServer


def test_a_logged_in_pc_beats_and_learns_the_attempts_end(server: LiveServer,
                                                          proxy: FaultProxy,
                                                          tmp_path: Path) -> None:
    assert server.demo is not None
    replies: list[HeartbeatReply] = []
    session = build_session(proxy.url, tmp_path / "pc", heartbeat_interval_s=0.3)
    session.events.on_heartbeat = replies.append
    try:
        session.login(username=server.demo.username, password=server.demo.password)
        wait_until(lambda: len(replies) >= 2, message="two heartbeats")
        assert replies[-1].end_ms == server.demo.end_ms
        assert replies[-1].paused is False and replies[-1].messages == []
        assert session.last_heartbeat == replies[-1]
        # Silence on the wire: no beat gets through, the contact stops moving.
        proxy.set_mode("down")
        contact = attempt_of(server).last_contact_ms
        server.clock.advance(ms=60_000)
        count = len(replies)
        threading.Event().wait(1.0)
        assert len(replies) == count
        assert attempt_of(server).last_contact_ms == contact
    finally:
        session.close()
    # Closing the session stops the poller: no beat after it.
    count = len(replies)
    threading.Event().wait(0.8)
    assert len(replies) == count


class _Busy(BaseHTTPRequestHandler):
    """A server that is overloaded: 429 with Retry-After: 7 to every heartbeat."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b'{"error": "busy", "detail": {}}'
        self.send_response(429)
        self.send_header("Retry-After", "7")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def busy_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_poller_obeys_retry_after(busy_url: str) -> None:
    api = ExamApi(busy_url, clock=ServerClock(), timeout_s=2.0)
    api.token = "t"
    failures: list[str] = []
    poller = HeartbeatPoller(
        beat=lambda: api.heartbeat(focus_losses=0, pending=0, messages_seen=0),
        on_reply=lambda reply: None, interval_s=1.0, on_failure=lambda e: failures.append(e.code),
        rng=random.Random(4))
    assert poller.beat_once() == 7.0
    # The first failure: the server's floor, jittered upwards only.
    assert 7.0 <= poller.next_delay_s(retry_after=7.0) <= 7.0 * 1.2 + 1e-9
    for _ in range(20):
        retry_after = poller.beat_once()
        assert retry_after == 7.0
        assert poller.next_delay_s(retry_after=retry_after) >= 7.0  # never sooner
    assert failures and set(failures) == {"busy"}
    # Once the server answers again, the interval (jittered) is back.
    poller._failures = 0
    assert all(0.8 <= poller.next_delay_s(retry_after=None) <= 1.2 for _ in range(50))
