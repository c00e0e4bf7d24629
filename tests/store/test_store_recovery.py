"""A damaged store is detected at open, kept aside, and everything recoverable comes back.

Each case starts from the files a power cut would leave behind (crash_image): revisions
1-40 of the first batch checkpointed into the main file and in the backup snapshot, the
second batch only in the WAL. Then the files are damaged the way disks damage them.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from store_helpers import crash_image

from client.store import backup
from client.store.database import AnswerStore
from client.store.model import Revision, ServerAnswer
from client.store.paths import StorePaths, wal_path
from client.store.recovery import RECOVERY_REVISION_GAP, open_or_recover
from client.store.redo import redo_path_for

PAGE = 4096


def build(tmp_path: Path, key: bytes, *, backup_after_all: bool = False
          ) -> tuple[StorePaths, list[Revision]]:
    """A crash image of a store with data in the main file, the WAL and the backup."""
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key)
    saved: list[Revision] = []
    rng = random.Random(7)
    essay = "论述" * 300  # long enough to be stored as patches (client/store/patches.py)
    for i in range(40):
        saved.append(store.save(question_id=f"q{i % 8}", value="第一批" * rng.randint(1, 60),
                                server_time_ms=None))
        if i % 5 == 0:
            essay += f"第{i}句。"
            saved.append(store.save(question_id="essay", value=essay, server_time_ms=None))
    store.put_blob(name="face/1", data=b"face" * 500, content_type="image/png")
    store.set_meta("paper_key", "secret")
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert store.snapshot()
    for i in range(25):
        saved.append(store.save(question_id=f"q{i % 10}", value=f"second batch {i}",
                                server_time_ms=None))
        if i % 5 == 0:  # patches in the WAL whose bases are in the main file
            essay = essay[:300] + f"插入{i}" + essay[300:]
            saved.append(store.save(question_id="essay", value=essay, server_time_ms=None))
    if backup_after_all:
        # The snapshot alone, as when the process dies between it and the checkpoint
        # that follows it (AnswerStore.snapshot): the WAL still holds the second batch.
        backup.write_snapshot(store._conn, target=live.backup, key=key)
    patched = store._conn.execute(
        "SELECT count(*) FROM revisions WHERE patch_of IS NOT NULL").fetchone()[0]
    assert patched == 12, "the essay is stored as patches in the main file and the WAL"
    image = crash_image(live, tmp_path / "image")
    store.close()
    assert wal_path(image.db).stat().st_size > 0 and image.backup.exists()
    return image, saved


def pairs(revisions: list[Revision]) -> dict[tuple[str, int], object]:
    return {(r.question_id, r.revision): r.value for r in revisions}


def check_recovered(paths: StorePaths, key: bytes, saved: list[Revision], *, reason: str,
                    expect_all: bool = True):  # type: ignore[no-untyped-def]
    store, report = open_or_recover(paths, key=key)
    try:
        assert report.recovered and report.reason == reason
        assert report.message(), "the candidate and proctor are told"
        assert store.integrity_problems() == []
        got = pairs(store.revisions())
        if expect_all:
            assert got == pairs(saved)
        else:
            assert set(got.items()) <= set(pairs(saved).items())
        assert report.revisions_total == len(got)
        kept = [p for p in report.damaged_files if p.name.endswith(".db")]
        assert kept and all(p.exists() and p.parent == paths.damaged_dir for p in kept)
        return store, report
    except BaseException:
        store.close()
        raise


def test_a_torn_page_in_the_main_file(tmp_path: Path, key: bytes) -> None:
    paths, saved = build(tmp_path, key)
    with open(paths.db, "r+b") as handle:  # half of page 3 never reached the disk
        handle.seek(2 * PAGE + PAGE // 2)
        handle.write(b"\x00" * (PAGE // 2))
    store, report = check_recovered(paths, key, saved, reason="store.corrupt")
    assert report.from_damaged_file > 0 and store.get_blob("face/1") == b"face" * 500
    assert store.get_meta("paper_key") == "secret"
    store.close()


def test_a_file_truncated_mid_page(tmp_path: Path, key: bytes) -> None:
    paths, saved = build(tmp_path, key)
    os.truncate(paths.db, 3 * PAGE + 100)
    store, report = check_recovered(paths, key, saved, reason="store.truncated")
    assert report.from_damaged_file + report.from_backup == len(saved)
    store.close()


def test_a_file_truncated_to_nothing_keeps_the_wal(tmp_path: Path, key: bytes) -> None:
    """SQLite itself would delete the WAL of an empty database file: it is moved aside
    first and replayed onto the backup instead."""
    paths, saved = build(tmp_path, key)
    os.truncate(paths.db, 0)
    store, report = check_recovered(paths, key, saved, reason="store.truncated")
    assert any(p.name.endswith(".db-wal") for p in report.damaged_files)
    store.close()


def test_garbage_over_the_header(tmp_path: Path, key: bytes) -> None:
    paths, saved = build(tmp_path, key)
    with open(paths.db, "r+b") as handle:
        handle.write(random.Random(1).randbytes(PAGE))
    store, report = check_recovered(paths, key, saved, reason="store.corrupt")
    assert report.from_damaged_file > 0  # second batch: the WAL replayed onto the backup
    store.close()


def test_garbage_in_the_wal_without_the_redo_log_is_reported(tmp_path: Path,
                                                              key: bytes) -> None:
    """A damaged WAL frame silently ends SQLite's replay; with the redo log gone too, the
    loss cannot be counted, but it is said, and the backup and the re-chained WAL give
    everything back."""
    paths, saved = build(tmp_path, key, backup_after_all=True)
    redo_path_for(paths.db).unlink()
    with open(wal_path(paths.db), "r+b") as handle:
        handle.seek(32 + 24 + 100)  # inside the first frame's page
        handle.write(b"\xff" * 64)
    store, report = open_or_recover(paths, key=key)
    assert report.recovered and report.reason == "store.redo_missing"
    assert not report.loss_checked and "无法核对" in report.message()
    assert pairs(store.revisions()) == pairs(saved)
    store.close()


@pytest.mark.parametrize("damage", ["header", "whole file"])
def test_an_essay_stored_as_patches_survives_a_destroyed_main_file(
    tmp_path: Path, key: bytes, damage: str
) -> None:
    """Whole values and patches on both sides of a snapshot; then the main file is lost.
    The backup + WAL hold every patch's base (the WAL is checkpointed only right after a
    snapshot), so even the latest essay comes back."""
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key)
    saved: list[Revision] = []
    essay = "开头" * 400
    for round_ in range(3):
        for i in range(12):
            essay = essay[:200] + f"第{round_}.{i}句" + essay[200:]
            saved.append(store.save(question_id="essay", value=essay, server_time_ms=None))
            saved.append(store.save(question_id=f"q{i}", value="B", server_time_ms=None))
        if round_ < 2:
            assert store.snapshot()
    image = crash_image(live, tmp_path / "image")
    store.close()
    size = image.db.stat().st_size
    with open(image.db, "r+b") as handle:
        handle.write(random.Random(1).randbytes(PAGE if damage == "header" else size))
    store, _ = check_recovered(image, key, saved, reason="store.corrupt")
    assert store.current_answers()["essay"].value == essay
    store.close()


def test_a_deleted_store_is_rebuilt_from_the_backup(tmp_path: Path, key: bytes) -> None:
    paths, saved = build(tmp_path, key, backup_after_all=True)
    paths.db.unlink()
    wal_path(paths.db).unlink()
    store, report = open_or_recover(paths, key=key)
    assert report.recovered and report.reason == "store.missing"
    assert pairs(store.revisions()) == pairs(saved)
    store.close()


def test_a_damaged_backup_does_not_disturb_a_healthy_store(tmp_path: Path, key: bytes) -> None:
    paths, saved = build(tmp_path, key)
    paths.backup.write_bytes(b"garbage" * 1000)
    store, report = open_or_recover(paths, key=key)
    assert not report.recovered
    assert pairs(store.revisions()) == pairs(saved)
    assert store.snapshot_if_due()  # replaced at the first pause
    store.close()
    backup = AnswerStore.open(paths.backup, key=key, create=False, snapshot_policy=None)
    assert pairs(backup.revisions()) == pairs(saved)
    backup.close()


def test_nothing_recoverable_is_said_never_hidden(tmp_path: Path, key: bytes) -> None:
    paths, _ = build(tmp_path, key)
    paths.backup.unlink()
    wal_path(paths.db).unlink()
    redo_path_for(paths.db).unlink()
    paths.db.write_bytes(random.Random(2).randbytes(8 * PAGE))
    store, report = open_or_recover(paths, key=key)
    assert report.recovered and report.revisions_total == 0
    assert "没有找到可恢复的作答记录" in report.message()
    assert store.revisions() == []
    store.close()


def test_server_answers_fill_the_gap(tmp_path: Path, key: bytes) -> None:
    paths, saved = build(tmp_path, key)
    paths.backup.unlink()
    paths.db.write_bytes(random.Random(3).randbytes(8 * PAGE))
    wal_path(paths.db).unlink()
    redo_path_for(paths.db).unlink()
    on_server = [ServerAnswer(r.question_id, r.revision, r.value, 5) for r in saved[:50]]
    store, report = open_or_recover(paths, key=key, server_answers=lambda: on_server)
    assert report.recovered and report.server_checked and report.from_server > 0
    assert report.revision_floor is None
    current = store.current_answers()
    latest = {a.question_id: a for a in on_server}
    assert {q: r.revision for q, r in current.items()} == {q: a.revision
                                                         for q, a in latest.items()}
    assert store.save(question_id="q0", value="next", server_time_ms=None).revision == (
        latest["q0"].revision + 1)
    store.close()


def test_without_the_server_new_revisions_outrank_anything_lost(
    tmp_path: Path, key: bytes
) -> None:
    """Revisions lost with the damaged file may have reached the server; new ones must
    beat them there ("highest revision wins"), so numbering jumps past a floor."""
    paths, saved = build(tmp_path, key)
    os.truncate(paths.db, 0)
    wal_path(paths.db).unlink()  # the second batch is gone for good locally
    redo_path_for(paths.db).unlink()

    def offline() -> list[ServerAnswer]:
        raise ConnectionError("network unreachable")

    store, report = open_or_recover(paths, key=key, server_answers=offline)
    assert report.recovered and not report.server_checked
    assert "network unreachable" in (report.server_error or "")
    assert "服务器" in report.message()
    highest_ever = max(r.revision for r in saved)
    assert report.revision_floor is not None and report.revision_floor > highest_ever
    new = store.save(question_id="q1", value="after recovery", server_time_ms=None)
    assert new.revision >= RECOVERY_REVISION_GAP > highest_ever
    store.close()
    report.mark_shown()
    store, again = open_or_recover(paths, key=key)  # the floor is durable
    assert not again.recovered
    assert store.save(question_id="q2", value="x", server_time_ms=None).revision >= (
        RECOVERY_REVISION_GAP)
    store.close()


def test_a_crash_during_recovery_just_recovers_again(tmp_path: Path, key: bytes) -> None:
    paths, saved = build(tmp_path, key)
    with open(paths.db, "r+b") as handle:
        handle.seek(2 * PAGE)
        handle.write(b"\x00" * PAGE)
    # Leftovers of a recovery killed half way: a half-built store and salvage copies.
    paths.db.with_name("answers.db.recovering").write_bytes(b"half")
    (paths.directory / "salvage").mkdir()
    (paths.directory / "salvage" / "damaged.db").write_bytes(b"copy")
    store, _report = check_recovered(paths, key, saved, reason="store.corrupt")
    store.close()
    leftovers = {p.name for p in paths.directory.iterdir()}
    assert "answers.db.recovering" not in leftovers and "salvage" not in leftovers


@pytest.mark.parametrize("seed", range(6))
def test_random_damage_never_loses_what_the_backup_and_wal_hold(
    tmp_path: Path, key: bytes, seed: int
) -> None:
    """Random garbage runs in the main file: whatever is hit, the open is not silent and
    no recovered revision is invented or altered."""
    paths, saved = build(tmp_path, key)
    rng = random.Random(seed)
    size = paths.db.stat().st_size
    with open(paths.db, "r+b") as handle:
        for _ in range(rng.randint(1, 4)):
            handle.seek(rng.randrange(size))
            handle.write(rng.randbytes(rng.randint(1, 3000)))
    store, report = open_or_recover(paths, key=key)
    got = pairs(store.revisions())
    assert set(got.items()) <= set(pairs(saved).items())
    if report.recovered:
        assert report.message()
        assert len(got) == len(saved)  # backup + WAL cover everything in this layout
    else:
        assert got == pairs(saved)  # the damage fell into unused bytes of the file
    assert store.integrity_problems() == []
    store.close()


class Died(BaseException):
    """Stands for the process dying at this point (SIGKILL, power cut)."""


@pytest.mark.parametrize("moves_before_death", [0, 1])  # before the WAL, before the db
def test_death_in_the_middle_of_the_swap_is_rolled_forward(
    tmp_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch, moves_before_death: int
) -> None:
    """Once the rebuilt store is durable, the recovery finishes even if the process dies
    while moving the damaged files aside: the next open completes it and still reports."""
    from client.store import recovery

    paths, saved = build(tmp_path, key)
    with open(paths.db, "r+b") as handle:
        handle.seek(2 * PAGE)
        handle.write(b"\x00" * PAGE)
    real_move = recovery.move_aside
    moves: list[Path] = []

    def dying_move(source: Path, target: Path) -> None:
        if len(moves) == moves_before_death:
            raise Died()
        moves.append(source)
        real_move(source, target)

    monkeypatch.setattr(recovery, "move_aside", dying_move)
    with pytest.raises(Died):
        open_or_recover(paths, key=key)
    monkeypatch.setattr(recovery, "move_aside", real_move)
    assert (paths.directory / "recovery.json").exists()

    store, report = open_or_recover(paths, key=key)
    try:
        assert report.recovered and report.reason == "store.corrupt" and report.message()
        assert pairs(store.revisions()) == pairs(saved)
        assert store.integrity_problems() == []
    finally:
        store.close()
    assert not (paths.directory / "recovery.json").exists()
    kept = sorted(p.name for p in paths.damaged_dir.iterdir())
    assert any(n.endswith(".db") and "backup" not in n for n in kept), kept
    assert any(n.endswith(".db-wal") for n in kept), kept
    report.mark_shown()
    store, again = open_or_recover(paths, key=key)
    assert not again.recovered
    store.close()
