"""Losses the store alone cannot see are counted from its reach record, and said.

Each case saves through the real store, takes the files as a crash would leave them
(crash_image), damages them, and checks that the next open either brings back every saved
revision or names exactly how many did not come back; never silence.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from store_helpers import FAST_KDF, DictKeyring, crash_image

from client.store import reach
from client.store.backup import SnapshotPolicy
from client.store.database import AnswerStore
from client.store.keys import open_store_key
from client.store.model import Revision
from client.store.paths import StorePaths, store_paths, wal_path
from client.store.reach import ChainKeys, reach_path_for, read_record
from client.store.recovery import REPORT_NAME, open_or_recover

PAGE = 4096
FRAME = 24 + PAGE


def pairs(revisions: list[Revision]) -> dict[tuple[str, int], object]:
    return {(r.question_id, r.revision): r.value for r in revisions}


def save_many(store: AnswerStore, count: int, *, tag: str) -> list[Revision]:
    essay = "论述" * 300
    saved = []
    for i in range(count):
        if i % 4 == 3:
            essay = essay[:100] + f"{tag}{i}" + essay[100:]
            saved.append(store.save(question_id="essay", value=essay, server_time_ms=None))
        else:
            saved.append(store.save(question_id=f"q{i % 6}", value=f"{tag} {i}",
                                    server_time_ms=None))
    return saved


def two_batches(tmp_path: Path, key: bytes) -> tuple[StorePaths, list[Revision], int]:
    """A crash image: a first batch in the main file and the backup, a second batch only
    in the WAL. Returns the image, every saved revision and the first batch's size."""
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key)
    first = save_many(store, 30, tag="first")
    assert store.snapshot()  # backup, then the WAL is checkpointed into the main file
    second = save_many(store, 40, tag="second")
    store.settle_record()  # a pause after the last save
    image = crash_image(live, tmp_path / "image")
    store.close()
    assert wal_path(image.db).stat().st_size >= 40 * FRAME
    return image, first + second, len(first)


def open_reported(paths: StorePaths, key: bytes):  # type: ignore[no-untyped-def]
    store, report = open_or_recover(paths, key=key)
    assert report.recovered and report.message(), "never silent"
    assert report.loss_checked
    assert store.integrity_problems() == []
    return store, report


def test_a_deleted_wal_is_counted_exactly(tmp_path: Path, key: bytes) -> None:
    """The main file is healthy, so SQLite alone opens it without a word; the record
    says 70 revisions were saved and 30 are there."""
    paths, saved, first = two_batches(tmp_path, key)
    wal_path(paths.db).unlink()
    store, report = open_reported(paths, key)
    got = pairs(store.revisions())
    assert got == pairs(saved[:first])
    assert report.reason == "store.behind_record"
    assert report.lost_revisions == len(saved) - first == 40
    assert report.lost_after_seq == first
    message = report.message()
    assert "40" in message and "服务器" in message and "离线答卷" in message
    store.close()


@pytest.mark.parametrize("frame", [3, 20, 39])
def test_a_damaged_wal_frame_loses_nothing_or_says_exactly_what(
    tmp_path: Path, key: bytes, frame: int
) -> None:
    """SQLite's replay stops at the damaged frame; the record notices, and salvage
    re-chains the WAL so the frames after the damage are read too."""
    paths, saved, _first = two_batches(tmp_path, key)
    with open(wal_path(paths.db), "r+b") as handle:
        handle.seek(32 + frame * FRAME + 24 + 1000)
        handle.write(os.urandom(200))
    store, report = open_reported(paths, key)
    got = pairs(store.revisions())
    assert set(got.items()) <= set(pairs(saved).items())
    assert len(got) + report.lost_revisions == len(saved)
    assert report.lost_revisions <= 2, "the later frames were replayed"
    store.close()


def test_the_main_file_truncated_before_any_backup(tmp_path: Path, key: bytes) -> None:
    """In the first seconds of a store there may be no backup yet (no pause so far) and
    nothing checkpointed: the WAL is replayed onto a fresh store."""
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key, snapshot_policy=None)
    saved = save_many(store, 25, tag="early")
    store.settle_record()
    image = crash_image(live, tmp_path / "image")
    store.close()
    assert not image.backup.exists()
    os.truncate(image.db, 0)
    store, report = open_reported(image, key)
    assert pairs(store.revisions()) == pairs(saved)
    assert report.lost_revisions == 0 and "没有丢失" in report.message()
    store.close()


def test_a_new_store_is_backed_up_at_its_first_pause(tmp_path: Path, key: bytes) -> None:
    paths = StorePaths(tmp_path / "s")
    store, report = open_or_recover(paths, key=key, snapshot_policy=SnapshotPolicy())
    assert report.created
    store.save(question_id="q1", value="A", server_time_ms=None)
    assert store.snapshot_if_due(), "not 30 s or 50 saves later"
    store.close()
    assert paths.backup.exists()


def login(data_dir: Path, keyring: DictKeyring) -> bytes:
    return open_store_key(data_dir=data_dir, exam_id="e1", candidate_id="c1",
                          username="2024000001", password="123456",
                          server_box_public_key=None, keyring_backend=keyring, kdf=FAST_KDF)


@pytest.mark.parametrize("record_left", [True, False])
def test_a_deleted_store_with_its_key_file_left_is_a_loss_not_a_new_store(
    tmp_path: Path, record_left: bool
) -> None:
    keyring = DictKeyring()
    key = login(tmp_path, keyring)
    paths = store_paths(tmp_path, exam_id="e1", candidate_id="c1")
    store, report = open_or_recover(paths, key=key)
    assert report.created
    saved = save_many(store, 12, tag="x")
    store.close()
    for path in (paths.db, wal_path(paths.db), paths.backup):
        path.unlink(missing_ok=True)
    if not record_left:
        reach_path_for(paths.db).unlink()
    key = login(tmp_path, keyring)  # the next login on this PC
    store, report = open_or_recover(paths, key=key)
    try:
        assert report.recovered and not report.created
        assert report.reason == "store.missing"
        assert store.revisions() == []
        message = report.message()
        assert "服务器" in message and "离线答卷" in message
        if record_left:
            assert report.loss_checked and report.lost_revisions == len(saved)
            assert str(len(saved)) in message
        else:
            assert not report.loss_checked and "无法核对" in message
    finally:
        store.close()


def test_a_report_not_yet_shown_survives_a_crash(tmp_path: Path, key: bytes) -> None:
    """The process may die between the rebuild and the UI: the report is shown at the
    next open, and at every open until it has been shown."""
    paths, saved, first = two_batches(tmp_path, key)
    wal_path(paths.db).unlink()
    store, report = open_reported(paths, key)
    store.close()  # died before the UI showed it
    for _ in range(2):
        store, again = open_or_recover(paths, key=key)
        store.close()
        assert again.recovered and again.message() == report.message()
        assert again.lost_revisions == len(saved) - first
    again.mark_shown()
    store, after = open_or_recover(paths, key=key)
    store.close()
    assert not after.recovered and after.message() == ""


def test_recovery_leaves_no_half_built_files(tmp_path: Path, key: bytes) -> None:
    paths, _saved, _first = two_batches(tmp_path, key)
    wal_path(paths.db).unlink()
    # As an earlier version left them after each recovery.
    (paths.directory / "answers.db.backup.recovering").write_bytes(b"old copy")
    store, _report = open_reported(paths, key)
    store.close()
    names = {p.name for p in paths.directory.iterdir()}
    assert not any("recovering" in n or "rebuilt" in n or n.endswith(".tmp") for n in names), names
    assert names >= {"answers.db", "answers.backup.db", "answers.reach", REPORT_NAME}


def test_a_different_store_with_as_many_rows_is_caught(tmp_path: Path, key: bytes) -> None:
    """The running hash: the right number of rows is not enough, they must be the ones
    saved (e.g. an older copy of the store put back and written to again)."""
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key)
    save_many(store, 5, tag="a")
    store.settle_record()
    copy = crash_image(live, tmp_path / "copy")
    save_many(store, 5, tag="b")
    store.close()
    copy_store = AnswerStore.open(copy.db, key=key, create=False, snapshot_policy=None)
    save_many(copy_store, 5, tag="c")  # same count, other answers
    copy_store.close()
    for source in (copy.db,):
        source.replace(live.db)
    wal_path(live.db).unlink(missing_ok=True)
    store, report = open_or_recover(live, key=key)
    assert report.recovered and report.reason == "store.diverged" and report.message()
    store.close()


def test_a_save_cut_off_before_its_commit_is_no_loss(
    tmp_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record of a transaction is written while it commits: a store stopped between
    the two holds the record's base, which is complete (the save was never
    acknowledged); holding less than the base is a loss."""
    monkeypatch.setattr(reach, "SETTLE_AFTER_S", 3600.0)  # no pause in this test
    keys = ChainKeys(key)
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key)
    save_many(store, 6, tag="a")
    store.settle_record()
    before = crash_image(live, tmp_path / "before")
    store.save(question_id="q9", value="in flight", server_time_ms=None)
    record = read_record(reach_path_for(live.db), keys)
    assert record is not None and not record.settled and record.top.seq == 7
    during = reach_path_for(live.db).read_bytes()
    store.close()
    # The files before the 7th commit, with the record written during it.
    reach_path_for(before.db).write_bytes(during)
    lost_base = crash_image(before, tmp_path / "lost-base")
    store, report = open_or_recover(before, key=key)
    assert not report.recovered
    store.close()
    # The same record over a store that lost its 6th revision: that one was saved.
    store = AnswerStore.open(lost_base.db, key=key, create=False, snapshot_policy=None)
    store._conn.execute("DELETE FROM revisions WHERE seq = 6")
    store.close()
    reach_path_for(lost_base.db).write_bytes(during)
    store, report = open_or_recover(lost_base, key=key)
    assert report.recovered and report.lost_revisions == 1 and report.lost_after_seq == 5
    store.close()


def test_a_torn_record_write_leaves_the_previous_record(tmp_path: Path, key: bytes) -> None:
    keys = ChainKeys(key)
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key)
    save_many(store, 4, tag="a")
    store.settle_record()
    store.close()
    path = reach_path_for(live.db)
    newest = read_record(path, keys)
    assert newest is not None
    data = bytearray(path.read_bytes())
    offset = (newest.counter % 2) * 512
    data[offset + 20:offset + 60] = os.urandom(40)
    path.write_bytes(bytes(data))
    older = read_record(path, keys)
    assert older is not None and older.counter == newest.counter - 1
    store, report = open_or_recover(live, key=key)
    assert not report.recovered
    store.close()


def test_the_record_reveals_nothing_about_the_answers(tmp_path: Path, key: bytes) -> None:
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key)
    store.save(question_id="q1", value="A", server_time_ms=None)
    store.close()
    data = reach_path_for(live.db).read_bytes()
    other = ChainKeys(os.urandom(32))
    assert read_record(reach_path_for(live.db), other) is None  # MAC under the store key
    digest = reach.ChainKeys(key).extend(reach.EMPTY_HASH, seq=1, question_id="q1",
                                         revision=1, stored=json.dumps("A"), patch_of=None)
    assert digest in data  # keyed: without the store key, "A" cannot be tried against it
    assert b"q1" not in data


DAMAGES = ("wal deleted", "wal frame", "main truncated", "main deleted", "store deleted")


@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_is_recovered_or_counted_exactly(tmp_path: Path, data: st.DataObject) -> None:
    """Invariant over random histories (saves, snapshots, pauses) and random damage:
    what comes back is exactly what was saved, except a counted number of revisions, and
    the open is never silent."""
    key = data.draw(st.binary(min_size=32, max_size=32), label="key")
    run = Path(tempfile.mkdtemp(dir=tmp_path))  # one folder per example
    live = StorePaths(run / "live")
    store, _ = open_or_recover(live, key=key, snapshot_policy=None)
    saved: list[Revision] = []
    steps = data.draw(st.lists(st.sampled_from(["save", "essay", "snapshot", "pause"]),
                               min_size=5, max_size=60), label="history")
    essay = "答" * 600
    for step in steps:
        if step == "save":
            saved.append(store.save(question_id=f"q{len(saved) % 5}", value=len(saved),
                                    server_time_ms=None))
        elif step == "essay":
            essay = essay[:30] + str(len(saved)) + essay[30:]
            saved.append(store.save(question_id="essay", value=essay, server_time_ms=None))
        elif step == "snapshot":
            store.snapshot()
        else:
            store.settle_record()
    store.settle_record()
    image = crash_image(live, run / "image")
    store.close()
    damage = data.draw(st.sampled_from(DAMAGES), label="damage")
    wal = wal_path(image.db)
    if damage == "wal deleted":
        wal.unlink(missing_ok=True)
    elif damage == "wal frame" and wal.exists() and wal.stat().st_size >= 32 + FRAME:
        frames = (wal.stat().st_size - 32) // FRAME
        frame = data.draw(st.integers(0, frames - 1), label="frame")
        with open(wal, "r+b") as handle:
            handle.seek(32 + frame * FRAME + data.draw(st.integers(0, FRAME - 64), label="at"))
            handle.write(os.urandom(64))
    elif damage == "main truncated":
        os.truncate(image.db, 0)
    elif damage == "main deleted":
        image.db.unlink()
    elif damage == "store deleted":
        for path in (image.db, wal, image.backup):
            path.unlink(missing_ok=True)
    store, report = open_or_recover(image, key=key)
    try:
        got = pairs(store.revisions())
        assert set(got.items()) <= set(pairs(saved).items())
        missing = len(saved) - len(got)
        if missing:
            assert report.recovered and report.message(), f"{missing} lost in silence"
            assert report.loss_checked and report.lost_revisions == missing
        elif report.recovered:
            assert report.lost_revisions == 0 and report.message()
        assert store.integrity_problems() == []
    finally:
        store.close()
