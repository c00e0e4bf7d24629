"""TLS diagnosis against a real local HTTPS server with certificates made for each case:
"certificate is not yet valid" because of the PC clock or of the certificate itself, a
root CA this PC does not trust, and a good configuration."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tls_server import ROOT_NAME, TlsServer

from client.readiness.network import evaluate_clock, evaluate_server, evaluate_tls, probe_server
from client.readiness.result import Status


def diagnose(server: TlsServer, tmp_path: Path, *, trust: bool = True):  # type: ignore[no-untyped-def]
    facts = probe_server(url=server.url, center_id="", ca_file=server.ca_file if trust else None,
                         cache_dir=tmp_path / "cache", timeout_s=5.0)
    return facts, evaluate_tls(facts, now_ms=time.time_ns() // 1_000_000)


def test_not_yet_valid_because_the_pc_clock_is_behind(
        tls_server: Callable[..., TlsServer], tmp_path: Path) -> None:
    # The certificate starts in 2 days; by the server's clock that was yesterday.
    server = tls_server(valid_from_days=2, server_clock_days=3)
    facts, tls = diagnose(server, tmp_path)
    assert facts.error_code == "tls.clock_wrong"
    assert tls.status is Status.FAIL
    assert "本机时间不对" in tls.message
    assert "北京时间" in tls.message
    clock = evaluate_clock(facts)
    assert clock.status is Status.FAIL
    assert "慢了 3 天" in clock.message
    assert evaluate_server(facts).status is Status.FAIL


def test_not_yet_valid_by_the_servers_own_clock_is_the_servers_problem(
        tls_server: Callable[..., TlsServer], tmp_path: Path) -> None:
    server = tls_server(valid_from_days=2, server_clock_days=0)
    _facts, tls = diagnose(server, tmp_path)
    assert tls.status is Status.FAIL
    assert "服务器证书本身不在有效期内" in tls.message


def test_an_untrusted_root_names_the_issuer(tls_server: Callable[..., TlsServer],
                                            tmp_path: Path) -> None:
    server = tls_server()
    facts, tls = diagnose(server, tmp_path, trust=False)
    assert facts.error_code == "tls.untrusted"
    assert tls.status is Status.FAIL
    assert ROOT_NAME in tls.message
    assert "ca_file" in tls.message


def test_a_trusted_valid_certificate_passes_with_its_expiry(
        tls_server: Callable[..., TlsServer], tmp_path: Path) -> None:
    server = tls_server(valid_until_days=90)
    facts, tls = diagnose(server, tmp_path)
    assert facts.reachable
    assert tls.status is Status.PASS
    assert "有效期至" in tls.message
    assert tls.detail["issuer"] == f"CN={ROOT_NAME}"
