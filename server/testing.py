"""A real server for tests and the client's demo mode: uvicorn on 127.0.0.1 in a thread.

    with live_server(tmp_path) as server:
        requests.post(server.api("/login"), json={...})
        server.clock.advance(ms=120_000)       # move server time, no sleeping

Every test that talks to the server uses this (docs/contracts.md): real sockets, real
HTTP, the real database file.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from server import hash_threads
from server.app import LOGINS_PER_HASH_THREAD, create_app
from server.clock import Clock, OffsetClock
from server.config import ServerSettings
from server.context import ServerContext
from server.db import Database
from server.demo import DemoInfo, install_demo
from server.keys import ensure_keys

STARTUP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    db: Database
    demo: DemoInfo | None
    signing_public_key: bytes  # raw Ed25519, as GET /server-keys sends it (base64)
    box_public_key: bytes
    clock: Clock
    context: ServerContext
    app: Any  # the FastAPI app (its state: e.g. how many sweeps this process ran)

    def api(self, path: str) -> str:
        return f"{self.url}/api/v1{path}"


# Date comes from the server clock (ServerTimeHeaders); X-Forwarded-For is read only when
# settings.trust_proxy is on (server/auth.py), never by uvicorn itself. No access log: one
# info line per request costs CPU on the hot path of an exam; handlers log errors.
UVICORN_OPTIONS: dict[str, Any] = {
    "lifespan": "on",
    "date_header": False,
    "server_header": False,
    "proxy_headers": False,
    "access_log": False,
    # Candidates' PCs upload every few seconds on one kept-alive connection; uvicorn's
    # 5 s default closed it between a login's 429 wait and its retry, and a request sent
    # as it closed failed (ReadError in benchmarks/sync.py). nginx keeps upstream
    # connections 60 s.
    "timeout_keep_alive": 65,
    "timeout_graceful_shutdown": 2,
}


def uvicorn_config(app: Any, *, host: str, port: int, log_level: str = "warning") -> uvicorn.Config:
    """The one uvicorn configuration (CLI and tests)."""
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, **UVICORN_OPTIONS)


@contextmanager
def live_server(
    data_dir: Path,
    *,
    demo: bool = True,
    clock: Clock | None = None,
    start_in_s: float = 600.0,
    duration_s: float = 3600.0,
    demo_paper: Path | None = None,
    port: int = 0,
    **settings: Any,
) -> Iterator[LiveServer]:
    """Run the server on a free port of 127.0.0.1 until the ``with`` block ends.

    *clock* defaults to an :class:`OffsetClock` (exposed as ``LiveServer.clock``) so a test
    can move time. *settings* override :class:`ServerSettings` fields (e.g. trust_proxy).
    *port*: 0 for a free one; a fixed one restarts a server where clients expect it.
    """
    clock = clock if clock is not None else OffsetClock()
    settings.setdefault("sweep_interval_s", 0.2)
    # The upload interval its packages give the clients: tests wait for uploads.
    settings.setdefault("sync_interval_s", 0.3)
    config = ServerSettings.load(data_dir, host="127.0.0.1", port=0, **settings)
    keys = ensure_keys(data_dir)
    db = Database(config.effective_database_url)
    db.init_schema()
    info = None
    if demo:
        info = install_demo(
            settings=config,
            db=db,
            keys=keys,
            clock=clock,
            start_in_s=start_in_s,
            duration_s=duration_s,
            paper_source=demo_paper,
        )
    ctx = ServerContext.build(settings=config, db=db, keys=keys, clock=clock)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    app = create_app(ctx)
    server = uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=port))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield LiveServer(
            url=f"http://127.0.0.1:{port}",
            data_dir=data_dir,
            db=db,
            demo=info,
            signing_public_key=keys.signing_public_raw(),
            box_public_key=keys.box_public_raw(),
            clock=clock,
            context=ctx,
            app=app,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        db.close()
        if thread.is_alive():
            raise RuntimeError("live server did not shut down within 10 s")


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("live server failed to start (see the log above)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"live server did not start within {STARTUP_TIMEOUT_S} s")
        time.sleep(0.01)


@contextmanager
def login_gate_full(server: LiveServer, *, hashing_threads: int = 1) -> Iterator[None]:
    """The login gate of *server* (started with ``login_slots=hashing_threads`` and a small
    ``login_max_wait_s``) full until the block ends: its hashing threads are kept busy and
    as many logins as the gate has places wait for them, real requests with whole bodies
    (a client that never sends its body holds no place: server/login_gate.py)."""
    import requests

    release = threading.Event()
    blockers = [threading.Thread(target=hash_threads.run, args=(release.wait,), daemon=True)
                for _ in range(hashing_threads)]
    holders = [threading.Thread(target=requests.post, args=(server.api("/login"),),
                                kwargs={"json": {"username": "holder", "password": "x"},
                                        "timeout": 120}, daemon=True)
               for _ in range(LOGINS_PER_HASH_THREAD * hashing_threads)]
    for thread in blockers + holders:
        thread.start()
    try:
        # Full once every holder waits for a hashing thread (an admitted probe would
        # teach the gate that logins are quick, and it would queue the next one).
        deadline = time.monotonic() + 10
        while hash_threads.in_use() < len(blockers) + len(holders):
            if time.monotonic() > deadline:
                raise RuntimeError("the holding logins never filled the login gate")
            time.sleep(0.02)
        yield
    finally:
        release.set()
        for thread in blockers + holders:
            thread.join(timeout=60)
