"""The reference server through a modelled exam: logins, answer uploads, submissions.

The server runs as its own processes (``exam-server serve --workers W``), as in an exam
center, once on SQLite (one worker) and once on PostgreSQL (several workers; a throwaway
cluster from scripts/postgres_temp.sh unless --postgres-url is given). This process plays
N candidates with asyncio + aiohttp, one keep-alive connection each, as each PC has its own:

1. **logins**: every candidate logs in once, at a random moment of the login window
   (``--login-window``, default 20 s: a hall within a minute), with the client's 10 s
   timeout; a 429 is retried after its Retry-After, as the candidate clicks again. Who is
   logged in starts uploading at once, so uploads are measured while logins run.
2. **exam**: each candidate uploads 1-3 new revisions every ``--interval`` seconds
   (the pusher's cadence: one request per interval, jittered by +-25 %).
3. **submit**: every candidate sends its last revisions and submits within
   ``--submit-window`` seconds (the end of the exam, when everyone submits at once).

Per engine and N it prints, per phase: requests/s, latency p50/p99/max, errors; how long
the logins took and the longest upload during them (the targets: 1000 logins within 30 s,
no upload stalled over 1 s; uploads p99 <= 100 ms with 0 errors on PostgreSQL at N=1000);
and the server's CPU per upload (workers + database processes) with what 10,000
candidates would need. The load generator shares the machine (its CPU is printed too).

With ``--baseline-ref REF`` (e.g. ``main``) each level runs twice, first with the server
code of that commit (``git archive`` into a temp folder) and then with this tree's, so a
change is compared with the code before it on the same machine at the same time.

The load generator shares the cores with the server it measures, so it is made cheap:
aiohttp (about a third of httpx's CPU per request, which cost as much as the server's own
handling) on uvloop when installed; its own CPU per request is printed apart from the
server's.

Same-run baselines, since the machine may be shared: a trivial endpoint (GET
/api/v1/time) at the same N and offered rate (its p99 is the floor the uploads' p99 sits
on), the raw rate of that endpoint with 32 connections back to back, and the server's CPU
ms per upload, per trivial request and per login-phase request (load-independent), with
the cores the targets need, and the load average.

    python benchmarks/sync.py [--candidates 100,1000] [--engines sqlite,postgresql]
        [--workers 2] [--interval 3] [--duration 20] [--login-window 20]
        [--baseline-seconds 5] [--baseline-ref main]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiohttp
import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# The server code: this tree, or a baseline commit's (prepare_for runs this file there).
sys.path.insert(0, os.environ.get("SYNC_BENCH_SERVER_CODE") or
                str(Path(__file__).resolve().parents[1]))

from server import schema as t
from server.clock import SystemClock
from server.config import ServerSettings
from server.context import ServerContext
from server.db import Database
from server.demo import DEMO_CENTER_ID, DEMO_EXAM_ID, install_demo
from server.keys import ensure_keys
from server.passwords import hash_password

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password"
CLIENT_TIMEOUT_S = 10.0  # client/sync/api.py's read timeout for a login
PROJECT_TO = 10_000
T = TypeVar("T")


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """Run the load generator's coroutine, on uvloop when installed (less CPU per request,
    and the generator shares the cores with the server it measures)."""
    try:
        import uvloop
    except ImportError:
        loop_factory = None
    else:
        loop_factory = uvloop.new_event_loop

    async def call() -> T:
        return await main()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(call())


@contextlib.contextmanager
def server_code(ref: str) -> Iterator[Path]:
    """This tree (ref ""), or the tree of commit *ref* unpacked into a temp folder."""
    if not ref:
        yield ROOT
        return
    with tempfile.TemporaryDirectory(prefix="sync-bench-code-") as folder:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        yield Path(folder)


@dataclass
class Phase:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0

    def record(self, ms: float) -> None:
        self.latencies_ms.append(ms)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def line(self) -> str:
        seconds = max(1e-9, self.ended - self.started)
        worst = max(self.latencies_ms, default=float("nan"))
        errors = sum(self.errors.values())
        kinds = f" {self.errors}" if self.errors else ""
        rate = len(self.latencies_ms) / seconds
        return (f"{self.name:<22} {len(self.latencies_ms):>6} req {rate:7.1f} req/s  "
                f"p50 {self.pct(0.5):7.1f} ms  p99 {self.pct(0.99):7.1f} ms  "
                f"max {worst:7.1f} ms  errors {errors}{kinds}")


@dataclass
class Run:
    logins: Phase = field(default_factory=lambda: Phase("logins"))
    uploads_during_logins: Phase = field(
        default_factory=lambda: Phase("uploads during logins"))
    uploads: Phase = field(default_factory=lambda: Phase("uploads (exam)"))
    submits: Phase = field(default_factory=lambda: Phase("final upload + submit"))
    heartbeats: Phase = field(default_factory=lambda: Phase("heartbeats (all phases)"))
    login_retries_429: int = 0
    exam_heartbeats: int = 0  # heartbeats sent during the exam phase (its CPU figure)
    generator_exam_s: float = 0.0  # the load generator's own CPU in the exam phase
    logged_in_at: list[float] = field(default_factory=list)


# -- setup ---------------------------------------------------------------------------------

def fresh_postgres_database(admin_url: str) -> str:
    name = f"exam_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def prepare(data_dir: Path, count: int, database_url: str) -> tuple[list[str], list[str]]:
    """Demo exam running now, *count* registered candidates; their usernames and the
    paper's question ids."""
    settings = ServerSettings.load(data_dir, database_url=database_url)
    keys = ensure_keys(data_dir)
    db = Database(settings.effective_database_url)
    db.init_schema()
    clock = SystemClock()
    install_demo(settings=settings, db=db, keys=keys, clock=clock, start_in_s=-60,
                 duration_s=4 * 3600)
    shared_hash = hash_password(PASSWORD)  # one hash made here; every login verifies it
    usernames = [f"B{n:07d}" for n in range(count)]
    with db.write() as conn:
        conn.execute(t.candidates.insert(), [
            {"student_no": u, "id_number": f"ID{n:016d}", "name": f"考生{n}",
             "center_id": DEMO_CENTER_ID, "password_hash": shared_hash}
            for n, u in enumerate(usernames)])
        ids = conn.execute(t.candidates.select().with_only_columns(t.candidates.c.id)
                           .where(t.candidates.c.student_no.in_(usernames))).scalars().all()
        conn.execute(t.registrations.insert(),
                     [{"exam_id": DEMO_EXAM_ID, "candidate_id": i} for i in ids])
    ctx = ServerContext.build(settings=settings, db=db, keys=keys, clock=clock)
    exam = db.get_exam(DEMO_EXAM_ID)
    assert exam is not None
    questions = sorted(ctx.papers.question_ids(exam))
    db.close()
    return usernames, questions


def prepare_for(code: Path, data_dir: Path, count: int,
                database_url: str) -> tuple[list[str], list[str]]:
    """prepare() with the server code that will serve it: a baseline commit may have an
    older schema, which its server would refuse to open if this tree made it."""
    if code == ROOT:
        return prepare(data_dir, count, database_url)
    out = subprocess.run(
        [sys.executable, __file__, "--prepare", str(data_dir), str(count), database_url],
        env={**os.environ, "SYNC_BENCH_SERVER_CODE": str(code)}, check=True,
        capture_output=True, text=True).stdout
    made = json.loads(out.splitlines()[-1])
    return made["usernames"], made["questions"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int, *, workers: int, database_url: str,
                 code: Path = ROOT) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(code), "EXAM_SERVER_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--data", str(data_dir), "--host",
         "127.0.0.1", "--port", str(port), "--workers", str(workers)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/time", timeout=1):
                pass
            time.sleep(1.0 if workers > 1 else 0)  # let every worker come up
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


class CpuMeter:
    """CPU seconds of a process tree (the server's workers, or the database's backends)."""

    def __init__(self, root_pid: int | None) -> None:
        self.root = psutil.Process(root_pid) if root_pid else None
        self._seen: dict[int, float] = {}

    def _now(self) -> dict[int, float]:
        if self.root is None:
            return {}
        found = {}
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                times = process.cpu_times()
                found[process.pid] = times.user + times.system
            except psutil.Error:
                continue
        return found

    def start(self) -> None:
        self._seen = self._now()

    def seconds(self) -> float:
        now = self._now()
        return sum(v - self._seen.get(pid, 0.0) for pid, v in now.items())


def postmaster_pid(database_url: str) -> int | None:
    if not database_url.startswith("postgresql"):
        return None
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            # Asked while the connection is open: its backend exits once it is closed.
            return int(psutil.Process(backend).ppid())
    finally:
        engine.dispose()


# -- the modelled exam ---------------------------------------------------------------------

class RequestFailed(Exception):
    """No HTTP answer: a timeout or a connection error (its kind is the message)."""


@dataclass(frozen=True)
class Reply:
    status: int
    retry_after: str | None
    body: object


class Connection:
    """One PC's HTTP client: one keep-alive connection, the client's 30 s timeout."""

    def __init__(self, base_url: str, tls: ssl.SSLContext) -> None:
        self.base_url = base_url
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1, ssl=tls),
            timeout=aiohttp.ClientTimeout(total=30.0))

    async def request(self, method: str, path: str, *, body: object = None, token: str = "",
                      timeout: float | None = None) -> Reply:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            async with self.session.request(
                    method, self.base_url + path, json=body, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=timeout) if timeout else None,
            ) as response:
                payload = await response.json(content_type=None)
                return Reply(response.status, response.headers.get("Retry-After"), payload)
        except TimeoutError as exc:
            raise RequestFailed("timeout") from exc
        except aiohttp.ClientError as exc:
            raise RequestFailed(type(exc).__name__) from exc

    async def close(self) -> None:
        await self.session.close()


class Candidate:
    def __init__(self, username: str, n: int, questions: list[str], base_url: str,
                 tls: ssl.SSLContext) -> None:
        self.username = username
        self.rng = random.Random(n)
        self.questions = questions
        self.revisions = dict.fromkeys(questions, 0)
        self.client = Connection(base_url, tls)
        self.token = ""

    def batch(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for question in self.rng.sample(self.questions, self.rng.randint(1, 3)):
            self.revisions[question] += 1
            out.append({"question_id": question, "revision": self.revisions[question],
                        "value": self.rng.choice("ABCD"), "client_time_ms": None})
        return out

    async def login(self, run: Run) -> bool:
        while True:
            started = time.perf_counter()
            try:
                response = await self.client.request(
                    "POST", "/api/v1/login", timeout=CLIENT_TIMEOUT_S,
                    body={"username": self.username, "password": PASSWORD,
                          "center_id": DEMO_CENTER_ID, "client_id": f"pc-{self.username}"})
            except RequestFailed as exc:
                run.logins.error(str(exc))
                return False
            run.logins.record((time.perf_counter() - started) * 1000)
            if response.status == 429:
                run.login_retries_429 += 1
                await asyncio.sleep(float(response.retry_after or "1")
                                    * self.rng.uniform(1.0, 1.3))
                continue
            if response.status != 200 or not isinstance(response.body, dict):
                run.logins.error(str(response.status))
                return False
            self.token = response.body["token"]
            run.logged_in_at.append(time.monotonic())
            return True

    async def upload(self, phase: Phase) -> None:
        started = time.perf_counter()
        try:
            response = await self.client.request(
                "POST", "/api/v1/attempt/answers", body={"answers": self.batch()},
                token=self.token)
            if response.status != 200:
                phase.error(str(response.status))
        except RequestFailed as exc:
            phase.error(str(exc))
        phase.record((time.perf_counter() - started) * 1000)

    async def heartbeat(self, phase: Phase) -> None:
        started = time.perf_counter()
        try:
            response = await self.client.request(
                "POST", "/api/v1/attempt/heartbeat", body={"focus_losses": 0, "pending": 0},
                token=self.token)
            if response.status != 200:
                phase.error(str(response.status))
        except RequestFailed as exc:
            phase.error(str(exc))
        phase.record((time.perf_counter() - started) * 1000)

    async def submit(self, phase: Phase) -> None:
        await self.upload(phase)
        started = time.perf_counter()
        try:
            response = await self.client.request(
                "POST", "/api/v1/attempt/submit", body={"answered_count": len(self.questions)},
                token=self.token)
            if response.status != 200:
                phase.error(str(response.status))
        except RequestFailed as exc:
            phase.error(str(exc))
        phase.record((time.perf_counter() - started) * 1000)


@dataclass
class Schedule:
    """When the exam phase runs: it starts once every login has finished (plus one
    interval, so that the last logins' first uploads are in), whenever that is."""

    exam_from: float = float("inf")
    exam_until: float = float("inf")
    logins_left: int = 0
    logins_done: asyncio.Event = field(default_factory=asyncio.Event)

    def login_finished(self) -> None:
        self.logins_left -= 1
        if self.logins_left == 0:
            self.logins_done.set()


async def beat(candidate: Candidate, run: Run, schedule: Schedule, every: float) -> None:
    """The client's heartbeat (client/sync/heartbeat.py), jittered, until the end."""
    while True:
        await asyncio.sleep(every * candidate.rng.uniform(0.75, 1.25))
        if time.monotonic() >= schedule.exam_until:
            return
        sent = time.monotonic()
        await candidate.heartbeat(run.heartbeats)
        if schedule.exam_from <= sent < schedule.exam_until:
            run.exam_heartbeats += 1


async def play(candidate: Candidate, run: Run, schedule: Schedule, *, login_at: float,
               submit_offset: float, interval: float, heartbeat: float) -> None:
    await asyncio.sleep(max(0.0, login_at - time.monotonic()))
    ok = await candidate.login(run)
    schedule.login_finished()
    if not ok:
        return
    beating = (asyncio.create_task(beat(candidate, run, schedule, heartbeat))
               if heartbeat > 0 else None)
    # The pusher's first upload comes one jittered interval after the start.
    next_upload = time.monotonic() + interval * candidate.rng.uniform(0.75, 1.25)
    while True:
        wait = next_upload - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        now = time.monotonic()
        if now >= schedule.exam_until:
            break
        phase = run.uploads_during_logins if now < schedule.exam_from else run.uploads
        await candidate.upload(phase)
        next_upload += interval * candidate.rng.uniform(0.75, 1.25)
        if next_upload > schedule.exam_until:
            await asyncio.sleep(max(0.0, schedule.exam_until - time.monotonic()))
            break
    await asyncio.sleep(max(0.0, schedule.exam_until + submit_offset - time.monotonic()))
    await candidate.submit(run.submits)
    if beating is not None:
        beating.cancel()


async def baseline_cpu(base_url: str, username: str, questions: list[str],
                       meters: list[CpuMeter], requests: int = 300) -> tuple[float, Phase]:
    """Server CPU per upload, one candidate back to back (no queueing, no contention
    between requests): the figure to project from."""
    tls = ssl.create_default_context()
    candidate = Candidate(username, 0, questions, base_url, tls)
    phase = Phase("baseline (1 candidate)")
    try:
        await candidate.login(Run())
        for _ in range(20):  # warm up caches and connections
            await candidate.upload(phase)
        phase = Phase("baseline (1 candidate)")
        for meter in meters:
            meter.start()
        phase.started = time.monotonic()
        for _ in range(requests):
            await candidate.upload(phase)
        phase.ended = time.monotonic()
        cpu = sum(meter.seconds() for meter in meters)
    finally:
        await candidate.client.close()
    return cpu * 1000 / requests, phase


async def trivial_at_same_rate(base_url: str, count: int, *, interval: float, seconds: float,
                               meters: list[CpuMeter]) -> tuple[Phase, float]:
    """The same N connections and offered rate, on a trivial endpoint (GET /api/v1/time):
    what this machine, as loaded right now, gives any request. Returns the phase and the
    server CPU ms per request."""
    tls = ssl.create_default_context()
    clients = [Connection(base_url, tls) for _ in range(count)]
    phase = Phase("trivial GET (same N)")
    rng = random.Random(1)
    try:
        await asyncio.gather(*(c.request("GET", "/api/v1/time") for c in clients))  # connect
        for meter in meters:
            meter.start()
        phase.started = time.monotonic()
        end = phase.started + seconds

        async def one(client: Connection) -> None:
            await asyncio.sleep(rng.uniform(0, interval))
            while time.monotonic() < end:
                started = time.perf_counter()
                try:
                    if (await client.request("GET", "/api/v1/time")).status != 200:
                        phase.error("status")
                except RequestFailed as exc:
                    phase.error(str(exc))
                phase.record((time.perf_counter() - started) * 1000)
                await asyncio.sleep(interval * rng.uniform(0.75, 1.25))

        await asyncio.gather(*(one(c) for c in clients))
        phase.ended = time.monotonic()
        cpu = sum(meter.seconds() for meter in meters)
    finally:
        for c in clients:
            await c.close()
    return phase, cpu * 1000 / max(1, len(phase.latencies_ms))


async def raw_rate(base_url: str, *, concurrency: int = 32, seconds: float = 3.0) -> Phase:
    """Closed loop on the trivial endpoint: the most requests/s the server serves now."""
    tls = ssl.create_default_context()
    clients = [Connection(base_url, tls) for _ in range(concurrency)]
    phase = Phase(f"trivial GET, {concurrency} back to back")
    try:
        phase.started = time.monotonic()
        end = phase.started + seconds

        async def loop(client: Connection) -> None:
            while time.monotonic() < end:
                started = time.perf_counter()
                try:
                    if (await client.request("GET", "/api/v1/time")).status != 200:
                        phase.error("status")
                except RequestFailed as exc:
                    phase.error(str(exc))
                phase.record((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(loop(c) for c in clients))
        phase.ended = time.monotonic()
    finally:
        for c in clients:
            await c.close()
    return phase


async def exam(base_url: str, usernames: list[str], questions: list[str], *,
               interval: float, duration: float, login_window: float,
               submit_window: float, heartbeat: float,
               meters: list[CpuMeter]) -> tuple[Run, float, float]:
    """Run the three phases; returns the figures and the CPU seconds of the login phase
    (uploads of those logged in included) and of the exam phase."""
    tls = ssl.create_default_context()  # one context for all (plain HTTP here)
    candidates = [Candidate(u, n, questions, base_url, tls) for n, u in enumerate(usernames)]
    run = Run()
    schedule = Schedule(logins_left=len(candidates))
    start = time.monotonic() + 0.5
    rng = random.Random(0)
    for phase in (run.logins, run.uploads_during_logins):
        phase.started = start
    cpu_exam = cpu_logins = 0.0
    for meter in meters:
        meter.start()

    async def conduct() -> None:
        nonlocal cpu_exam, cpu_logins
        await schedule.logins_done.wait()
        run.logins.ended = time.monotonic()
        cpu_logins = sum(meter.seconds() for meter in meters)
        schedule.exam_from = time.monotonic() + interval
        schedule.exam_until = schedule.exam_from + duration
        run.uploads_during_logins.ended = run.uploads.started = schedule.exam_from
        run.uploads.ended = run.submits.started = schedule.exam_until
        await asyncio.sleep(max(0.0, schedule.exam_from - time.monotonic()))
        for meter in meters:
            meter.start()
        generator_before = time.process_time()
        await asyncio.sleep(max(0.0, schedule.exam_until - time.monotonic()))
        cpu_exam = sum(meter.seconds() for meter in meters)
        run.generator_exam_s = time.process_time() - generator_before

    try:
        await asyncio.gather(conduct(), *(
            play(c, run, schedule, login_at=start + rng.uniform(0, login_window),
                 submit_offset=rng.uniform(0, submit_window), interval=interval,
                 heartbeat=heartbeat)
            for c in candidates))
    finally:
        for c in candidates:
            await c.client.close()
    run.submits.ended = run.heartbeats.ended = time.monotonic()
    run.heartbeats.started = start
    return run, cpu_logins, cpu_exam


def one_level(engine: str, count: int, *, workers: int, postgres_admin_url: str | None,
              args: argparse.Namespace, code: Path = ROOT, code_label: str = "") -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as folder:
        data_dir = Path(folder)
        database_url = (fresh_postgres_database(postgres_admin_url)
                        if engine == "postgresql" and postgres_admin_url else "")
        usernames, questions = prepare_for(code, data_dir, count, database_url)
        port = free_port()
        server = start_server(data_dir, port, workers=workers, database_url=database_url,
                              code=code)
        meters = [CpuMeter(server.pid), CpuMeter(postmaster_pid(database_url))]
        client_before = time.process_time()
        wall_before = time.monotonic()
        try:
            url = f"http://127.0.0.1:{port}"
            base_ms, base = run_async(lambda: baseline_cpu(url, usernames[-1], questions,
                                                           meters))
            run, cpu_logins, cpu_exam = run_async(lambda: exam(
                url, usernames, questions, interval=args.interval,
                duration=args.duration, login_window=args.login_window,
                submit_window=args.submit_window, heartbeat=args.heartbeat, meters=meters))
            trivial, trivial_ms = run_async(lambda: trivial_at_same_rate(
                url, count, interval=args.interval, seconds=args.baseline_seconds,
                meters=meters))
            raw = run_async(lambda: raw_rate(url))
        finally:
            server.terminate()
            server.wait(timeout=30)
        client_share = (time.process_time() - client_before) / (time.monotonic() - wall_before)
        load = os.getloadavg()
    label = f"{engine}, {workers} worker{'s' if workers > 1 else ''}{code_label}"
    print(f"\n== {label}, N={count} (offered {count / args.interval:.0f} uploads/s) ==")
    logged_in = len(run.logged_in_at)
    took = run.logins.ended - run.logins.started
    print("  " + base.line())
    stalls = sum(1 for ms in run.uploads_during_logins.latencies_ms if ms > 1000)
    print(f"logins: {logged_in}/{count} in {took:.1f} s (window {args.login_window:g} s), "
          f"429 retried {run.login_retries_429}; uploads during logins over 1 s: {stalls}")
    for phase in (run.logins, run.uploads_during_logins, run.uploads, run.submits,
                  run.heartbeats):
        print("  " + phase.line())
    # Same-run baselines: what any request gets on this machine as loaded right now.
    print("  " + trivial.line())
    print("  " + raw.line())
    # The exam phase's requests: its uploads and the heartbeats sent in it.
    served = len(run.uploads.latencies_ms) + run.exam_heartbeats
    per_upload_ms = cpu_exam * 1000 / max(1, served)
    # The login phase's CPU less its uploads (at the back-to-back figure), per login
    # request (a 429 costs next to nothing, so this is close to the cost of one login).
    login_cpu_ms = cpu_logins * 1000 - len(run.uploads_during_logins.latencies_ms) * base_ms
    per_login_ms = max(0.0, login_cpu_ms) / max(1, len(run.logins.latencies_ms))
    offered_10k = PROJECT_TO / args.interval
    beats_10k = PROJECT_TO / args.heartbeat if args.heartbeat > 0 else 0.0
    heartbeats_10k = f" + {beats_10k:.0f} heartbeats/s" if beats_10k else ""
    print(f"server CPU (workers + database): {base_ms:.2f} ms per upload one candidate back "
          f"to back, {per_upload_ms:.2f} ms per request in the exam phase (uploads and "
          f"heartbeats; sweeper and scoring included), {trivial_ms:.2f} ms per trivial GET, "
          f"{per_login_ms:.1f} ms per login request")
    offered = served / max(1e-9, args.duration)  # uploads and heartbeats per second
    need = [(offered_10k + beats_10k) * ms / 1000 for ms in (base_ms, per_upload_ms)]
    print(f"projection: N={count} needs {offered * per_upload_ms / 1000:.2f} cores for its "
          f"{offered:.0f} requests/s "
          f"of the {os.cpu_count()} here (p99 <= 100 ms wants under ~70 % busy, the load "
          f"generator included: it used {client_share:.0%} of a core); 1000 logins within 30 s "
          f"need {1000 / 30 * per_login_ms / 1000:.2f} cores; {PROJECT_TO:,} candidates "
          f"({offered_10k:.0f} uploads/s{heartbeats_10k}) need {min(need):.1f}-{max(need):.1f} "
          f"cores")
    generator_ms = run.generator_exam_s * 1000 / max(1, served)
    print(f"load generator (this process, not in the server's figures): "
          f"{run.generator_exam_s / max(1e-9, args.duration):.0%} of a core in the exam phase, "
          f"{generator_ms:.2f} ms per request")
    print(f"load average (1/5/15 min) before: {load_before[0]:.1f} {load_before[1]:.1f} "
          f"{load_before[2]:.1f}; after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)


def start_postgres() -> tuple[str, str]:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "postgres_temp.sh"), "start"],
                         check=True, capture_output=True, text=True).stdout
    values = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    return values["EXAM_PG_DIR"], values["EXAM_SERVER_TEST_POSTGRES_URL"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", default="100,1000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=2, help="workers on PostgreSQL")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between uploads")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of exam phase")
    parser.add_argument("--login-window", type=float, default=20.0)
    parser.add_argument("--submit-window", type=float, default=5.0)
    parser.add_argument("--heartbeat", type=float, default=12.0,
                        help="seconds between a client's heartbeats (0: none)")
    parser.add_argument("--baseline-seconds", type=float, default=5.0,
                        help="seconds of the trivial-endpoint baseline at the same N")
    parser.add_argument("--baseline-ref", default="",
                        help="also run each level with the server code of this git commit "
                        "first (e.g. main), as the same-run baseline of a change")
    parser.add_argument("--postgres-url", default=os.environ.get("EXAM_SERVER_TEST_POSTGRES_URL"),
                        help="an admin URL of a PostgreSQL server (default: a throwaway one)")
    parser.add_argument("--prepare", nargs=3, metavar=("DATA_DIR", "COUNT", "DATABASE_URL"),
                        help=argparse.SUPPRESS)  # prepare_for's child process
    args = parser.parse_args()
    if args.prepare:
        usernames, questions = prepare(Path(args.prepare[0]), int(args.prepare[1]),
                                       args.prepare[2])
        print(json.dumps({"usernames": usernames, "questions": questions}))
        return 0
    levels = [int(n) for n in args.candidates.split(",")]
    engines = args.engines.split(",")
    print(f"sync benchmark: {os.cpu_count()} CPUs (shared with the load generator and with "
          f"whatever else runs), interval {args.interval:g} s, logins within "
          f"{args.login_window:g} s, exam phase {args.duration:g} s, submits within "
          f"{args.submit_window:g} s")
    began = time.monotonic()
    cluster_dir = None
    admin_url = args.postgres_url
    if "postgresql" in engines and not admin_url:
        cluster_dir, admin_url = start_postgres()
    try:
        for engine in engines:
            for count in levels:
                workers = 1 if engine == "sqlite" else args.workers
                if args.baseline_ref:
                    with server_code(args.baseline_ref) as code:
                        one_level(engine, count, workers=workers, postgres_admin_url=admin_url,
                                  args=args, code=code,
                                  code_label=f", BASELINE {args.baseline_ref}")
                one_level(engine, count, workers=workers, postgres_admin_url=admin_url,
                          args=args, code_label=", this tree" if args.baseline_ref else "")
    finally:
        if cluster_dir:
            subprocess.run(["bash", str(ROOT / "scripts" / "postgres_temp.sh"), "stop",
                            cluster_dir], check=False)
    print(f"\nbenchmark took {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
