"""Kill a writing process with SIGKILL at random instants; every acknowledged revision must
survive and the store must pass PRAGMA integrity_check after each kill.

    python -m tests.torture.run --kills 2000 [--seed N] [--dir DIR]

The pytest wrapper is tests/torture/test_torture_kills.py (200 kills by default).
SIGKILL loses everything the process had not handed to the kernel; the kernel's page cache
survives it. Every third kill is also a simulated power cut: the WAL (written at
synchronous=NORMAL, so partly only in that cache) loses a random part of what the writer
had not reported as flushed (``WALSYNC``), possibly all of it; the redo log (redo.py) must
then bring every acknowledged revision back, with no recovery needed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from client.store.backup import SnapshotPolicy
from client.store.paths import StorePaths, store_paths, wal_path
from client.store.recovery import open_or_recover
from client.store.redo import RedoKeys, read_log, redo_path_for
from tests.torture.writer_process import CANDIDATE_ID, EXAM_ID, digest

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_KILL_EVERY = 5
POWER_CUT_EVERY = 3
_WAL_HEADER = 32
_WAL_FRAME = 24 + 4096


class TortureFailure(AssertionError):
    pass


@dataclass
class TortureResult:
    kills: int = 0
    acked: int = 0  # distinct acknowledged revisions, all verified present
    revisions: int = 0  # revisions in the store at the end (acked or not)
    killed_before_ready: int = 0
    seconds: float = 0.0
    kill_delays_ms: list[float] = field(default_factory=list)
    last_round_revisions: int = 0
    power_cuts: int = 0
    wal_bytes_dropped: int = 0
    replayed: int = 0  # revisions the redo log put back after a simulated power cut

    def summary(self) -> str:
        return (
            f"{self.kills} kills, {self.acked} acknowledged revisions all present, "
            f"{self.revisions} revisions in store, integrity ok and the redo log "
            f"covering every acknowledged revision after every kill "
            f"({self.killed_before_ready} kills before the store was open); "
            f"{self.power_cuts} of them simulated power cuts that dropped "
            f"{self.wal_bytes_dropped // 1024} KiB of unflushed WAL, {self.replayed} "
            f"revisions put back from the redo log, never a recovery; {self.seconds:.0f} s"
        )


def torture(*, kills: int, workdir: Path, seed: int = 0, max_delay_s: float = 0.4,
            rotate_every: int = 250, progress: bool = False) -> TortureResult:
    """*rotate_every*: start a fresh store after that many kills, so a long run keeps the
    store at an exam's size (a few thousand revisions) instead of growing without end."""
    rng = random.Random(seed)
    key = rng.randbytes(32)
    expected: dict[tuple[str, int], str] = {}
    result = TortureResult()
    started = time.monotonic()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get(
        "PYTHONPATH", ""))
    for cycle in range(kills):
        if cycle % rotate_every == 0:
            result.acked += len(expected)
            result.last_round_revisions = 0
            expected = {}
            data_dir = workdir / f"round-{cycle // rotate_every:03d}"
            paths = store_paths(data_dir, exam_id=EXAM_ID, candidate_id=CANDIDATE_ID)
        log_path = workdir / "writer-output.txt"
        with open(log_path, "wb") as output:
            # A file, not a pipe: a full pipe would stall the writer between kills.
            child = subprocess.Popen(
                [sys.executable, "-m", "tests.torture.writer_process",
                 "--data-dir", str(data_dir), "--key-hex", key.hex(),
                 "--seed", str(seed * 1_000_003 + cycle)],
                cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.PIPE,
            )
        try:
            if cycle % STARTUP_KILL_EVERY == 0:
                # Every few cycles: kill while the store is being opened, created or checked.
                delay = rng.uniform(0.0, 0.3)
            else:
                _wait_for_ready(log_path, child)
                delay = rng.uniform(0.0, max_delay_s)
            time.sleep(delay)
        finally:  # also when the harness fails: never leave a writer running
            child.send_signal(signal.SIGKILL)
        _, err = child.communicate()
        out = log_path.read_bytes()
        if child.returncode != -signal.SIGKILL:
            raise TortureFailure(
                f"cycle {cycle}: writer exited by itself ({child.returncode}): "
                f"{err.decode(errors='replace')[-2000:]}")
        lines = out.decode("utf-8", errors="replace").split("\n")[:-1]  # drop a torn line
        if "READY" not in lines:
            result.killed_before_ready += 1
        flushed = 0
        for line in lines:
            parts = line.split()
            if parts and parts[0] == "WALSYNC":
                flushed = int(parts[1])
            if parts and parts[0] in ("ERR", "MISMATCH"):
                raise TortureFailure(f"cycle {cycle}: writer reported {line}")
            if parts and parts[0] == "ACK":
                expected[(parts[1], int(parts[2]))] = parts[3]
        if cycle % POWER_CUT_EVERY == POWER_CUT_EVERY - 1:
            _power_cut(paths, flushed=flushed, rng=rng, result=result)
        result.kills += 1
        result.kill_delays_ms.append(delay * 1000)
        _verify(paths, key=key, expected=expected, cycle=cycle, result=result)
        if progress and (cycle + 1) % 50 == 0:
            print(f"  {cycle + 1} kills, {result.acked + len(expected)} acked, "
                  f"{time.monotonic() - started:.0f} s", flush=True)
    result.acked += len(expected)
    result.seconds = time.monotonic() - started
    return result


def _power_cut(paths: StorePaths, *, flushed: int, rng: random.Random,
               result: TortureResult) -> None:
    """Throw away a random part of the WAL beyond what was reported flushed."""
    result.power_cuts += 1
    wal = wal_path(paths.db)
    if not wal.exists():
        return
    size = wal.stat().st_size
    if size < _WAL_HEADER:
        return
    frames = (size - _WAL_HEADER) // _WAL_FRAME
    must_keep = 0 if flushed <= _WAL_HEADER else -(-(flushed - _WAL_HEADER) // _WAL_FRAME)
    keep = rng.randint(min(must_keep, frames), frames)
    if keep == 0 and flushed == 0 and rng.random() < 0.5:
        wal.unlink()  # not even the header had reached the disk
        result.wal_bytes_dropped += size
        return
    os.truncate(wal, _WAL_HEADER + keep * _WAL_FRAME)
    result.wal_bytes_dropped += size - (_WAL_HEADER + keep * _WAL_FRAME)


def _wait_for_ready(log_path: Path, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while b"READY\n" not in log_path.read_bytes().split(b"ACK", 1)[0]:
        if child.poll() is not None or time.monotonic() > deadline:
            raise TortureFailure("writer did not start: " + log_path.read_text(errors="replace"))
        time.sleep(0.005)


def _verify(paths: StorePaths, *, key: bytes, expected: dict[tuple[str, int], str],
            cycle: int, result: TortureResult) -> None:
    # As the kill left it: opening the store starts the log over.
    log = read_log(redo_path_for(paths.db), RedoKeys(key))
    store, report = open_or_recover(paths, key=key, snapshot_policy=SnapshotPolicy())
    try:
        result.replayed += store.replayed_from_redo
        if report.recovered:
            raise TortureFailure(f"cycle {cycle}: a kill damaged the store: {report}")
        problems = store.integrity_problems()
        if problems:
            raise TortureFailure(f"cycle {cycle}: integrity check: {problems[:5]}")
        revisions = store.revisions()
        seqs = {(str(q), int(r)): int(s) for s, q, r in store._conn.execute(
            "SELECT seq, question_id, revision FROM revisions").fetchall()}
    finally:
        store.close()
    # A save's record is flushed before it is acknowledged, and the log starts over only
    # at a point the main file holds: it covers every acknowledged revision (redo.py).
    if expected and log is None:
        raise TortureFailure(f"cycle {cycle}: acknowledged revisions but no redo log")
    uncovered = [k for k in expected if k in seqs and log is not None
                 and seqs[k] > log.last_seq]
    if uncovered:
        raise TortureFailure(f"cycle {cycle}: acknowledged before the redo log: "
                             f"{sorted(uncovered)[:10]}")
    stored = {(r.question_id, r.revision): digest(r.value) for r in revisions}
    lost = [k for k in expected if k not in stored]
    if lost:
        raise TortureFailure(f"cycle {cycle}: acknowledged revisions lost: {sorted(lost)[:10]}")
    changed = [k for k, d in expected.items() if stored[k] != d]
    if changed:
        raise TortureFailure(f"cycle {cycle}: acknowledged values changed: {changed[:10]}")
    per_question: dict[str, list[int]] = {}
    for rev in revisions:
        per_question.setdefault(rev.question_id, []).append(rev.revision)
    for question, numbers in per_question.items():
        if numbers != list(range(1, len(numbers) + 1)):
            raise TortureFailure(f"cycle {cycle}: {question} revisions not 1..n: {numbers[:20]}")
    result.revisions += len(revisions) - result.last_round_revisions
    result.last_round_revisions = len(revisions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--dir", type=Path, default=None, help="work directory (kept)")
    args = parser.parse_args(argv)
    print(f"torture: {args.kills} kills, seed {args.seed}", flush=True)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        result = torture(kills=args.kills, workdir=args.dir, seed=args.seed, progress=True)
    else:
        with tempfile.TemporaryDirectory(prefix="torture-") as tmp:
            result = torture(kills=args.kills, workdir=Path(tmp), seed=args.seed, progress=True)
    print("torture: " + result.summary(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
