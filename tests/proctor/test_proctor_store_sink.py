"""The proctor log kept in the real (SQLCipher) answer store, through its writer thread."""

from __future__ import annotations

from client.proctor.proctor_log import ProctorAction, ProctorLog
from client.proctor.store_sink import StoreEventSink, read_events
from client.store import AnswerStore, StoreWriter

KEY = bytes(range(32))


def open_writer(path):
    writer = StoreWriter(lambda: AnswerStore.open(path, key=KEY, snapshot_policy=None))
    writer.ready().result()
    return writer


def test_events_are_durable_ordered_and_readable_after_reopening(tmp_path):
    path = tmp_path / "answers.db"
    writer = open_writer(path)
    log = ProctorLog(sink=StoreEventSink(writer.call), server_time_ms=lambda: 42)
    for n in range(12):  # more than 9: the order must not be lexical on "1, 10, 11, 2"
        log.record(ProctorAction.EXPORTED, proctor_id="p1", n=n)
    log.record(ProctorAction.ENDED, proctor_id="p1")
    writer.close()
    assert b"proctor.exported" not in path.read_bytes()  # encrypted with the answers

    writer = open_writer(path)
    try:
        events = writer.call(read_events).result()
    finally:
        writer.close()
    assert [e.detail.get("n") for e in events[:12]] == list(range(12))
    assert events[-1].kind == "proctor.ended" and events[-1].server_time_ms == 42
    assert all(e.proctor_id == "p1" for e in events)
