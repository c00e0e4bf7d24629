"""A serving process freezes the objects it started with (server/app.py): the garbage
collector's full passes then skip the imported modules and the app, which otherwise held
the GIL for tens of milliseconds in the middle of requests. Servers inside a test process
(live_server) do not freeze: the test's own objects must stay collectable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The worker entry point of `serve --workers N`, run through its lifespan in a process
# of its own; prints how many objects the collector no longer scans.
WORKER = """
import asyncio, gc
from server.app import app_from_environment

async def main():
    app = app_from_environment()
    async with app.router.lifespan_context(app):
        print(gc.get_freeze_count())

asyncio.run(main())
"""


def frozen_count_of_a_worker(data_dir: Path) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EXAM_SERVER_DATA": str(data_dir),
           "EXAM_SERVER_SWEEP_INTERVAL_S": "60"}
    out = subprocess.run([sys.executable, "-c", WORKER], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    return int(out.strip().splitlines()[-1])


def test_a_serve_worker_freezes_what_it_started_with(tmp_path: Path) -> None:
    # Tens of thousands: FastAPI, SQLAlchemy, pydantic and the server's own modules.
    assert frozen_count_of_a_worker(tmp_path) > 20_000


def test_a_server_inside_a_test_process_does_not_freeze(tmp_path: Path) -> None:
    import gc

    from server.testing import live_server

    before = gc.get_freeze_count()
    with live_server(tmp_path / "server", demo=False):
        assert gc.get_freeze_count() == before
