"""The proctor log goes from the real store to the real server, once per event."""

from __future__ import annotations

import requests
from offline_helpers import sit

from client.proctor.proctor_log import ProctorAction, ProctorLog
from client.proctor.store_sink import (
    SYNC_PATH,
    StoreEventSink,
    mark_synced,
    sync_request_body,
    unsynced_events,
)
from client.store import AnswerStore, StoreWriter
from server.offline_import import PROCTOR_EVENT_KIND


def test_proctor_events_sync_once_each(srv, tmp_path):
    alice = sit(srv)
    writer = StoreWriter(lambda: AnswerStore.open(tmp_path / "a.db", key=bytes(32),
                                                  snapshot_policy=None))
    try:
        log = ProctorLog(sink=StoreEventSink(writer.call), server_time_ms=srv.clock.now_ms)
        log.record(ProctorAction.UNLOCKED, proctor_id="p1", name="王老师")
        log.record(ProctorAction.RELOGIN_AUTHORIZED, proctor_id="p1")

        def push() -> int:
            pending = writer.call(unsynced_events).result()
            body = sync_request_body(pending, client_id=alice.client_id)
            response = requests.post(srv.api(SYNC_PATH), json=body, headers=alice.headers(),
                                     timeout=10)
            response.raise_for_status()
            acked = response.json()["acked_up_to"]
            writer.call(lambda store: mark_synced(store, up_to_seq=acked)).result()
            return len(pending)

        assert push() == 2
        assert push() == 0  # nothing left
        log.record(ProctorAction.ENDED, proctor_id="p1")
        # A retry of an already stored batch (ack lost) must not duplicate anything.
        writer.call(lambda store: store.set_meta("proctor_log_synced_seq", "0")).result()
        assert push() == 3
    finally:
        writer.close()
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    stored = srv.db.events(attempt_id=attempt.id, kind=PROCTOR_EVENT_KIND)
    assert [e.payload["kind"] for e in stored] == [
        "proctor.unlocked", "proctor.relogin_authorized", "proctor.ended"]
    assert stored[0].payload["detail"] == {"name": "王老师"}


def test_proctor_events_need_a_candidate_token(srv):
    response = requests.post(srv.api(SYNC_PATH), json={"events": []}, timeout=10)
    assert response.status_code == 401
