"""Durable save latency of the answer store: encrypted (SQLCipher) vs. plain SQLite.

Both run the same AnswerStore code, schema and settings (WAL, synchronous=FULL, exclusive
locking); the plain baseline is the standard library's sqlite3 over the same code path.
Each save returns only after its commit is fsync'ed. Workloads alternate in blocks so that
disk and CPU drift hit both equally:

- single: one choice answer per save, 60 questions;
- essay:  an essay of 1,000-3,000 Chinese characters (3-9 KB) edited and saved again
          (stored as patches of the previous revision, client/store/patches.py);
- essay, whole values: the same edits stored whole, without patches (for comparison);
- writer: end to end through StoreWriter (save() -> on_done), encrypted store.

Targets (issue "Answers survive anything"): p99 <= 5 ms, encrypted/plain <= 1.5x.

    python benchmarks/store.py [--saves 3000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from client.store import connection, patches, schema
from client.store.database import AnswerStore
from client.store.model import JsonValue, Revision
from client.store.writer import StoreWriter

BLOCK = 100
WARMUP = 50


def open_encrypted(path: Path, key: bytes) -> AnswerStore:
    return AnswerStore.open(path, key=key, snapshot_policy=None)


def open_plain(path: Path) -> AnswerStore:
    conn = sqlite3.connect(path, isolation_level=None)
    connection.apply_settings(conn)
    connection.enable_wal(conn)
    schema.migrate(conn)
    return AnswerStore(conn, path=None, key=None, snapshot_policy=None)


class Workload:
    def __init__(self, kind: str, seed: int) -> None:
        self.kind = kind
        self.rng = random.Random(seed)
        self.essay = "".join(self.rng.choice("考试答案作文的一是在不了有和人这中大为上个国")
                             for _ in range(1000))

    def next(self) -> tuple[str, JsonValue]:
        if self.kind == "single":
            return f"q{self.rng.randrange(60)}", self.rng.choice("ABCD")
        if len(self.essay) > 3000:
            self.essay = self.essay[:1000]
        self.essay += "".join(self.rng.choice("论述理由因此所以") for _ in range(8))
        return "essay", self.essay


@contextlib.contextmanager
def whole_values() -> Iterator[None]:
    """Store every value whole (no patches), as schema versions 1 and 2 did."""
    saved = patches.MIN_PATCHED_CHARS
    patches.MIN_PATCHED_CHARS = sys.maxsize
    try:
        yield
    finally:
        patches.MIN_PATCHED_CHARS = saved


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure_direct(stores: dict[str, AnswerStore], kind: str, saves: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in stores}
    workloads = {name: Workload(kind, seed=1) for name in stores}
    done = 0
    while done < saves + WARMUP:
        for name, store in stores.items():
            for _ in range(BLOCK):
                question, value = workloads[name].next()
                started = time.perf_counter_ns()
                store.save(question_id=question, value=value, server_time_ms=None)
                elapsed = (time.perf_counter_ns() - started) / 1e6
                if done >= WARMUP:
                    samples[name].append(elapsed)
        done += BLOCK
    return samples


def measure_writer(path: Path, key: bytes, saves: int) -> list[float]:
    writer = StoreWriter(lambda: open_encrypted(path, key))
    writer.ready().result()
    workload = Workload("single", seed=2)
    samples: list[float] = []
    finished = threading.Event()
    for index in range(saves + WARMUP):
        question, value = workload.next()
        finished.clear()
        started = time.perf_counter_ns()

        def on_done(result: Revision | BaseException, started: int = started,
                    index: int = index) -> None:
            if index >= WARMUP:
                samples.append((time.perf_counter_ns() - started) / 1e6)
            finished.set()

        writer.save(question_id=question, value=value, server_time_ms=None, on_done=on_done)
        finished.wait()
    writer.close()
    return samples


def line(label: str, samples: list[float]) -> str:
    return (f"  {label:<34} median {statistics.median(samples):6.3f} ms   "
            f"p99 {percentile(samples, 0.99):6.3f} ms   max {max(samples):7.3f} ms   "
            f"n={len(samples)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--saves", type=int, default=3000)
    parser.add_argument("--dir", type=Path, default=None,
                        help="where the files go (default: the system temp directory)")
    args = parser.parse_args(argv)
    key = os.urandom(32)
    with tempfile.TemporaryDirectory(prefix="store-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        import sqlcipher3

        print(f"store benchmark: {args.saves} durable saves per workload, files in {folder}")
        print(f"  SQLCipher {sqlcipher3.sqlite_version} (sqlcipher3), "
              f"plain sqlite3 {sqlite3.sqlite_version}; WAL, synchronous=FULL, exclusive")
        verdicts: list[str] = []
        for label, kind, storage in (("single", "single", contextlib.nullcontext),
                                     ("essay", "essay", contextlib.nullcontext),
                                     ("essay, whole values", "essay", whole_values)):
            name = label.replace(", ", "-").replace(" ", "-")
            encrypted_path = folder / f"{name}-enc.db"
            encrypted = open_encrypted(encrypted_path, key)
            plain = open_plain(folder / f"{name}-plain.db")
            with storage():
                samples = measure_direct({"encrypted": encrypted, "plain": plain}, kind,
                                         args.saves)
            encrypted.close()
            plain.close()
            size = encrypted_path.stat().st_size  # closing checkpointed the WAL into it
            enc, base = samples["encrypted"], samples["plain"]
            ratio_median = statistics.median(enc) / statistics.median(base)
            ratio_p99 = percentile(enc, 0.99) / percentile(base, 0.99)
            print(f"{label}:")
            print(line("encrypted (SQLCipher)", enc))
            print(line("plain (sqlite3, same settings)", base))
            print(f"  {'ratio encrypted/plain':<34} median {ratio_median:5.2f}x   "
                  f"p99 {ratio_p99:5.2f}x")
            print(f"  {'encrypted store file when closed':<34} {size / 2**20:6.1f} MiB "
                  f"({size / (args.saves + WARMUP) / 1024:.1f} KiB per save)")
            if storage is whole_values:
                continue  # shown for comparison only: not what the store does
            p99 = percentile(enc, 0.99)
            verdicts.append(f"{label}: p99 {p99:.2f} ms {'<=' if p99 <= 5 else '>'} 5 ms, "
                            f"ratio median {ratio_median:.2f}x / p99 {ratio_p99:.2f}x "
                            f"{'<=' if max(ratio_median, ratio_p99) <= 1.5 else '>'} 1.5x")
        writer_samples = measure_writer(folder / "writer-enc.db", key, args.saves)
        print("writer (save() -> on_done, encrypted):")
        print(line("single answers", writer_samples))
        print("targets: " + "; ".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
