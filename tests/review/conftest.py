from __future__ import annotations

from collections.abc import Iterator

import pytest
from review_helpers import review_server

from server.testing import LiveServer


@pytest.fixture
def srv(tmp_path, monkeypatch) -> Iterator[LiveServer]:
    with review_server(tmp_path / "server", monkeypatch) as live:
        yield live
