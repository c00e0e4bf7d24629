"""How fast the invigilation console shows a room of 100 seats while the server is busy.

The server runs as its own process (``python -m server serve``, as in a center). This
process seats 100 candidates in one room and N more in other rooms, and, with asyncio +
httpx in a background thread, has every candidate but the probes upload answers at the
client's cadence (every --interval s, jittered), the sync benchmark's load. A headless
Chromium (Playwright, Debian's chromium) is logged into the console as the room's proctor.

A probe is one candidate saving an answer: the time from the server's 200 to the moment
the seat's tile in the browser shows it (answered count + 1). Probes run first with no
load (the baseline, same run) and then under load; p50/p95/max are printed against the
5 s target, with the server's upload latency and throughput during the loaded phase.

    python benchmarks/console.py [--candidates 1000] [--interval 3] [--probes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.auth import CANDIDATE
from server.clock import SystemClock
from server.config import ServerSettings
from server.console.accounts import create_account
from server.console.roles import Role
from server.console.seating import SeatRow, assign
from server.db import Database
from server.demo import DEMO_CENTER_ID, DEMO_EXAM_ID, install_demo
from server.keys import ensure_keys
from server.passwords import hash_password

ROOM = "第9考场"
ROOM_SIZE = 100
QUESTIONS = [f"q{i}" for i in range(1, 7)]  # the demo's objective items
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TARGET_S = 5.0


def prepare(data_dir: Path, *, others: int) -> tuple[list[tuple[int, str]], str]:
    """The demo exam running now; 100 seats in ROOM and *others* elsewhere, a token each.

    Returns [(candidate id, token)] with the room's seats first, and the proctor password.
    """
    settings = ServerSettings.load(data_dir)
    keys = ensure_keys(data_dir)
    db = Database(settings.effective_database_url)
    db.init_schema()
    clock = SystemClock()
    info = install_demo(settings=settings, db=db, keys=keys, clock=clock, start_in_s=-60,
                        duration_s=4 * 3600)
    shared_hash = hash_password("bench-password")  # logins are not what is measured
    now = clock.now_ms()
    people: list[tuple[int, str]] = []
    seats: list[SeatRow] = []
    for n in range(ROOM_SIZE + others):
        student_no = f"C{n:07d}"
        candidate_id = db.insert_candidate(student_no=student_no, id_number=f"CID{n:015d}",
                                           name=f"考生{n}", center_id=DEMO_CENTER_ID,
                                           password_hash=shared_hash)
        db.register(exam_id=DEMO_EXAM_ID, candidate_id=candidate_id)
        attempt = db.open_attempt(exam_id=DEMO_EXAM_ID, candidate_id=candidate_id, now_ms=now)
        token = secrets.token_urlsafe(32)
        db.store_token(token, kind=CANDIDATE, candidate_id=candidate_id, attempt_id=attempt.id,
                       client_id=f"bench-{n}", created_at_ms=now, expires_ms=info.end_ms)
        people.append((candidate_id, token))
        room = ROOM if n < ROOM_SIZE else f"第{10 + n // ROOM_SIZE}考场"
        seats.append(SeatRow(candidate=student_no, room=room, seat=str(n % ROOM_SIZE + 1)))
    assign(db, exam_id=DEMO_EXAM_ID, rows=seats)
    password = secrets.token_urlsafe(9)
    create_account(db, username="bench-proctor", display_name="压测监考", role=Role.PROCTOR,
                   center_id=DEMO_CENTER_ID, room=ROOM, password=password, now_ms=now)
    db.close()
    return people, password


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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/time", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


class Load:
    """Candidates uploading every *interval* s until stopped (in its own thread)."""

    def __init__(self, port: int, tokens: list[str], *, interval: float) -> None:
        self.url = f"http://127.0.0.1:{port}/api/v1/attempt/answers"
        self.tokens = tokens
        self.interval = interval
        self.latencies_ms: list[float] = []
        self.errors = 0
        self.started = 0.0
        self.stopped = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.stopped = time.monotonic()

    async def _one(self, token: str, rng: random.Random, tls: ssl.SSLContext) -> None:
        revisions = dict.fromkeys(QUESTIONS, 0)
        # One keep-alive connection per candidate, as each PC has its own.
        async with httpx.AsyncClient(timeout=30.0, verify=tls,
                                     limits=httpx.Limits(max_connections=1)) as client:
            await asyncio.sleep(rng.uniform(0, self.interval))
            while not self._stop.is_set():
                question = rng.choice(QUESTIONS)
                revisions[question] += 1
                began = time.perf_counter()
                try:
                    response = await client.post(self.url, headers={
                        "Authorization": f"Bearer {token}"}, json={"answers": [{
                            "question_id": question, "revision": revisions[question],
                            "value": rng.choice("ABCD"), "client_time_ms": None}]})
                    if response.status_code != 200:
                        self.errors += 1
                except httpx.HTTPError:
                    self.errors += 1
                self.latencies_ms.append((time.perf_counter() - began) * 1000)
                await asyncio.sleep(rng.uniform(0.8, 1.2) * self.interval)

    async def _run(self) -> None:
        # One TLS context for all: httpx would build one per client, which takes seconds
        # for a thousand clients (plain HTTP here anyway).
        tls = ssl.create_default_context()
        await asyncio.gather(*(self._one(token, random.Random(n), tls)
                               for n, token in enumerate(self.tokens)))


def probe(page: object, port: int, candidate_id: int, token: str) -> float:
    """Save one answer; seconds until the seat's tile in the browser shows it."""
    selector = f'.tile[data-candidate="{candidate_id}"]'
    before = page.inner_text(selector)  # type: ignore[attr-defined]
    answered = int(before.split("已答 ")[1].split(" ")[0])
    response = httpx.post(f"http://127.0.0.1:{port}/api/v1/attempt/answers", timeout=30,
                          headers={"Authorization": f"Bearer {token}"},
                          json={"answers": [{"question_id": QUESTIONS[answered],
                                             "revision": 1, "value": "A",
                                             "client_time_ms": None}]})
    response.raise_for_status()
    saved = time.monotonic()
    page.wait_for_function(  # type: ignore[attr-defined]
        "([sel, want]) => { const t = document.querySelector(sel);"
        " return t && t.innerText.includes(want); }",
        arg=[selector, f"已答 {answered + 1}"], timeout=60_000, polling=50)
    return time.monotonic() - saved


def line(label: str, seconds: list[float], baseline: list[float] | None = None) -> str:
    ordered = sorted(seconds)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    text = (f"{label}: {len(ordered)} probes, tile shows a save after p50 {p50:.2f} s, "
            f"p95 {p95:.2f} s, max {ordered[-1]:.2f} s (target <= {TARGET_S:.0f} s: "
            f"{'met' if ordered[-1] <= TARGET_S else 'MISSED'})")
    if baseline:
        text += f"; p50 x{p50 / statistics.median(baseline):.2f} vs no load"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, default=1000,
                        help="candidates uploading in all (the room's 100 included)")
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--probes", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="console-bench-") as scratch:
        data_dir = Path(scratch)
        people, password = prepare(data_dir, others=max(0, args.candidates - ROOM_SIZE))
        probes = people[:args.probes]
        loaders = [token for _, token in people[args.probes:]]
        port = free_port()
        server = start_server(data_dir, port)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(f"http://127.0.0.1:{port}/console/login")
                page.fill("#username", "bench-proctor")
                page.fill("#password", password)
                page.click("#login")
                page.wait_for_selector(".tile")
                tiles = page.locator(".tile").count()
                print(f"room: {tiles} seats in the proctor's browser; server: one process, "
                      f"SQLite; load: {len(loaders)} candidates every {args.interval:g} s",
                      flush=True)
                half = len(probes) // 2
                quiet = [probe(page, port, cid, token) for cid, token in probes[:half]]
                load = Load(port, loaders, interval=args.interval)
                load.start()
                while len(load.latencies_ms) < len(loaders):  # everyone is uploading
                    time.sleep(0.2)
                busy = []
                for cid, token in probes[half:]:
                    busy.append(probe(page, port, cid, token))
                    time.sleep(1.0)
                load.stop()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(line("no load (baseline)", quiet), flush=True)
    print(line(f"under load ({len(loaders)} uploading)", busy, quiet), flush=True)
    served = len(load.latencies_ms) / max(0.001, load.stopped - load.started)
    ordered = sorted(load.latencies_ms)
    if ordered:
        print(f"uploads meanwhile: {served:.0f} req/s served "
              f"(offered {len(loaders) / args.interval:.0f}), p50 "
              f"{ordered[len(ordered) // 2]:.0f} ms, p99 "
              f"{ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]:.0f} ms, "
              f"errors {load.errors}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
