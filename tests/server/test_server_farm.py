"""``exam-server serve --workers 2`` as documented, run for real as a subprocess: both
workers answer, exactly one of them sweeps, and what was given on the command line and in
the environment reaches the workers. On PostgreSQL when EXAM_SERVER_TEST_POSTGRES_URL is
set (scripts/test.sh starts a throwaway cluster), on SQLite otherwise."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
import requests
from sqlalchemy import select, text

from server import schema as t
from server.app import SWEEPER
from server.cli import context_for_data_dir
from server.db import AUTO_SUBMITTED, Database
from server.demo import DemoInfo, install_demo

REPO = Path(__file__).resolve().parents[2]
SWEEP_INTERVAL_S = 0.2  # given through the environment only
STARTUP_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _demo(data: Path, database_url: str, paper_source: Path) -> DemoInfo:
    ctx = context_for_data_dir(data, database_url=database_url)
    try:
        return install_demo(settings=ctx.settings, db=ctx.db, keys=ctx.keys, clock=ctx.clock,
                            start_in_s=-60, duration_s=3600, paper_source=paper_source)
    finally:
        ctx.db.close()


@contextmanager
def _serve(data: Path, port: int, database_url: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "EXAM_SERVER_DATABASE_URL": database_url,
           "EXAM_SERVER_SWEEP_INTERVAL_S": str(SWEEP_INTERVAL_S)}
    for name in ("EXAM_SERVER_DATA", "EXAM_SERVER_WORKERS", "EXAM_SERVER_TRUST_PROXY"):
        env.pop(name, None)  # only `serve` itself may set these for its workers
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--data", str(data), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--trust-proxy"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    try:
        yield process
    finally:
        for worker in psutil.Process(process.pid).children(recursive=True):
            worker.resume()  # a worker left stopped by a failed assertion would never exit
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()


def _workers(process: subprocess.Popen[bytes], port: int) -> list[psutil.Process]:
    """The worker processes: the children that accept on the shared listening socket."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        assert process.poll() is None, "serve exited"
        found = []
        for child in psutil.Process(process.pid).children(recursive=True):
            try:
                if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port
                       for c in child.net_connections(kind="tcp")):
                    found.append(child)
            except psutil.Error:
                continue
        if len(found) == 2:
            return found
        assert time.monotonic() < deadline, f"{len(found)} worker(s) came up"
        time.sleep(0.1)


def _answers_while_alone(url: str, worker: psutil.Process,
                         others: list[psutil.Process]) -> None:
    """With every other worker stopped (SIGSTOP: it cannot accept), *worker* alone must
    answer new connections; retried until it has finished starting."""
    for other in others:
        other.suspend()
    try:
        deadline = time.monotonic() + STARTUP_S
        answered = 0
        while answered < 5:
            try:
                # A new connection each time: keep-alive would pin it to one worker.
                response = requests.get(f"{url}/api/v1/time", timeout=2,
                                        headers={"Connection": "close"})
                assert response.status_code == 200
                answered += 1
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"worker {worker.pid} never answered"
                time.sleep(0.2)
    finally:
        for other in others:
            other.resume()


def _sweeper_holder_pid(db: Database, workers: list[psutil.Process]) -> int:
    """The pid of the worker that holds the sweeper's leadership now (asserting one does)."""
    with db.read() as conn:
        if db.is_postgres:
            key = zlib.crc32(f"exam-server:{SWEEPER}".encode())
            # The lock's key is a bigint: PostgreSQL shows it as classid (high) + objid (low).
            ports = conn.execute(text(
                "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted"
                " AND l.classid = :high AND l.objid = :low"),
                {"high": key >> 32, "low": key & 0xFFFFFFFF}).scalars().all()
            assert len(ports) == 1, ports
            holders = [w.pid for w in workers
                       if any(c.laddr.port == ports[0] for c in w.net_connections(kind="tcp"))]
            assert len(holders) == 1, holders
            return holders[0]
        holder = conn.execute(select(t.leases.c.holder, t.leases.c.expires_ms)
                              .where(t.leases.c.name == SWEEPER)).one()
        # The lease length follows the sweep interval from the environment (3 runs, >= 2 s).
        assert holder.expires_ms - int(time.time() * 1000) <= 2000 + 500
        return int(holder.holder.split(":")[1])


# Slow by nature (~6-10 s: three Python processes start, the supervisor and two spawned
# workers); it is the only test of the farm as deployed, which in-process servers cannot be.
@pytest.mark.slow
def test_serve_with_two_workers(tmp_path: Path, paper_source: Path, database_url: str) -> None:
    data = tmp_path / "data"
    url = database_url or f"sqlite:///{(data / 'server.db').as_posix()}"
    demo = _demo(data, url, paper_source)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    db = Database(url)
    try:
        with _serve(data, port, url) as process:
            workers = _workers(process, port)
            for worker in workers:
                _answers_while_alone(base, worker, [w for w in workers if w is not worker])

            # --trust-proxy reached the workers through the environment `serve` set.
            seen = requests.get(f"{base}/api/v1/centers/{demo.center_id}/whoami", timeout=10,
                                headers={"X-Forwarded-For": "203.0.113.9"}).json()
            assert seen["seen_ip"] == "203.0.113.9"

            # A login and an upload land in the database the environment named.
            person = demo.candidates[0]
            login = requests.post(f"{base}/api/v1/login", timeout=30, json={
                "username": person.student_no, "password": person.password,
                "center_id": demo.center_id, "client_id": "pc-farm"})
            assert login.status_code == 200, login.text
            token = login.json()["token"]
            upload = requests.post(f"{base}/api/v1/attempt/answers", timeout=10,
                                   headers={"Authorization": f"Bearer {token}"},
                                   json={"answers": [{"question_id": "q1", "revision": 1,
                                                      "value": "B"}]})
            assert upload.status_code == 200, upload.text
            found = db.resolve_token(token, now_ms=int(time.time() * 1000))
            assert found is not None and found.attempt_id is not None
            assert db.current_answers(found.attempt_id) == {"q1": "B"}

            # Exactly one worker sweeps, and keeps sweeping: end the exam under it.
            worker_pids = {w.pid for w in workers}
            holders = set()
            for _ in range(5):
                holders.add(_sweeper_holder_pid(db, workers))
                time.sleep(SWEEP_INTERVAL_S)
            assert len(holders) == 1 and holders <= worker_pids, (holders, worker_pids)
            with db.write() as conn:
                conn.execute(t.exams.update().where(t.exams.c.id == demo.exam_id)
                             .values(end_ms=int(time.time() * 1000) - 1))
            deadline = time.monotonic() + 30
            while db.get_attempt(found.attempt_id).status != AUTO_SUBMITTED:
                assert time.monotonic() < deadline, "no worker swept"
                time.sleep(SWEEP_INTERVAL_S)
            assert _sweeper_holder_pid(db, workers) in holders
        assert process.returncode == 0
    finally:
        db.close()

