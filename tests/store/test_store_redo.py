"""A save makes one file durable, its redo record; a power cut loses WAL content, never an
acknowledged revision (client/store/redo.py, docs/durability.md section 1).

A power cut is simulated the honest way: after the process is killed, the WAL keeps only
what is known to have been flushed (the store flushes it at open and SQLite at the start
of a checkpoint; after a complete checkpoint the main file holds everything) plus a random
part of the rest, possibly nothing; the redo log must bring back every acknowledged save.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from store_helpers import crash_image

from client.store import redo
from client.store.database import AnswerStore
from client.store.model import JsonValue, Revision
from client.store.paths import StorePaths, store_paths, wal_path
from client.store.recovery import RecoveryReport, open_or_recover
from client.store.redo import redo_path_for
from tests.torture.writer_process import digest

REPO_ROOT = Path(__file__).resolve().parents[2]
WAL_HEADER = 32
WAL_FRAME = 24 + 4096


def cut_wal(paths: StorePaths, *, flushed: int, keep_fraction: float) -> int:
    """Drop WAL content beyond *flushed* bytes (rounded up to a whole frame): keep
    *keep_fraction* of the frames after that. Returns the bytes dropped."""
    wal = wal_path(paths.db)
    if not wal.exists() or wal.stat().st_size < WAL_HEADER:
        return 0
    size = wal.stat().st_size
    frames = (size - WAL_HEADER) // WAL_FRAME
    must = 0 if flushed <= WAL_HEADER else -(-(flushed - WAL_HEADER) // WAL_FRAME)
    must = min(must, frames)
    keep = must + int((frames - must) * keep_fraction)
    os.truncate(wal, WAL_HEADER + keep * WAL_FRAME)
    return size - (WAL_HEADER + keep * WAL_FRAME)


def test_a_power_cut_after_a_kill_loses_no_acknowledged_save(tmp_path: Path) -> None:
    """A real writer process (tests/torture/writer_process.py) is killed while saving;
    then everything in the WAL it had not reported flushed is thrown away."""
    key = os.urandom(32)
    output = tmp_path / "out.txt"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    with open(output, "wb") as sink:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.torture.writer_process", "--data-dir",
             str(tmp_path / "data"), "--key-hex", key.hex(), "--seed", "3",
             "--snapshot-every", "100000"],  # no checkpoint: the WAL holds everything
            cwd=REPO_ROOT, env=env, stdout=sink, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while output.read_bytes().count(b"\nACK ") < 300:
        assert child.poll() is None and time.monotonic() < deadline, output.read_text()
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    lines = output.read_text(errors="replace").split("\n")[:-1]
    acked = {(p[1], int(p[2])): p[3] for p in (line.split() for line in lines)
             if p and p[0] == "ACK"}
    flushed = [int(line.split()[1]) for line in lines if line.startswith("WALSYNC")]
    paths = store_paths(tmp_path / "data", exam_id="torture-exam", candidate_id="c-0001")
    dropped = cut_wal(paths, flushed=flushed[-1] if flushed else 0, keep_fraction=0.0)
    assert dropped > 100 * WAL_FRAME, "the saves were in the WAL, not yet flushed"
    store, report = open_or_recover(paths, key=key)
    try:
        assert not report.recovered, report
        assert store.replayed_from_redo >= len(acked) - 10
        got = {(r.question_id, r.revision): r.value for r in store.revisions()}
        assert {k: digest(got[k]) for k in acked if k in got} == acked
        assert store.integrity_problems() == []
    finally:
        store.close()


def test_the_wal_is_durable_before_the_log_starts_over(tmp_path: Path) -> None:
    """The log is started over only at a checkpoint (main file durable) or at open after
    the WAL was flushed: a later power cut then loses nothing the log no longer holds."""
    key = os.urandom(32)
    live = StorePaths(tmp_path / "live")
    store, _ = open_or_recover(live, key=key, snapshot_policy=None)
    first = [store.save(question_id=f"q{i}", value=i, server_time_ms=None) for i in range(8)]
    image = crash_image(live, tmp_path / "killed")  # a kill: the WAL is in the OS cache
    store.close()
    store, report = open_or_recover(image, key=key, snapshot_policy=None)
    assert not report.recovered
    flushed_at_open = store.wal_size()
    second = [store.save(question_id="q0", value=i, server_time_ms=None) for i in range(5)]
    cut = crash_image(image, tmp_path / "cut")
    store.close()
    assert cut_wal(cut, flushed=flushed_at_open, keep_fraction=0.0) > 0
    store, report = open_or_recover(cut, key=key, snapshot_policy=None)
    assert not report.recovered and store.replayed_from_redo == 5
    assert {(r.question_id, r.revision) for r in store.revisions()} == {
        (r.question_id, r.revision) for r in first + second}
    store.close()


class SavesKillsAndPowerCuts(RuleBasedStateMachine):
    """Invariant: every acknowledged revision is present with its value, or the open
    reported it lost by exact count; never silently missing."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="redo-machine-"))
        self.key = os.urandom(32)
        self.generation = 0
        self.acked: dict[tuple[str, int], JsonValue] = {}
        self.flushed = 0  # WAL bytes known to be on the disk
        self.essay = "论" * 700
        self.store: AnswerStore | None = None
        self.report: RecoveryReport | None = None

    @initialize()
    def open_new(self) -> None:
        self.paths = StorePaths(self.root / "g0")
        self.store, _ = open_or_recover(self.paths, key=self.key, snapshot_policy=None)
        self.flushed = self.store.wal_size()

    def _acknowledge(self, revision: Revision) -> None:
        self.acked[(revision.question_id, revision.revision)] = revision.value

    @rule(question=st.integers(0, 4), value=st.integers(0, 10**6))
    def save(self, question: int, value: int) -> None:
        assert self.store is not None
        self._acknowledge(self.store.save(question_id=f"q{question}", value=value,
                                          server_time_ms=None))

    @rule(at=st.integers(0, 600), text=st.text(alphabet="答案x", min_size=1, max_size=30))
    def essay_edit(self, at: int, text: str) -> None:
        assert self.store is not None
        self.essay = self.essay[:at] + text + self.essay[at:]
        self._acknowledge(self.store.save(question_id="essay", value=self.essay,
                                          server_time_ms=None))

    @rule()
    def checkpoint(self) -> None:
        """A pause: snapshot, then the checkpoint after it; the log starts over."""
        assert self.store is not None
        self.store.snapshot()
        if self.store._wal_backfilled:
            self.flushed = 0  # the main file holds everything (synced by SQLite)

    @rule(power_cut=st.booleans(), keep=st.floats(0, 1), damage_record=st.booleans(),
          which=st.integers(0, 10**6))
    def crash(self, power_cut: bool, keep: float, damage_record: bool, which: int) -> None:
        assert self.store is not None
        self.generation += 1
        image = crash_image(self.paths, self.root / f"g{self.generation}")
        self.store.close()  # the old folder is left behind, as a dead process leaves it
        if power_cut:
            cut_wal(image, flushed=self.flushed, keep_fraction=keep)
            if damage_record:
                self._damage_a_record(image, which)
        self.paths = image
        self.store, self.report = open_or_recover(image, key=self.key, snapshot_policy=None)
        self.flushed = self.store.wal_size()  # flushed at open
        self._check_reopened()

    def _damage_a_record(self, image: StorePaths, which: int) -> None:
        log_file = redo_path_for(image.db)
        data = bytearray(log_file.read_bytes())
        pages = [offset for offset in range(redo.PAGE, len(data), redo.PAGE)
                 if any(data[offset:offset + 64])]
        if pages:
            offset = pages[which % len(pages)]
            data[offset + 100:offset + 132] = os.urandom(32)  # the body: header intact
            log_file.write_bytes(bytes(data))

    def _check_reopened(self) -> None:
        assert self.store is not None and self.report is not None
        got = {(r.question_id, r.revision): r.value for r in self.store.revisions()}
        missing = [k for k in self.acked if k not in got]
        changed = [k for k in self.acked if k in got and got[k] != self.acked[k]]
        assert not changed, changed
        if missing:
            assert self.report.recovered and self.report.message(), "silently missing"
            assert self.report.loss_checked, self.report
            assert self.report.lost_revisions == len(missing), (self.report, missing)
            for k in missing:  # reported: the candidate is told and the server asked
                del self.acked[k]
        assert self.store.integrity_problems() == []
        if self.report.recovered:
            self.report.mark_shown()
            essay = self.store.current_answers().get("essay")
            self.essay = essay.value if essay is not None and isinstance(
                essay.value, str) else "论" * 700

    @invariant()
    def every_acknowledged_revision_is_there(self) -> None:
        if self.store is None:
            return
        held = {(r.question_id, r.revision) for r in self.store.revisions()}
        assert set(self.acked) <= held

    def teardown(self) -> None:
        if self.store is not None:
            self.store.close()
        shutil.rmtree(self.root, ignore_errors=True)


SavesKillsAndPowerCuts.TestCase.settings = settings(
    max_examples=30, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_saves_kills_and_power_cuts = SavesKillsAndPowerCuts.TestCase

