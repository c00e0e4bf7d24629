"""StoreWriter: one writer thread, non-blocking saves, coalesced essay edits, status."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from client.store import writer as writer_module
from client.store.database import AnswerStore
from client.store.errors import StoreError
from client.store.model import Revision
from client.store.paths import backup_path_for
from client.store.writer import SaveState, StoreWriter, WriterStatus


class Results:
    """Collects on_done results; wait() blocks the test (never the writer) until n came."""

    def __init__(self) -> None:
        self.items: list[Revision | BaseException] = []
        self.threads: set[str] = set()
        self._cond = threading.Condition()

    def __call__(self, result: Revision | BaseException) -> None:
        with self._cond:
            self.items.append(result)
            self.threads.add(threading.current_thread().name)
            self._cond.notify_all()

    def wait(self, count: int, timeout: float = 10.0) -> list[Revision | BaseException]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.items) >= count, timeout), self.items
            return list(self.items)


def test_save_never_blocks_and_reports_each_durable_revision(
    store_path: Path, key: bytes
) -> None:
    opening = threading.Event()

    def slow_factory() -> AnswerStore:
        opening.wait(10)  # the disk is slow: the UI must not notice
        return AnswerStore.open(store_path, key=key)

    results = Results()
    writer = StoreWriter(slow_factory)
    started = time.perf_counter()
    for value in ("A", "B", "C"):
        writer.save(question_id="q1", value=value, server_time_ms=None, on_done=results)
    assert time.perf_counter() - started < 0.05
    assert results.items == []
    opening.set()
    done = results.wait(3)
    assert [(r.revision, r.value) for r in done if isinstance(r, Revision)] == [
        (1, "A"), (2, "B"), (3, "C")]  # every click is its own revision, none merged
    assert results.threads == {"answer-store-writer"}
    writer.close()
    store = AnswerStore.open(store_path, key=key)
    assert [r.value for r in store.revisions()] == ["A", "B", "C"]
    store.close()


def test_a_busy_writer_does_not_block_save(store_path: Path, key: bytes) -> None:
    writer = StoreWriter(lambda: AnswerStore.open(store_path, key=key))
    busy = writer.call(lambda store: time.sleep(0.3))
    results = Results()
    started = time.perf_counter()
    writer.save(question_id="q1", value="A", server_time_ms=None, on_done=results)
    assert time.perf_counter() - started < 0.05
    busy.result(5)
    results.wait(1)
    writer.close()


def test_essay_edits_are_coalesced_but_the_last_keystroke_is_durable_within_a_second(
    store_path: Path, key: bytes
) -> None:
    results = Results()
    writer = StoreWriter(lambda: AnswerStore.open(store_path, key=key))
    writer.ready().result(5)
    text = ""
    typed = 0
    started = time.monotonic()
    while time.monotonic() - started < 2.2:  # ~45 keystrokes over 2.2 s
        text += "字"
        writer.save(question_id="essay", value=text, server_time_ms=None, on_done=results,
                    coalesce=True)
        typed += 1
        time.sleep(0.05)
    last_keystroke = time.monotonic()
    done = results.wait(typed)
    durable_after = time.monotonic() - last_keystroke
    assert durable_after <= 1.1
    final = done[-1]
    assert isinstance(final, Revision) and final.value == text
    revisions = writer.call(lambda store: store.revisions("essay")).result()
    assert 3 <= len(revisions) <= 4  # 2.2 s of typing: at most one revision per second
    gaps = [(b.mono_time_ns - a.mono_time_ns) / 1e9 for a, b in itertools.pairwise(revisions)]
    assert all(gap >= 0.95 for gap in gaps), gaps
    assert revisions[-1].value == text
    writer.close()


def test_a_plain_save_overtakes_a_waiting_essay_edit(store_path: Path, key: bytes) -> None:
    results = Results()
    writer = StoreWriter(lambda: AnswerStore.open(store_path, key=key), coalesce_interval_s=30)
    for text in ("a", "ab", "abc"):
        writer.save(question_id="essay", value=text, server_time_ms=None, on_done=results,
                    coalesce=True)
    results.wait(1)  # "a" went out at once; "ab", "abc" wait for the interval
    time.sleep(0.1)
    assert len(results.items) == 1
    assert writer.unsaved_answers() == {"essay": "abc"}
    assert writer.status.state is SaveState.SAVING
    writer.save(question_id="essay", value="abcd", server_time_ms=None, on_done=results)
    done = results.wait(4)
    assert [r.revision for r in done if isinstance(r, Revision)] == [1, 2, 2, 2]
    assert all(r.value == "abcd" for r in done[1:] if isinstance(r, Revision))
    assert writer.unsaved_answers() == {}
    writer.close()


def test_flush_and_close_write_waiting_edits(store_path: Path, key: bytes) -> None:
    results = Results()
    writer = StoreWriter(lambda: AnswerStore.open(store_path, key=key), coalesce_interval_s=30)
    writer.save(question_id="e1", value="x", server_time_ms=None, on_done=results, coalesce=True)
    writer.save(question_id="e1", value="xy", server_time_ms=None, on_done=results,
                coalesce=True)
    writer.flush().result(5)
    assert [r.value for r in writer.call(lambda s: s.revisions()).result()] == ["x", "xy"]
    writer.save(question_id="e1", value="xyz", server_time_ms=None, on_done=results,
                coalesce=True)
    writer.close()
    assert len(results.items) == 3
    store = AnswerStore.open(store_path, key=key)
    assert store.current_answers()["e1"].value == "xyz"
    store.close()


def test_a_value_that_cannot_be_stored_fails_alone(store_path: Path, key: bytes) -> None:
    results = Results()
    writer = StoreWriter(lambda: AnswerStore.open(store_path, key=key))
    writer.save(question_id="q1", value=float("inf"), server_time_ms=None, on_done=results)
    writer.save(question_id="q2", value="A", server_time_ms=None, on_done=results)
    bad, good = results.wait(2)
    assert isinstance(bad, ValueError)
    assert isinstance(good, Revision) and good.question_id == "q2"
    assert writer.status.state is SaveState.SAVED
    writer.close()


def test_a_failing_callback_does_not_stop_the_writer(store_path: Path, key: bytes) -> None:
    def explode(result: Revision | BaseException) -> None:
        raise RuntimeError("UI bug")

    results = Results()
    writer = StoreWriter(lambda: AnswerStore.open(store_path, key=key))
    writer.save(question_id="q1", value="A", server_time_ms=None, on_done=explode)
    writer.save(question_id="q1", value="B", server_time_ms=None, on_done=results)
    (second,) = results.wait(1)
    assert isinstance(second, Revision) and second.revision == 2
    writer.close()


def test_call_runs_on_the_writer_thread_and_passes_errors_back(
    store_path: Path, key: bytes
) -> None:
    writer = StoreWriter(lambda: AnswerStore.open(store_path, key=key))
    assert writer.call(lambda s: threading.current_thread().name).result(5) == (
        "answer-store-writer")

    def boom(store: AnswerStore) -> None:
        raise KeyError("nope")

    with pytest.raises(KeyError):
        writer.call(boom).result(5)
    writer.close()
    with pytest.raises(StoreError):
        writer.call(lambda s: None).result(5)
    results = Results()
    writer.save(question_id="q", value="A", server_time_ms=None, on_done=results)
    (after_close,) = results.wait(1)
    assert isinstance(after_close, StoreError) and after_close.code == "store.closed"


def test_an_unopenable_store_is_reported_by_ready(tmp_path: Path, key: bytes) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    statuses: list[WriterStatus] = []
    writer = StoreWriter(lambda: AnswerStore.open(blocker / "answers.db", key=key),
                         on_status=statuses.append)
    with pytest.raises(StoreError) as caught:
        writer.ready().result(5)
    assert caught.value.code == "store.cannot_open"
    results = Results()
    writer.save(question_id="q1", value="A", server_time_ms=None, on_done=results)
    deadline = time.monotonic() + 5
    while writer.status.held != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer.status.state is SaveState.FAILED and writer.status.held == 1
    assert writer.unsaved_answers() == {"q1": "A"}
    writer.close()
    (result,) = results.wait(1)  # given up only at close, with the reason
    assert isinstance(result, StoreError)
    assert any(s.state is SaveState.FAILED for s in statuses)


def _save_without_pause(writer: StoreWriter, results: Results, *, seconds: float,
                        watch: Path | None = None) -> bool:
    """Quick saves one after another for *seconds*; True if *watch* appeared meanwhile."""
    deadline = time.monotonic() + seconds
    for count in itertools.count(1):
        writer.save(question_id=f"q{count % 5}", value=str(count), server_time_ms=None,
                    on_done=results)
        results.wait(count)
        if watch is not None and watch.exists():
            return True
        if time.monotonic() > deadline:
            return False
    raise AssertionError("unreachable")


def _appears(path: Path, *, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return False


def test_the_backup_waits_for_a_pause_in_saving(
    store_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A save arriving while the writer checkpoints after a snapshot waits for it: quick
    # saves (a candidate clicking through answers) must not start one between them.
    monkeypatch.setattr(writer_module, "PAUSE_S", 1.5)  # wide: a slow CI disk is no pause
    writer = StoreWriter(lambda: AnswerStore.open(store_path, key=key))
    writer.ready().result()
    backup = backup_path_for(store_path)
    try:
        appeared = _save_without_pause(writer, Results(), seconds=1.0, watch=backup)
        assert not appeared, "a backup was made between quick saves"
        assert _appears(backup, within_s=10), "no backup after the pause"
    finally:
        writer.close()


def test_continuous_saving_still_gets_a_backup(
    store_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "PAUSE_S", 60.0)  # never a pause
    monkeypatch.setattr(writer_module, "MAX_WITHOUT_MAINTENANCE_S", 0.3)
    writer = StoreWriter(lambda: AnswerStore.open(store_path, key=key))
    writer.ready().result()
    try:
        assert _save_without_pause(writer, Results(), seconds=10,
                                   watch=backup_path_for(store_path))
    finally:
        writer.close()
