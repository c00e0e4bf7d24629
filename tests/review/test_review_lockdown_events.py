"""A focus loss during the exam reaches the server's review record: opened, then closed
with its end time, as a warning that does not hold the result by itself."""

from __future__ import annotations

import time

from review_helpers import login, store_writer

from client.lockdown.focus import FocusLog
from client.review.outbox import all_items, outbox_counts
from client.review.services import ReviewServices
from client.review.transport import HttpTransport
from server import review_store


def wait_for(predicate, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_focus_loss_is_recorded_for_review(srv, tmp_path):
    alice = login(srv)
    clock = iter(range(1_000, 100_000, 1_000))
    focus = FocusLog(now_ms=lambda: next(clock))
    with store_writer(tmp_path / "answers.db") as writer:
        services = ReviewServices(
            run_on_store=writer.call,
            transport=HttpTransport(base_url=srv.url, token=lambda: alice.token, timeout_s=5),
            client_id="pc-01", server_now_ms=srv.clock.now_ms)
        services.start()
        try:
            lost = focus.lost(taken_by="notepad.exe")
            assert lost is not None
            services.lockdown(lost.finding(), event_id=lost.event_id, ended=False,
                              at_ms=lost.started_ms)
            wait_for(lambda: writer.call(outbox_counts).result().pending == 0)
            back = focus.regained()
            assert back is not None
            services.lockdown(back.finding(), event_id=back.event_id, ended=True,
                              at_ms=back.ended_ms)
            wait_for(lambda: writer.call(outbox_counts).result().pending == 0)
            items = writer.call(all_items).result()
            assert [i.rejected for i in items] == [None, None], items
        finally:
            services.stop()
    stored = [item for item in review_store.load_material(srv.db, alice.attempt().id)[1]
              if item.kind == "integrity"]
    assert [item.payload["state"] for item in stored] == ["found", "resolved"]
    finding = stored[1].payload["finding"]
    assert finding["code"] == "lockdown" and finding["kind"] == "focus_lost"
    assert finding["detail"]["ended_ms"] == back.ended_ms
    assert finding["detail"]["taken_by"] == "notepad.exe" == finding["subject"]
    assert alice.attempt().review_status != "pending_review"  # a warning, not a hold
