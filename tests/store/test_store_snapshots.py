"""Backup snapshots are made on their own thread: saves go on meanwhile, and every
snapshot is still a consistent copy of the store at some instant."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from client.store import backup, connection
from client.store.backup import SnapshotPolicy
from client.store.database import AnswerStore
from client.store.fsutil import copy_flushed_in_steps
from client.store.model import Revision
from client.store.paths import StorePaths, wal_path
from client.store.recovery import open_or_recover

EVERY_TEN = SnapshotPolicy(every_saves=10, every_seconds=1e9, min_seconds=0)


def pairs(revisions: list[Revision]) -> dict[tuple[str, int], object]:
    return {(r.question_id, r.revision): r.value for r in revisions}


def test_saves_go_on_while_a_snapshot_is_being_made(
    tmp_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = StorePaths(tmp_path / "s")
    store, _ = open_or_recover(paths, key=key, snapshot_policy=EVERY_TEN)
    store.put_blob(name="face/1", data=b"\x89PNG" * 500_000, content_type="image/png")
    saved = [store.save(question_id=f"q{i}", value="A", server_time_ms=None) for i in range(10)]
    copying = threading.Event()
    release = threading.Event()
    real_copy = backup.copy_snapshot

    def slow_copy(**kwargs: object) -> None:
        copying.set()
        assert release.wait(10)  # the disk is slow today
        real_copy(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(backup, "copy_snapshot", slow_copy)
    assert store.snapshot_if_due()  # returns at once: the copy runs on its own thread
    assert copying.wait(5)
    during = [store.save(question_id=f"q{i}", value="B", server_time_ms=None)
              for i in range(20)]
    assert len(during) == 20 and not release.is_set()
    release.set()
    store.close()  # waits for the snapshot
    copy = AnswerStore.open(paths.backup, key=key, create=False, snapshot_policy=None)
    try:
        assert pairs(copy.revisions()) == pairs(saved + during)  # the one taken at close
    finally:
        copy.close()


def test_every_snapshot_taken_while_saving_is_a_consistent_prefix(
    tmp_path: Path, key: bytes
) -> None:
    """Saves continue while each copy is made, and the writer sometimes pauses long
    enough to checkpoint (after which the next commit restarts the WAL while a copy may
    be running): each backup must hold exactly the first k revisions saved."""
    paths = StorePaths(tmp_path / "s")
    store, _ = open_or_recover(paths, key=key, snapshot_policy=EVERY_TEN)
    saved: list[Revision] = []
    checked = 0
    essay = "作文" * 400
    for i in range(400):
        if i % 3 == 0:
            essay = essay[:50] + str(i) + essay[50:]
            saved.append(store.save(question_id="essay", value=essay, server_time_ms=None))
        else:
            saved.append(store.save(question_id=f"q{i % 7}", value=i, server_time_ms=None))
        store.snapshot_if_due()
        if i % 50 == 49:  # a pause: the running snapshot finishes and is checkpointed
            while store.snapshot_if_due() and store._job is not None:
                pass
        if paths.backup.exists() and i % 25 == 0:
            # One read of the file as it is now: a running job may rename a newer snapshot
            # over it at any moment, and the two checks below must look at the same one.
            taken = tmp_path / f"taken-{i}.db"
            shutil.copyfile(paths.backup, taken)
            conn = connection.connect_immutable(taken, key=key)
            try:
                seqs = [int(row[0]) for row in conn.execute(
                    "SELECT seq FROM revisions ORDER BY seq").fetchall()]
            finally:
                conn.close()
            assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) <= len(saved)
            copy = AnswerStore.open(taken, key=key, create=False, snapshot_policy=None)
            try:
                assert pairs(copy.revisions()) == pairs(saved[:len(seqs)])
                assert copy.integrity_problems() == []
            finally:
                copy.close()
            checked += 1
    store.settle_record()
    # Whatever the last checkpoint was, the backup and the WAL together hold every save.
    wal = wal_path(paths.db).read_bytes() if wal_path(paths.db).exists() else b""
    image = StorePaths(tmp_path / "image")
    image.directory.mkdir()
    (image.directory / "answers.backup.db").write_bytes(paths.backup.read_bytes())
    (image.directory / "answers.db-wal").write_bytes(wal)
    (image.directory / "answers.redo").write_bytes(
        (paths.directory / "answers.redo").read_bytes())
    image.db.write_bytes(b"")  # the main file destroyed
    store.close()
    assert checked >= 10
    recovered, report = open_or_recover(image, key=key)
    try:
        assert report.recovered and report.lost_revisions == 0
        assert pairs(recovered.revisions()) == pairs(saved)
    finally:
        recovered.close()


@pytest.mark.parametrize("size", [0, 1, 2**20 - 1, 2**20, 3 * 2**20 + 17])
def test_a_copy_flushed_in_steps_is_exact(tmp_path: Path, size: int) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(os.urandom(size))
    copy_flushed_in_steps(source, target)
    assert target.read_bytes() == source.read_bytes()
