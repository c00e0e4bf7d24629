from __future__ import annotations

from collections.abc import Iterator

import pytest
from offline_helpers import offline_server

from server.testing import LiveServer


@pytest.fixture
def srv(tmp_path, monkeypatch) -> Iterator[LiveServer]:
    with offline_server(tmp_path / "server", monkeypatch) as live:
        yield live
