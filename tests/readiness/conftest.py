"""Fixtures for the readiness tests: a live exam server, settings pointing at it, and a
local HTTPS server whose certificate dates and trust the TLS tests choose."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tls_server import TlsServer, run_tls_server

from client.config import Settings, load_settings
from server.testing import LiveServer, live_server


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The checks honour the system proxy, as the client does; the test servers are local.
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """The real server; server/app.py mounts server.readiness (EXTENSION_ROUTERS)."""
    with live_server(tmp_path / "server") as running:
        yield running


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Write a user.ini and load it with the client's own loader."""

    def make(*, url: str, center_id: str = "", camera: bool = False,
             camera_source: Path | None = None, ca_file: Path | None = None,
             data_dir: Path | None = None) -> Settings:
        lines = ["[server]", f"url = {url}", f"center_id = {center_id}",
                 f"ca_file = {ca_file or ''}", "timeout_seconds = 5",
                 # The reference server in tests speaks plain http on 127.0.0.1.
                 f"allow_plain_http = {'true' if url.startswith('http://') else 'false'}",
                 "[data]", f"directory = {data_dir or tmp_path / 'client-data'}",
                 "[camera]", f"enabled = {'true' if camera else 'false'}",
                 f"source = {camera_source or ''}"]
        ini = tmp_path / "user.ini"
        ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
        # This file plays the center's machine-wide config (trusted with [camera] keys and
        # the server's trust anchors).
        settings = load_settings([ini], trusted=[ini])
        assert not settings.problems, settings.problems
        return settings

    return make


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[Callable[..., TlsServer]]:
    servers: list[TlsServer] = []

    def start(**options: object) -> TlsServer:
        server = run_tls_server(tmp_path / f"tls{len(servers)}", **options)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
