"""A full disk: clear status, answers held in memory and retried, the file never half-written.

Two ways to fill the disk, both run when they can:
- "tmpfs": a real 2 MiB tmpfs filled with a filler file, so SQLite gets ENOSPC from the
  kernel (needs root and mount(2); skipped with the reason otherwise, e.g. in a container
  without CAP_SYS_ADMIN);
- "max_page_count": SQLite's own size limit on the database, which fails a write with the
  same SQLITE_FULL result code; runs everywhere (the fallback the task allows).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import crash_image

from client.store.database import AnswerStore
from client.store.errors import StoreDiskFullError
from client.store.paths import StorePaths
from client.store.writer import SaveState, StoreWriter, WriterStatus


@contextlib.contextmanager
def mounted_tmpfs(directory: Path, *, size: str, read_only: bool = False) -> Iterator[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True, timeout=10)


def fill_disk(directory: Path) -> Path:
    filler = directory / "filler.bin"
    with open(filler, "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)
    return filler


class Observer:
    def __init__(self) -> None:
        self.statuses: list[WriterStatus] = []
        self.done: dict[int, object] = {}
        self.cond = threading.Condition()

    def on_status(self, status: WriterStatus) -> None:
        with self.cond:
            self.statuses.append(status)
            self.cond.notify_all()

    def callback(self, index: int):  # type: ignore[no-untyped-def]
        def on_done(result: object) -> None:
            with self.cond:
                self.done[index] = result
                self.cond.notify_all()
        return on_done

    def wait_for(self, predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), (self.statuses[-3:], self.done)


def run_disk_full_scenario(store_dir: Path, key: bytes, *, image_dir: Path,  # type: ignore[no-untyped-def]
                           make_full, make_room) -> None:
    paths = StorePaths(store_dir)
    observer = Observer()
    writer = StoreWriter(lambda: AnswerStore.open(paths.db, key=key, snapshot_policy=None),
                         on_status=observer.on_status, retry_delays_s=(0.05, 0.1, 0.2))
    writer.ready().result(5)
    for i in range(5):
        writer.save(question_id=f"q{i}", value="before", server_time_ms=None,
                    on_done=observer.callback(i))
    observer.wait_for(lambda: len(observer.done) == 5)
    writer.call(make_full).result(5)

    # Keep answering until the disk refuses; the candidate sees a clear state.
    index = 5
    while writer.status.state is not SaveState.DISK_FULL and index < 400:
        writer.save(question_id=f"q{index % 7}", value="x" * 300 + str(index),
                    server_time_ms=None, on_done=observer.callback(index))
        writer.flush()
        index += 1
        time.sleep(0.002)
    observer.wait_for(lambda: any(s.state is SaveState.DISK_FULL for s in observer.statuses))
    status = writer.status
    assert status.state is SaveState.DISK_FULL and status.held >= 1
    assert isinstance(status.error, StoreDiskFullError)
    assert status.error.code == "store.disk_full" and "磁盘空间已满" in status.error.message
    held = writer.unsaved_answers()
    assert held, "answers must be kept in memory"
    acked = {i: r for i, r in observer.done.items()}
    assert all(not isinstance(r, BaseException) for r in acked.values())

    # While the disk is full the file on disk is complete and consistent (a power cut now
    # would lose nothing that was acknowledged).
    image = crash_image(paths, image_dir)
    copy = AnswerStore.open(image.db, key=key, create=False, snapshot_policy=None)
    assert copy.integrity_problems() == []
    stored = {(r.question_id, r.revision) for r in copy.revisions()}
    assert {(r.question_id, r.revision) for r in acked.values()} <= stored  # type: ignore[attr-defined]
    copy.close()

    # More edits while full replace the held value of their question.
    writer.save(question_id="q0", value="newest", server_time_ms=None,
                on_done=observer.callback(10_000))
    writer.call(make_room).result(5)
    observer.wait_for(lambda: len(observer.done) == index + 1 and
                      writer.status.state is SaveState.SAVED)
    assert all(not isinstance(r, BaseException) for r in observer.done.values())
    writer.close()
    store = AnswerStore.open(paths.db, key=key, snapshot_policy=None)
    assert store.integrity_problems() == []
    current = store.current_answers()
    assert current["q0"].value == "newest"
    for question, value in held.items():
        if question != "q0":
            assert current[question].value == value
    store.close()


def test_disk_full_on_a_real_small_filesystem(tmp_path: Path, key: bytes) -> None:
    with mounted_tmpfs(tmp_path / "small", size="2m") as mount:
        store_dir = mount / "store"
        store_dir.mkdir()
        filler: list[Path] = []

        def make_full(store: AnswerStore) -> None:
            filler.append(fill_disk(mount))

        def make_room(store: AnswerStore) -> None:
            filler[0].unlink()

        run_disk_full_scenario(store_dir, key, image_dir=tmp_path / "image",
                               make_full=make_full, make_room=make_room)


def test_disk_full_reported_by_sqlite_size_limit(tmp_path: Path, key: bytes) -> None:
    def make_full(store: AnswerStore) -> None:
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages}")

    def make_room(store: AnswerStore) -> None:
        store._conn.execute("PRAGMA max_page_count = 1000000")

    store_dir = tmp_path / "store"
    store_dir.mkdir()
    run_disk_full_scenario(store_dir, key, image_dir=tmp_path / "image",
                           make_full=make_full, make_room=make_room)


def test_write_errors_other_than_full_disk_are_retried_by_reopening(
    tmp_path: Path, key: bytes
) -> None:
    """The kernel refuses a write with an error other than "disk full" (EFBIG from
    RLIMIT_FSIZE here; a failing USB drive gives EIO): status "failed", the answer held in
    memory, the store closed and reopened through the factory until writing works."""
    path = tmp_path / "answers.db"
    opens: list[int] = []

    def factory() -> AnswerStore:
        opens.append(1)
        return AnswerStore.open(path, key=key, snapshot_policy=None)

    observer = Observer()
    writer = StoreWriter(factory, on_status=observer.on_status, retry_delays_s=(0.05, 0.1))
    writer.save(question_id="q1", value="A", server_time_ms=None, on_done=observer.callback(1))
    observer.wait_for(lambda: 1 in observer.done)
    limit = max(p.stat().st_size for p in tmp_path.iterdir())
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    previous_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, previous_limit[1]))
    try:
        writer.save(question_id="q1", value="B" * 20_000, server_time_ms=None,
                    on_done=observer.callback(2))
        observer.wait_for(lambda: any(s.state is SaveState.FAILED for s in observer.statuses))
        assert writer.status.error is not None and writer.status.error.code == "store.io_error"
        assert list(writer.unsaved_answers()) == ["q1"] and 2 not in observer.done
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous_limit)
        signal.signal(signal.SIGXFSZ, previous_handler)
    observer.wait_for(lambda: 2 in observer.done)
    assert len(opens) >= 2  # reopened (and re-checked) after the failure
    writer.close()
    store = AnswerStore.open(path, key=key, snapshot_policy=None)
    assert [r.revision for r in store.revisions()] == [1, 2]
    assert store.integrity_problems() == []
    store.close()


def test_a_snapshot_never_takes_the_last_free_space(tmp_path: Path, key: bytes) -> None:
    with mounted_tmpfs(tmp_path / "small", size="40m") as mount:
        store = AnswerStore.open(mount / "answers.db", key=key)
        store.save(question_id="q1", value="A", server_time_ms=None)
        assert store.snapshot()
        backup = (mount / "answers.backup.db").read_bytes()
        filler = fill_disk(mount)
        os.truncate(filler, filler.stat().st_size - 200_000)  # leave a little room
        store.save(question_id="q1", value="B", server_time_ms=None)
        assert not store.snapshot()  # refused: it would eat the room answers need
        assert (mount / "answers.backup.db").read_bytes() == backup
        store.close()
