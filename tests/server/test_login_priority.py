"""Logins never take the CPU or the threads that uploads need (issue 18): argon2 runs on at
most ``login_slots`` low-priority threads per worker (server/hash_threads.py), logins queue
among themselves at the login gate, and a full queue is answered at once with 429 and
Retry-After. A real server over real HTTP, on SQLite and on PostgreSQL when
EXAM_SERVER_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
import requests
from argon2 import PasswordHasher
from server_testkit import Api

from server.cli import context_for_data_dir
from server.demo import DemoInfo, install_demo
from server.hash_threads import NICE_INCREMENT
from server.testing import LiveServer, live_server, login_gate_full

REPO = Path(__file__).resolve().parents[2]
# A hash that takes ~0.1-0.3 s to verify here (argon2 keeps its parameters in the hash),
# so that a few logins keep the hashing threads busy for a while.
SLOW_HASH = PasswordHasher(memory_cost=19_456, time_cost=12, parallelism=1).hash("right")


def _slow_down_logins(live: LiveServer) -> str:
    """The first demo candidate's hash made slow; returns the username."""
    assert live.demo is not None
    username = live.demo.username
    (candidate,) = live.db.candidates_by_username(username)
    live.db.update_candidate(candidate.id, password_hash=SLOW_HASH)
    return username


def _wrong_login(url: str, username: str) -> requests.Response:
    # A wrong password verifies the whole hash and, unlike a right one, never replaces it.
    return requests.post(f"{url}/api/v1/login", timeout=60, json={
        "username": username, "password": "wrong", "client_id": "pc-storm"})


def _nice_of_threads(pid: int) -> list[int]:
    """The nice value of every thread of process *pid* (Linux: it is per thread)."""
    values = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        values.append(int(fields[16]))  # field 19 of stat(5); fields[0] is field 3
    return values


def test_upload_is_answered_while_logins_fill_the_hashing_threads(
        tmp_path: Path, paper_source: Path, database_url: str) -> None:
    with live_server(tmp_path / "data", demo_paper=paper_source, start_in_s=-60,
                     login_slots=1, login_max_wait_s=60,
                     database_url=database_url or None) as live:
        api = Api(live)
        assert live.demo is not None
        other = live.demo.candidates[1]
        token = api.token(other.student_no, other.password)
        username = _slow_down_logins(live)
        storm = 10  # ~1-3 s of hashing on one thread
        with ThreadPoolExecutor(max_workers=storm) as pool:
            logins: list[Future[requests.Response]] = [
                pool.submit(_wrong_login, live.url, username) for _ in range(storm)]
            time.sleep(0.3)  # the first ones hash, the rest queue at the gate
            took = []
            for revision in range(1, 6):
                started = time.monotonic()
                answer = api.session.post(
                    live.api("/attempt/answers"), timeout=10,
                    headers={"Authorization": f"Bearer {token}"},
                    json={"answers": [{"question_id": "q1", "revision": revision,
                                       "value": "B"}]})
                took.append(time.monotonic() - started)
                assert answer.status_code == 200, answer.text
            still_queued = sum(1 for login in logins if not login.done())
            statuses = [login.result().status_code for login in logins]
        api.session.close()
    # The uploads ran while logins were still waiting for the hashing thread...
    assert still_queued >= 3, still_queued
    # ...and none waited behind them (each upload is a few ms; 1 s is a stall).
    assert max(took) < 1.0, took
    # The logins queued among themselves: each got its answer, none was refused or lost.
    assert statuses == [401] * storm, statuses


def test_a_full_login_queue_is_answered_at_once_with_retry_after(
        tmp_path: Path, paper_source: Path, database_url: str) -> None:
    with live_server(tmp_path / "data", demo_paper=paper_source, start_in_s=-60,
                     login_slots=1, login_max_wait_s=0.3,
                     database_url=database_url or None) as live:
        username = _slow_down_logins(live)
        _wrong_login(live.url, username)  # the gate learns what a login takes here
        timed: list[tuple[float, requests.Response]] = []
        lock = threading.Lock()

        def login() -> None:
            started = time.monotonic()
            response = _wrong_login(live.url, username)
            with lock:
                timed.append((time.monotonic() - started, response))

        threads = [threading.Thread(target=login) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    busy = [(took, r) for took, r in timed if r.status_code == 429]
    assert busy, sorted(r.status_code for _, r in timed)
    assert {r.status_code for _, r in timed} <= {401, 429}
    for took, response in busy:
        assert response.json()["error"] == "busy"
        assert int(response.headers["Retry-After"]) >= 1
        # Refused at the gate, not after waiting for a hash (each takes >= 0.1 s).
        assert took < 0.5, took


def test_a_login_that_queued_max_wait_is_answered_429_not_left_to_time_out(
        tmp_path: Path, paper_source: Path, database_url: str) -> None:
    with live_server(tmp_path / "data", demo_paper=paper_source, start_in_s=-60,
                     login_slots=1, login_max_wait_s=0.5,
                     database_url=database_url or None) as live:
        assert live.demo is not None
        # Logins waiting for the busy hashing thread hold the gate's places as long as the
        # block lasts; the gate's estimate of a login's time (0.1 s at start) still lets
        # others queue.
        with login_gate_full(live):
            started = time.monotonic()
            queued = requests.post(live.api("/login"), timeout=5, json={
                "username": live.demo.username, "password": live.demo.password})
            took = time.monotonic() - started
    assert queued.status_code == 429, queued.text
    assert int(queued.headers["Retry-After"]) >= 1
    assert 0.4 <= took < 3.0, took  # it queued max_wait_s, then was told when to come back


# -- a PC coming back with its token does not hash again ---------------------------------

def test_a_pc_with_its_valid_token_logs_in_again_without_the_password_hash(
        tmp_path: Path, paper_source: Path, database_url: str) -> None:
    with live_server(tmp_path / "data", demo_paper=paper_source, start_in_s=-60,
                     database_url=database_url or None) as live:
        assert live.demo is not None
        person = live.demo.candidates[0]

        def login(password: str, client_id: str, resume_token: str = "") -> requests.Response:
            return requests.post(live.api("/login"), timeout=30, json={
                "username": person.student_no, "password": password,
                "client_id": client_id, "resume_token": resume_token})

        first = login(person.password, "pc-a")
        assert first.status_code == 200, first.text
        token = first.json()["token"]
        # From here no password can verify: a login that still hashed would fail.
        (candidate,) = live.db.candidates_by_username(person.student_no)
        live.db.update_candidate(candidate.id, password_hash="not-an-argon2-hash")
        again = login("", "pc-a", resume_token=token)
        assert again.status_code == 200, again.text
        assert again.json()["attempt"]["login_kind"] == "same_client"
        renewed = again.json()["token"]
        # Only the PC the token was issued to, and only while the token is valid.
        assert login("", "pc-b", resume_token=renewed).status_code == 401
        assert login("", "pc-a", resume_token="made-up").status_code == 401
        other = live.demo.candidates[1]
        stranger = requests.post(live.api("/login"), timeout=30, json={
            "username": other.student_no, "password": "", "client_id": "pc-a",
            "resume_token": renewed})
        assert stranger.status_code == 401
        # A take-over by another PC revokes pc-a's tokens (what its login does):
        # from then on pc-a needs the password again.
        held = live.db.resolve_token(renewed, now_ms=live.clock.now_ms())
        assert held is not None and held.attempt_id is not None
        assert live.db.revoke_other_tokens(attempt_id=held.attempt_id,
                                           keep_client_id="pc-c").count >= 1
        assert login("", "pc-a", resume_token=renewed).status_code == 401


# -- the cap under `serve --workers 2` -----------------------------------------------------

def _demo(data: Path, database_url: str, paper_source: Path) -> DemoInfo:
    ctx = context_for_data_dir(data, database_url=database_url)
    try:
        info = install_demo(settings=ctx.settings, db=ctx.db, keys=ctx.keys, clock=ctx.clock,
                            start_in_s=-60, duration_s=3600, paper_source=paper_source)
        (candidate,) = ctx.db.candidates_by_username(info.username)
        ctx.db.update_candidate(candidate.id, password_hash=SLOW_HASH)
        return info
    finally:
        ctx.db.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serve_two_workers(data: Path, port: int, database_url: str) -> Iterator[list[int]]:
    """`exam-server serve --workers 2` with one hashing thread per worker; yields the pids
    of the two workers (the children listening on the port) once both are up."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "EXAM_SERVER_DATABASE_URL": database_url,
           "EXAM_SERVER_LOGIN_SLOTS": "1", "EXAM_SERVER_LOGIN_MAX_WAIT_S": "60"}
    for name in ("EXAM_SERVER_DATA", "EXAM_SERVER_WORKERS", "EXAM_SERVER_TRUST_PROXY"):
        env.pop(name, None)  # only `serve` itself sets these for its workers
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--data", str(data), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "serve exited"
            assert time.monotonic() < deadline, "serve did not start two workers"
            listening = []
            for child in psutil.Process(process.pid).children(recursive=True):
                try:
                    if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port
                           for c in child.net_connections(kind="tcp")):
                        listening.append(child.pid)
                except psutil.Error:
                    continue
            if len(listening) == 2:
                break
            time.sleep(0.1)
        deadline = time.monotonic() + 60
        while True:  # both have finished starting when the port answers
            try:
                requests.get(f"http://127.0.0.1:{port}/api/v1/time", timeout=2)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "serve never answered"
                time.sleep(0.2)
        yield listening
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# Slow by nature (~8-12 s: the supervisor and two spawned workers start); the cap per
# worker can only be seen on the farm as deployed.
@pytest.mark.slow
def test_each_of_two_workers_hashes_on_one_low_priority_thread(
        tmp_path: Path, paper_source: Path, database_url: str) -> None:
    data = tmp_path / "data"
    url = database_url or f"sqlite:///{(data / 'server.db').as_posix()}"
    demo = _demo(data, url, paper_source)
    port = _free_port()
    with _serve_two_workers(data, port, url) as workers:
        assert len(workers) == 2, workers
        base_nice = {pid: psutil.Process(pid).nice() for pid in workers}
        peak = dict.fromkeys(workers, 0)
        with ThreadPoolExecutor(max_workers=12) as pool:
            logins = [pool.submit(_wrong_login, f"http://127.0.0.1:{port}", demo.username)
                      for _ in range(12)]
            while not all(login.done() for login in logins):
                for pid in workers:
                    lowered = sum(1 for nice in _nice_of_threads(pid)
                                  if nice == min(19, base_nice[pid] + NICE_INCREMENT))
                    peak[pid] = max(peak[pid], lowered)
                time.sleep(0.02)
            statuses = [login.result().status_code for login in logins]
    assert statuses == [401] * 12, statuses
    # Hashes ran on lowered-priority threads, never more than one per worker.
    assert max(peak.values()) == 1 and sum(peak.values()) >= 1, peak
