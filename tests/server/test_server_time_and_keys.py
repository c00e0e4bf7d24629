"""GET /time and /server-keys, and the server-clock headers on every response."""

from __future__ import annotations

import base64
from email.utils import parsedate_to_datetime

from server.testing import LiveServer


def test_time_follows_the_server_clock(api, server: LiveServer) -> None:
    server.clock.advance(ms=3 * 86_400_000)  # three days ahead of this machine
    response = api.get("/time")
    epoch_ms = response.json()["epoch_ms"]
    assert abs(epoch_ms - server.clock.now_ms()) < 2_000
    assert 0 <= int(response.headers["X-Server-Time-Ms"]) - epoch_ms < 2_000
    date_ms = parsedate_to_datetime(response.headers["Date"]).timestamp() * 1000
    assert abs(date_ms - epoch_ms) < 2_000
    assert len(response.raw.headers.getlist("date")) == 1  # ours replaced uvicorn's


def test_server_keys_are_the_data_dir_keys(api, server: LiveServer) -> None:
    body = api.get("/server-keys").json()
    assert base64.b64decode(body["signing_public_key"]) == server.signing_public_key
    assert base64.b64decode(body["box_public_key"]) == server.box_public_key
    assert len(server.signing_public_key) == 32 and len(server.box_public_key) == 32


def test_unknown_path_uses_the_error_format(api) -> None:
    response = api.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": {}}
