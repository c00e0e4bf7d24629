from __future__ import annotations

import pytest

from client.proctor.proctor_log import ProctorAction, ProctorEvent


def test_record_writes_both_clocks_to_the_sink(proctor_log, sink):
    event = proctor_log.record(ProctorAction.EXPORTED, proctor_id="p1", file_name="a.examans")
    assert event == ProctorEvent("proctor.exported", "p1", 4_000, 5_000, {"file_name": "a.examans"})
    assert sink.events == [("proctor.exported", event.to_payload())]


def test_payload_round_trip():
    event = ProctorEvent("proctor.entry_approved", "p2", 1, None, {"reason": "人工核验身份证"})
    assert ProctorEvent.from_payload(event.kind, event.to_payload()) == event


@pytest.mark.parametrize("payload", [
    {}, {"wall_time_ms": "1"}, {"wall_time_ms": 1, "server_time_ms": "x"},
    {"wall_time_ms": 1, "proctor_id": 5}, {"wall_time_ms": 1, "detail": []},
])
def test_bad_payloads_are_refused(payload):
    with pytest.raises(ValueError):
        ProctorEvent.from_payload("proctor.ended", payload)
