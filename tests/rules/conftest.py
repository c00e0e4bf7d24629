"""Fixtures of the exam-day rules tests: a live server with the demo exam."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.testing import LiveServer, live_server

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server", demo=True, start_in_s=600, duration_s=3600) as srv:
        yield srv
