"""A candidate who answers as fast as the store allows, in a process of its own.

Prints ``READY`` once the store is open, then ``ACK <question> <revision> <digest>`` after
each durable save (digest: sha256 of the stored JSON value), so a parent that kills it at
any instant knows exactly which revisions must have survived.

It also prints ``WALSYNC <bytes>`` whenever that much of the WAL is known to be on the disk
(flushed by the store, or by SQLite at the start of a checkpoint; 0 after a complete
checkpoint, when the main file holds everything): a parent that simulates a power cut may
throw away only WAL content beyond that (run.py). Printed after the flush and before
anything relies on it, so a kill in between only makes the simulation keep more.

    python -m tests.torture.writer_process --data-dir D --key-hex HEX
    python -m tests.torture.writer_process --data-dir D --username U --password P \
        --keyring-file F      # key via the envelope (keyring file, then credentials)
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import threading
from pathlib import Path

from client.store import database
from client.store.backup import SnapshotPolicy
from client.store.database import AnswerStore
from client.store.envelope import KdfParams
from client.store.keys import open_store_key
from client.store.model import JsonValue, Revision, encode_value
from client.store.paths import store_paths, wal_path
from client.store.recovery import open_or_recover
from client.store.writer import StoreWriter

EXAM_ID = "torture-exam"
CANDIDATE_ID = "c-0001"
FAST_KDF = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)
_print_lock = threading.Lock()


def digest(value: JsonValue) -> str:
    return hashlib.sha256(encode_value(value).encode()).hexdigest()[:16]


def _emit(line: str) -> None:
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _report_wal_flushes() -> None:
    """Wrap the two places the WAL becomes durable (see module doc)."""
    sync_wal = database._sync_wal
    checkpoint = AnswerStore._checkpoint

    def synced(path: Path | None) -> None:
        sync_wal(path)
        if path is not None and path.name == "answers.db":
            wal = wal_path(path)
            _emit(f"WALSYNC {wal.stat().st_size if wal.exists() else 0}")

    def checkpointed(self: AnswerStore, *, after_snapshot: bool) -> None:
        _emit(f"WALSYNC {self.wal_size()}")  # SQLite syncs it before copying anything
        checkpoint(self, after_snapshot=after_snapshot)
        if self._wal_backfilled:
            _emit("WALSYNC 0")

    database._sync_wal = synced  # type: ignore[assignment]
    AnswerStore._checkpoint = checkpointed  # type: ignore[method-assign]


def _value_for(question: int, rng: random.Random, essay_text: dict[int, str]) -> JsonValue:
    kind = question % 4
    if kind == 0:
        return rng.choice("ABCD")
    if kind == 1:
        return sorted(rng.sample("ABCDE", rng.randint(0, 3)))
    if kind == 2:
        return rng.choice([True, False, None])
    text = essay_text.get(question, "")
    if len(text) > 3000 or rng.random() < 0.02:
        text = ""
    text += rng.choice(["答", "案", "x", " ", "的", "考", "试", "\n", "é"]) * rng.randint(1, 8)
    essay_text[question] = text
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--key-hex")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--keyring-file", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--questions", type=int, default=24)
    parser.add_argument("--max-saves", type=int, default=0, help="0: until killed")
    parser.add_argument("--in-flight", type=int, default=6)
    parser.add_argument("--snapshot-every", type=int, default=40)
    args = parser.parse_args(argv)

    if args.key_hex:
        key = bytes.fromhex(args.key_hex)
    else:
        from keyrings.alt.file import PlaintextKeyring

        backend = PlaintextKeyring()
        backend.file_path = str(args.keyring_file)
        key = open_store_key(
            data_dir=args.data_dir, exam_id=EXAM_ID, candidate_id=CANDIDATE_ID,
            username=args.username, password=args.password, server_box_public_key=None,
            keyring_backend=backend, kdf=FAST_KDF,
        )
    paths = store_paths(args.data_dir, exam_id=EXAM_ID, candidate_id=CANDIDATE_ID)
    _report_wal_flushes()
    policy = SnapshotPolicy(every_saves=args.snapshot_every, every_seconds=0.5, min_seconds=0)
    writer = StoreWriter(lambda: open_or_recover(paths, key=key, snapshot_policy=policy)[0],
                         coalesce_interval_s=0.05)
    writer.ready().result()
    _emit("READY")

    rng = random.Random(args.seed)
    slots = threading.Semaphore(args.in_flight)
    essay_text: dict[int, str] = {}
    saves = 0
    while args.max_saves == 0 or saves < args.max_saves:
        slots.acquire()
        question = rng.randrange(args.questions)
        value = _value_for(question, rng, essay_text)
        expected = digest(value)

        coalesce = question % 4 == 3 and rng.random() < 0.8

        def done(result: Revision | BaseException, expected: str = expected,
                 coalesce: bool = coalesce) -> None:
            if isinstance(result, Revision):
                # Printed only after the save is durable: the parent's ground truth.
                stored = digest(result.value)
                if not coalesce and stored != expected:
                    _emit(f"MISMATCH {result.question_id} {result.revision}")
                _emit(f"ACK {result.question_id} {result.revision} {stored}")
            else:
                _emit(f"ERR {result!r}")
            slots.release()

        writer.save(question_id=f"q{question:02d}", value=value, server_time_ms=None,
                    on_done=done, coalesce=coalesce)
        saves += 1
    writer.close()
    _emit("DONE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
