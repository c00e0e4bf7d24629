"""Losses the store alone cannot see are put back from its redo log, or counted, and said.

Each case saves through the real store, takes the files as a crash would leave them
(crash_image), damages them, and checks that the next open either brings back every saved
revision or names exactly how many did not come back; never silence.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from store_helpers import FAST_KDF, DictKeyring, crash_image

from client.store import redo
from client.store.backup import SnapshotPolicy
from client.store.database import AnswerStore
from client.store.keys import open_store_key
from client.store.model import Revision
from client.store.paths import StorePaths, store_paths, wal_path
from client.store.recovery import REPORT_NAME, open_or_recover
from client.store.redo import RedoKeys, read_log, redo_path_for

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


def test_a_deleted_wal_loses_nothing(tmp_path: Path, key: bytes) -> None:
    """The main file is healthy, so SQLite alone opens it without a word and without
    the second batch: the redo log puts those 40 back."""
    paths, saved, first = two_batches(tmp_path, key)
    wal_path(paths.db).unlink()
    store, report = open_or_recover(paths, key=key)
    assert not report.recovered, "nothing was lost"
    assert store.replayed_from_redo == len(saved) - first == 40
    assert pairs(store.revisions()) == pairs(saved)
    assert store.integrity_problems() == []
    store.close()


def test_a_deleted_wal_and_redo_log_are_reported(tmp_path: Path, key: bytes) -> None:
    """Both witnesses of the second batch gone: the loss cannot be counted, but it is
    said (the store's meta says it kept a log), with the way back."""
    paths, saved, first = two_batches(tmp_path, key)
    wal_path(paths.db).unlink()
    redo_path_for(paths.db).unlink()
    store, report = open_or_recover(paths, key=key)
    assert report.recovered and report.reason == "store.redo_missing"
    assert not report.loss_checked
    message = report.message()
    assert "无法核对" in message and "服务器" in message and "离线答卷" in message
    assert pairs(store.revisions()) == pairs(saved[:first])
    store.close()


@pytest.mark.parametrize("frame", [3, 20, 39])
def test_a_damaged_wal_frame_loses_nothing(tmp_path: Path, key: bytes, frame: int) -> None:
    """SQLite's replay stops at the damaged frame, silently; the redo log holds every
    commit after it."""
    paths, saved, _first = two_batches(tmp_path, key)
    with open(wal_path(paths.db), "r+b") as handle:
        handle.seek(32 + frame * FRAME + 24 + 1000)
        handle.write(os.urandom(200))
    store, report = open_or_recover(paths, key=key)
    assert not report.recovered
    assert store.replayed_from_redo > 0
    assert pairs(store.revisions()) == pairs(saved)
    assert store.integrity_problems() == []
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


@pytest.mark.parametrize("log_left", [True, False])
def test_a_deleted_store_with_its_key_file_left_is_a_loss_not_a_new_store(
    tmp_path: Path, log_left: bool
) -> None:
    keyring = DictKeyring()
    key = login(tmp_path, keyring)
    paths = store_paths(tmp_path, exam_id="e1", candidate_id="c1")
    store, report = open_or_recover(paths, key=key)
    assert report.created
    saved = save_many(store, 12, tag="x")
    store.close()  # checkpointed: the log starts over after the 12th, empty
    for path in (paths.db, wal_path(paths.db), paths.backup):
        path.unlink(missing_ok=True)
    if not log_left:
        redo_path_for(paths.db).unlink()
    key = login(tmp_path, keyring)  # the next login on this PC
    store, report = open_or_recover(paths, key=key)
    try:
        assert report.recovered and not report.created
        assert report.reason == "store.missing"
        message = report.message()
        assert "服务器" in message and "离线答卷" in message
        assert store.revisions() == []
        if log_left:
            assert report.loss_checked and report.lost_revisions == len(saved)
            assert report.lost_after_seq == 0
            assert str(len(saved)) in message
        else:
            assert not report.loss_checked and "无法核对" in message
    finally:
        store.close()


def lose_wal_and_log(paths: StorePaths) -> None:
    wal_path(paths.db).unlink()
    redo_path_for(paths.db).unlink()


def test_a_report_not_yet_shown_survives_a_crash(tmp_path: Path, key: bytes) -> None:
    """The process may die between the rebuild and the UI: the report is shown at the
    next open, and at every open until it has been shown."""
    paths, _saved, _first = two_batches(tmp_path, key)
    lose_wal_and_log(paths)
    store, report = open_or_recover(paths, key=key)
    assert report.recovered and report.message()
    store.close()  # died before the UI showed it
    for _ in range(2):
        store, again = open_or_recover(paths, key=key)
        store.close()
        assert again.recovered and again.message() == report.message()
        assert again.reason == report.reason == "store.redo_missing"
    again.mark_shown()
    store, after = open_or_recover(paths, key=key)
    store.close()
    assert not after.recovered and after.message() == ""


def test_recovery_leaves_no_half_built_files(tmp_path: Path, key: bytes) -> None:
    paths, _saved, _first = two_batches(tmp_path, key)
    lose_wal_and_log(paths)
    # As an earlier version left them after each recovery.
    (paths.directory / "answers.db.backup.recovering").write_bytes(b"old copy")
    (paths.directory / "answers.redo.tmp").write_bytes(b"half a new log")
    store, report = open_or_recover(paths, key=key)
    assert report.recovered
    store.close()
    names = {p.name for p in paths.directory.iterdir()}
    assert not any("recovering" in n or "rebuilt" in n or n.endswith(".tmp") for n in names), names
    assert names >= {"answers.db", "answers.backup.db", "answers.redo", REPORT_NAME}
    assert "answers.reach" not in names


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


def redo_pages(path: Path) -> list[int]:
    """Offsets of the log's pages that are not zeros (header first, then records)."""
    data = path.read_bytes()
    return [offset for offset in range(0, len(data), redo.PAGE)
            if any(data[offset:offset + redo.PAGE])]


def test_a_torn_last_record_is_the_save_in_flight_not_a_loss(tmp_path: Path,
                                                              key: bytes) -> None:
    """A power cut while a record was being written leaves a torn page after the last
    record; that save was never acknowledged (its flush had not returned)."""
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key)
    saved = save_many(store, 6, tag="a")
    image = crash_image(live, tmp_path / "image")
    store.save(question_id="long", value="长" * 3000, server_time_ms=None)  # 3 pages
    log_file = redo_path_for(image.db)
    record = redo_pages(redo_path_for(live.db))[-3]
    torn = redo_path_for(live.db).read_bytes()[record:record + 5 * 512]
    store.close()
    with open(log_file, "r+b") as handle:  # the 7th record: five sectors reached the disk
        handle.seek(record)
        handle.write(torn)
    wal_path(image.db).unlink()  # its commit never reached the disk either
    store, report = open_or_recover(image, key=key)
    assert not report.recovered
    assert pairs(store.revisions()) == pairs(saved)
    store.close()


@pytest.mark.parametrize("damage", ["middle record", "middle header", "last record",
                                    "tail cut"])
def test_a_damaged_redo_log_is_counted_exactly_or_said(tmp_path: Path, key: bytes,
                                                       damage: str) -> None:
    """The WAL lost (power cut), and the log damaged: a record in the middle costs
    exactly its own save (the later records still read); a log cut short after a record
    may have held more, which cannot be counted, and is said."""
    paths, saved, first = two_batches(tmp_path, key)
    wal_path(paths.db).unlink()
    log_file = redo_path_for(paths.db)
    records = redo_pages(log_file)[1:]
    assert len(records) == len(saved) - first  # one page per save here
    if damage == "tail cut":
        os.truncate(log_file, records[30] + 100)
    else:
        at = {"middle record": records[10] + 200, "middle header": records[10] + 20,
              "last record": records[-1] + 200}[damage]
        with open(log_file, "r+b") as handle:
            handle.seek(at)
            handle.write(os.urandom(32))
    store, report = open_or_recover(paths, key=key)
    try:
        got = pairs(store.revisions())
        assert report.recovered and report.message()
        assert set(got.items()) <= set(pairs(saved).items())
        if damage.startswith("middle"):
            assert report.loss_checked and report.lost_revisions == 1
            assert report.lost_after_seq == first + 10
            assert len(got) == len(saved) - 1
        elif damage == "last record":
            assert report.loss_checked and report.lost_revisions == 1
            assert report.lost_after_seq == len(saved) - 1
            assert len(got) == len(saved) - 1
        else:
            assert not report.loss_checked and "无法核对" in report.message()
            assert len(got) == first + 30
        assert store.integrity_problems() == []
    finally:
        store.close()


def test_a_redo_log_of_another_store_is_refused(tmp_path: Path, key: bytes) -> None:
    """Another store's log (another key) is never replayed: its records do not decrypt;
    the open says it could not check, and this store's own rows stay."""
    paths, saved, first = two_batches(tmp_path, key)
    other = StorePaths(tmp_path / "other")
    other_key = os.urandom(32)
    store, _ = open_or_recover(other, key=other_key)
    save_many(store, 50, tag="other")
    store.close()
    redo_path_for(paths.db).write_bytes(redo_path_for(other.db).read_bytes())
    wal_path(paths.db).unlink()
    store, report = open_or_recover(paths, key=key)
    try:
        assert report.recovered and report.reason == "store.redo_unreadable"
        assert not report.loss_checked and "无法核对" in report.message()
        assert pairs(store.revisions()) == pairs(saved[:first])
    finally:
        store.close()
    with pytest.raises(redo.RedoUnreadable):
        read_log(redo_path_for(other.db), RedoKeys(key))


def test_the_redo_log_reveals_nothing_about_the_answers(tmp_path: Path, key: bytes) -> None:
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key)
    store.save(question_id="question-one", value="答案ABCDEFGH", server_time_ms=None)
    store.save(question_id="essay", value="论述" * 400, server_time_ms=None)
    data = redo_path_for(live.db).read_bytes()
    contents = read_log(redo_path_for(live.db), RedoKeys(key))
    store.close()
    for plain in (b"question-one", "答案".encode(), b"ABCDEFGH", "论述".encode(), b"essay"):
        assert plain not in data
    assert contents is not None and [r.question_id for r in contents.rows()] == [
        "question-one", "essay"]


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
