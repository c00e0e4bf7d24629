"""TLS failures explained: the PC clock (with the difference) or missing root certificates,
against a real local HTTPS server with certificates made for each case."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tls_server import TlsServer, run_tls_server

from client.errors import UserFacingError
from client.sync.api import ExamApi, ca_bundle
from client.sync.clock import ServerClock

DAY_MS = 86_400_000


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[TlsServer]]:
    servers: list[TlsServer] = []
    yield servers
    for server in servers:
        server.stop()


def api_for(server: TlsServer, tmp_path: Path, *, trust: bool = True) -> ExamApi:
    bundle = ca_bundle(server.ca_file if trust else None, cache_dir=tmp_path / "cache")
    return ExamApi(server.url, clock=ServerClock(), verify=bundle, timeout_s=5.0)


@pytest.mark.parametrize(("valid_from", "valid_until", "server_days", "words"), [
    (2, 90, 3, "慢了 3 天"),  # not yet valid: the PC clock is 3 days behind
    (-90, -1, -2, "快了 2 天"),  # expired: the PC clock is 2 days ahead
])
def test_certificate_dates_blamed_on_the_pc_clock_with_the_difference(
        tmp_path: Path, started: list[TlsServer], valid_from: int, valid_until: int,
        server_days: int, words: str) -> None:
    server = run_tls_server(tmp_path / "tls", valid_from_days=valid_from,
                            valid_until_days=valid_until, server_clock_days=server_days)
    started.append(server)
    with pytest.raises(UserFacingError) as failure:
        api_for(server, tmp_path).server_time_ms()
    assert failure.value.code == "tls.clock_wrong"
    assert words in failure.value.message and "北京时间" in failure.value.message
    offset = failure.value.detail["pc_offset_ms"]
    assert isinstance(offset, int) and abs(offset + server_days * DAY_MS) < 60_000


def test_the_date_header_is_enough_when_the_time_answer_is_not_json(
        tmp_path: Path, started: list[TlsServer]) -> None:
    server = run_tls_server(tmp_path / "tls", valid_from_days=2, server_clock_days=3,
                            time_json=False)
    started.append(server)
    with pytest.raises(UserFacingError) as failure:
        api_for(server, tmp_path).server_time_ms()
    assert failure.value.code == "tls.clock_wrong" and "慢了 3 天" in failure.value.message


def test_missing_root_certificate_is_explained(tmp_path: Path,
                                               started: list[TlsServer]) -> None:
    server = run_tls_server(tmp_path / "tls")
    started.append(server)
    with pytest.raises(UserFacingError) as failure:
        api_for(server, tmp_path, trust=False).server_time_ms()
    assert failure.value.code == "tls.untrusted"
    assert "自带根证书" in failure.value.message and "ca_file" in failure.value.message


def test_the_center_ca_file_makes_the_center_server_trusted(tmp_path: Path,
                                                            started: list[TlsServer]) -> None:
    server = run_tls_server(tmp_path / "tls", server_clock_days=0)
    started.append(server)
    api = api_for(server, tmp_path)
    assert abs(api.server_time_ms() - api.clock.now_ms()) < 5_000  # type: ignore[operator]
    assert api.clock.synchronised


@pytest.mark.parametrize(("valid_from", "valid_until", "code", "words"), [
    (-90, -1, "tls.certificate_expired", "过期"),
    (2, 90, "tls.certificate_not_yet_valid", "尚未生效"),
])
def test_a_wrong_certificate_is_not_blamed_on_a_correct_pc_clock(
        tmp_path: Path, started: list[TlsServer], valid_from: int, valid_until: int,
        code: str, words: str) -> None:
    """Issue 15: an expired certificate was reported as the PC clock being "快了 0 秒"."""
    server = run_tls_server(tmp_path / "tls", valid_from_days=valid_from,
                            valid_until_days=valid_until, server_clock_days=0)
    started.append(server)
    with pytest.raises(UserFacingError) as failure:
        api_for(server, tmp_path).server_time_ms()
    assert failure.value.code == code, failure.value.message
    assert words in failure.value.message and "电脑时间正确" in failure.value.message
    assert "快了" not in failure.value.message and "慢了" not in failure.value.message


def test_a_host_name_mismatch_is_named_as_such(tmp_path: Path,
                                               started: list[TlsServer]) -> None:
    """Issue 15: a wrong host name was reported as a missing root certificate."""
    server = run_tls_server(tmp_path / "tls")  # certificate for 127.0.0.1 only
    started.append(server)
    server.url = server.url.replace("127.0.0.1", "localhost")
    with pytest.raises(UserFacingError) as failure:
        api_for(server, tmp_path).server_time_ms()
    assert failure.value.code == "tls.hostname_mismatch", failure.value.message
    assert "localhost" in failure.value.message
