from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.testing import LiveServer, live_server


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server", start_in_s=600, duration_s=3600) as live:
        yield live
