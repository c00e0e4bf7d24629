"""The reference server under N candidates who sync their answers every few seconds.

The server runs as its own process (``exam-server serve``, uvicorn, SQLite in WAL mode),
as in an exam center; this process plays N candidates with asyncio + httpx. Each
candidate holds a keep-alive connection and every ``--interval`` seconds (with jitter,
as the client's pusher does) POSTs a batch of 1-3 new revisions to /api/v1/attempt/answers.
Candidates, registrations, attempts and tokens are written straight into the database
beforehand, so the figures measure answer sync, not argon2 logins.

Printed per N: requests/s offered (N / interval) and served (completed over the level,
which includes a ramp of up to one interval while candidates start), latency
p50/p99/max, errors, the server's CPU per request and share of a core (the load
generator shares the machine), and the ratios against the first N and against a
baseline measured in the same run (one candidate, so the server's floor latency).

    python benchmarks/sync.py [--candidates 100,1000] [--interval 3] [--duration 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.auth import CANDIDATE
from server.clock import SystemClock
from server.config import ServerSettings
from server.db import Database
from server.demo import DEMO_CENTER_ID, DEMO_EXAM_ID, install_demo
from server.keys import ensure_keys
from server.passwords import hash_password

QUESTIONS = [f"q{i}" for i in range(1, 9)]


@dataclass
class Figures:
    candidates: int
    requests: int
    errors: int
    seconds: float
    offered_per_s: float
    latencies_ms: list[float]
    server_cpu_s: float = 0.0  # CPU time the server process used during the level
    client_cpu_s: float = 0.0  # CPU time this load generator used (same 2 cores)

    @property
    def served_per_s(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def prepare(data_dir: Path, count: int) -> list[str]:
    """Demo exam running now, *count* registered candidates, a token each."""
    settings = ServerSettings.load(data_dir)
    keys = ensure_keys(data_dir)
    db = Database(settings.effective_database_url)
    db.init_schema()
    clock = SystemClock()
    info = install_demo(settings=settings, db=db, keys=keys, clock=clock, start_in_s=-60,
                        duration_s=4 * 3600)
    shared_hash = hash_password("bench-password")  # one hash: logins are not measured
    tokens = []
    now = clock.now_ms()
    for n in range(count):
        candidate_id = db.insert_candidate(student_no=f"B{n:07d}", id_number=f"ID{n:016d}",
                                           name=f"考生{n}", center_id=DEMO_CENTER_ID,
                                           password_hash=shared_hash)
        db.register(exam_id=DEMO_EXAM_ID, candidate_id=candidate_id)
        attempt = db.open_attempt(exam_id=DEMO_EXAM_ID, candidate_id=candidate_id, now_ms=now)
        token = secrets.token_urlsafe(32)
        db.store_token(token, kind=CANDIDATE, candidate_id=candidate_id, attempt_id=attempt.id,
                       client_id=f"bench-{n}", created_at_ms=now, expires_ms=info.end_ms)
        tokens.append(token)
    db.close()
    return tokens


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--data", str(data_dir), "--host",
         "127.0.0.1", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/time", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


async def candidate(client: httpx.AsyncClient, url: str, token: str, *, interval: float,
                     until: float, rng: random.Random, out: list[float],
                     errors: list[int]) -> None:
    revisions = dict.fromkeys(QUESTIONS, 0)
    headers = {"Authorization": f"Bearer {token}"}
    await asyncio.sleep(rng.uniform(0, interval))  # candidates do not start in step
    while time.monotonic() < until:
        batch = []
        for question in rng.sample(QUESTIONS, rng.randint(1, 3)):
            revisions[question] += 1
            batch.append({"question_id": question, "revision": revisions[question],
                          "value": rng.choice("ABCD"), "client_time_ms": None})
        started = time.perf_counter()
        try:
            response = await client.post(url, json={"answers": batch}, headers=headers)
            if response.status_code != 200:
                errors.append(response.status_code)
        except httpx.HTTPError:
            errors.append(0)
        out.append((time.perf_counter() - started) * 1000)
        # The pusher's cadence: the interval, jittered so that a room does not beat in step.
        await asyncio.sleep(rng.uniform(0.8, 1.2) * interval)


async def run_load(port: int, tokens: list[str], *, interval: float,
                   duration: float) -> Figures:
    url = f"http://127.0.0.1:{port}/api/v1/attempt/answers"
    latencies: list[float] = []
    errors: list[int] = []
    # One client (one keep-alive connection) per candidate, as each PC has its own: a
    # shared pool of 1000 connections costs the load generator more than the server.
    # One TLS context for all (plain HTTP here; httpx would build one per client).
    tls = ssl.create_default_context()
    clients = [httpx.AsyncClient(limits=httpx.Limits(max_connections=1), timeout=30.0,
                                 verify=tls) for _ in tokens]
    started = time.monotonic()
    until = started + duration
    try:
        await asyncio.gather(*(
            candidate(client, url, token, interval=interval, until=until,
                      rng=random.Random(n), out=latencies, errors=errors)
            for n, (client, token) in enumerate(zip(clients, tokens, strict=True))))
    finally:
        seconds = time.monotonic() - started
        for client in clients:
            await client.aclose()
    return Figures(candidates=len(tokens), requests=len(latencies), errors=len(errors),
                   seconds=seconds, offered_per_s=len(tokens) / interval,
                   latencies_ms=latencies)


def measured(server: subprocess.Popen[bytes], port: int, tokens: list[str], *,
             interval: float, duration: float) -> Figures:
    """One load level, with the CPU time of the server process and of this process."""
    process = psutil.Process(server.pid)
    server_before = sum(process.cpu_times()[:2])
    client_before = time.process_time()
    figures = asyncio.run(run_load(port, tokens, interval=interval, duration=duration))
    figures.server_cpu_s = sum(process.cpu_times()[:2]) - server_before
    figures.client_cpu_s = time.process_time() - client_before
    return figures


def report(figures: Figures, *, first: Figures | None, baseline: Figures) -> None:
    p50, p99 = figures.pct(0.50), figures.pct(0.99)
    line = (f"N={figures.candidates:>5}: offered {figures.offered_per_s:7.1f} req/s, "
            f"served {figures.served_per_s:7.1f} req/s, p50 {p50:7.1f} ms, "
            f"p99 {p99:7.1f} ms, max {max(figures.latencies_ms):7.1f} ms, "
            f"errors {figures.errors}, server CPU "
            f"{figures.server_cpu_s * 1000 / max(1, figures.requests):.1f} ms/req "
            f"({figures.server_cpu_s / figures.seconds:.0%} of a core), load generator "
            f"{figures.client_cpu_s / figures.seconds:.0%} of a core")
    line += f"; p50 x{p50 / baseline.pct(0.5):.1f}, p99 x{p99 / baseline.pct(0.99):.1f} vs N=1"
    if first is not None and first is not figures:
        grow = figures.candidates / first.candidates
        line += (f"; vs N={first.candidates}: N x{grow:g}, served "
                 f"x{figures.served_per_s / first.served_per_s:.1f}, "
                 f"p99 x{p99 / first.pct(0.99):.1f}")
    print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", default="100,1000")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between syncs")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per load level")
    args = parser.parse_args()
    levels = [int(n) for n in args.candidates.split(",")]
    print(f"sync benchmark: interval {args.interval:g} s, {args.duration:g} s per level, "
          f"{os.cpu_count()} CPUs, server = exam-server serve (uvicorn, SQLite WAL)")
    first: Figures | None = None
    for count in levels:
        with tempfile.TemporaryDirectory(prefix="sync-bench-") as folder:
            data_dir = Path(folder)
            tokens = prepare(data_dir, count)
            port = free_port()
            server = start_server(data_dir, port)
            try:
                baseline = measured(server, port, tokens[:1], interval=0.05,
                                    duration=min(5.0, args.duration))
                figures = measured(server, port, tokens, interval=args.interval,
                                   duration=args.duration)
            finally:
                server.terminate()
                server.wait(timeout=15)
        if first is None:
            first = figures
            print(f"baseline N=1 (one candidate syncing back to back): "
                  f"p50 {baseline.pct(0.5):.1f} ms, p99 {baseline.pct(0.99):.1f} ms, "
                  f"{baseline.served_per_s:.0f} req/s, server CPU "
                  f"{baseline.server_cpu_s * 1000 / max(1, baseline.requests):.1f} ms/req")
        report(figures, first=first, baseline=baseline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
