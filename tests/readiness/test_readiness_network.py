"""Checks against a real exam server on 127.0.0.1 (server.testing.live_server)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from client.readiness.network import (
    ServerFacts,
    evaluate_center_ip,
    evaluate_clock,
    evaluate_server,
    evaluate_tls,
    probe_server,
)
from client.readiness.result import Status
from server.clock import OffsetClock
from server.testing import LiveServer

DAY_MS = 86_400_000


def probe(url: str, center_id: str, tmp_path: Path, ca_file: Path | None = None) -> ServerFacts:
    return probe_server(url=url, center_id=center_id, ca_file=ca_file,
                        cache_dir=tmp_path / "cache", timeout_s=5.0)


def test_a_running_server_is_reachable_with_the_right_clock(server: LiveServer,
                                                             tmp_path: Path) -> None:
    facts = probe(server.url, "demo-center", tmp_path)
    assert facts.reachable
    assert evaluate_server(facts).status is Status.PASS
    clock = evaluate_clock(facts)
    assert clock.status is Status.PASS
    assert abs(clock.detail["pc_offset_ms"]) < 5_000  # type: ignore[operator]
    assert evaluate_tls(facts, now_ms=0).status is Status.PASS  # plain http on loopback


@pytest.mark.parametrize(("server_ahead_ms", "status", "words"), [
    (10 * 60_000, Status.WARN, "慢了 10 分钟"),          # the PC is behind Beijing time
    (-3 * DAY_MS, Status.FAIL, "快了 3 天"),               # e.g. a dead CMOS battery
])
def test_a_wrong_pc_clock_is_reported_with_the_difference(
        server: LiveServer, tmp_path: Path, server_ahead_ms: int, status: Status,
        words: str) -> None:
    assert isinstance(server.clock, OffsetClock)
    server.clock.advance(ms=server_ahead_ms)
    result = evaluate_clock(probe(server.url, "demo-center", tmp_path))
    assert result.status is status
    assert words in result.message


def test_center_ip_registered_or_not(server: LiveServer, tmp_path: Path) -> None:
    center = server.demo.center_id  # type: ignore[union-attr]
    unrestricted = evaluate_center_ip(probe(server.url, center, tmp_path), center_id=center)
    assert unrestricted.status is Status.PASS
    assert "127.0.0.1" in unrestricted.message

    server.db.upsert_center(center_id=center, name="演示考点", allowed_ips=["203.0.113.0/28"])
    outside = evaluate_center_ip(probe(server.url, center, tmp_path), center_id=center)
    assert outside.status is Status.FAIL
    assert "127.0.0.1" in outside.message  # the admin sees which address to register
    assert "出口 IP" in outside.message

    server.db.upsert_center(center_id=center, name="演示考点",
                            allowed_ips=["203.0.113.0/28", "127.0.0.1"])
    inside = evaluate_center_ip(probe(server.url, center, tmp_path), center_id=center)
    assert inside.status is Status.PASS
    assert "已在考点" in inside.message


def test_an_unknown_or_missing_center_id_fails(server: LiveServer, tmp_path: Path) -> None:
    unknown = evaluate_center_ip(probe(server.url, "no-such-center", tmp_path),
                                 center_id="no-such-center")
    assert unknown.status is Status.FAIL
    assert "no-such-center" in unknown.message
    missing = evaluate_center_ip(probe(server.url, "", tmp_path), center_id="")
    assert missing.status is Status.FAIL
    assert "center_id" in missing.message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_no_server_at_the_address(tmp_path: Path) -> None:
    facts = probe(f"http://127.0.0.1:{free_port()}", "demo-center", tmp_path)
    assert not facts.reachable
    server = evaluate_server(facts)
    assert server.status is Status.FAIL
    assert "防火墙" in server.message
    assert "连接被拒绝" in server.message  # the cause, not only "ConnectionError"
    # What depends on an answer is not claimed either way.
    for result in (evaluate_clock(facts), evaluate_center_ip(facts, center_id="demo-center")):
        assert result.status is Status.WARN
        assert "未检查" in result.message
    https = probe(f"https://127.0.0.1:{free_port()}", "demo-center", tmp_path)
    assert "未检查" in evaluate_tls(https, now_ms=0).message


@pytest.fixture
def not_an_exam_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server names handlers do_<METHOD>
            body = b"<html>router login</html>"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_a_web_server_that_is_not_the_exam_server(not_an_exam_server: str,
                                                  tmp_path: Path) -> None:
    result = evaluate_server(probe(not_an_exam_server, "demo-center", tmp_path))
    assert result.status is Status.FAIL
    assert "HTTP 404" in result.message
    assert "[server] url" in result.message
