"""The client outbox in a real SQLCipher store and the uploader over real HTTP: a server
that is down, comes back, loses acknowledgements, and refuses a bad item."""

from __future__ import annotations

import queue
import time

from review_helpers import astronaut, closed_port_url, jpeg, login, store_writer
from sqlalchemy import func, select

from client.camera.proctor_monitor import Condition, ProctorEvent
from client.camera.watermark import WatermarkInfo, evidence_photo
from client.integrity.findings import Finding
from client.integrity.rules import LocalizedName
from client.review.outbox import (
    ReviewOutbox,
    all_items,
    camera_event_item,
    identity_item,
    integrity_item,
    outbox_counts,
    put_item,
)
from client.review.transport import HttpTransport
from client.review.uploader import Backoff, ReviewUploader
from server import review_store

FAST = Backoff(initial_s=0.05, max_s=0.2, idle_s=30.0)


def server_counts(srv) -> dict[str, int]:
    with srv.db.read() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in review_store.TABLES[:3]}


def wait_for(predicate, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def blocking_finding() -> Finding:
    return Finding(code="e-02", check="vm", kind="vm", severity="block", subject="vmware",
                   name=LocalizedName("VMware", "VMware"), evidence=("pci.vmware 15AD",))


class Switchable:
    """post_json that talks to wherever ``url`` points (a closed port = server down)."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token, self.calls = url, token, 0

    def post_json(self, path, body):
        self.calls += 1
        transport = HttpTransport(base_url=self.url, token=lambda: self.token, timeout_s=3)
        return transport.post_json(path, body)


def test_uploader_survives_a_down_server_and_delivers_exactly_once(srv, tmp_path):
    alice = login(srv)
    http = Switchable(closed_port_url(), alice.token)
    rounds: queue.Queue = queue.Queue()
    store_path = tmp_path / "answers.db"
    info = WatermarkInfo(exam_time="09:00-11:00", center_id="demo-center", center_name="演示考点",
                         room="第03考场", candidate_id=alice.student_no, taken_at="08:52")
    evidence = evidence_photo(astronaut(), info).jpeg
    snapshot = jpeg(width=160, quality=70)
    with store_writer(store_path) as writer:
        uploader = ReviewUploader(run_on_store=writer.call, post_json=http.post_json,
                                  client_id="pc-01", backoff=FAST, on_round=rounds.put)
        outbox = ReviewOutbox(writer.call, on_queued=uploader.wake)
        uploader.start()
        try:
            approval = identity_item(passed=False, reason="match.not_matched", score=0.2,
                                     threshold=0.363, record={"outcome": "not_matched"},
                                     at_ms=None, approved_by_proctor=True, proctor_id="p-07",
                                     captures=[jpeg(width=240)], evidence=evidence)
            opened = ProctorEvent(kind=Condition.COVERED, started_ms=srv.clock.now_ms(),
                                  ended_ms=None, snapshot=snapshot)
            outbox.queue(approval).result(timeout=10)
            outbox.queue(camera_event_item(opened)).result(timeout=10)
            outbox.queue(integrity_item(blocking_finding(), phase="exam", at_ms=1)).result(10)

            # Down: rounds fail, nothing is lost, nothing arrives.
            failed = 0
            while failed < 3:
                failed += rounds.get(timeout=10).failed
            assert server_counts(srv) == {"identity_results": 0, "review_items": 0,
                                          "review_blobs": 0}
            assert writer.call(outbox_counts).result().pending == 3
            assert uploader.failures >= 3

            # Back: everything arrives, once.
            http.url = srv.url
            uploader.wake(even_in_backoff=True)
            wait_for(lambda: writer.call(outbox_counts).result().pending == 0)
            assert server_counts(srv) == {"identity_results": 1, "review_items": 2,
                                          "review_blobs": 3}
            assert alice.attempt().review_status == "pending_review"
            # Acknowledged: the images left the PC, the records stay as acknowledged.
            items = writer.call(lambda s: all_items(s, with_images=True)).result()
            assert all(i.acked_ms is not None and not i.images for i in items)
            assert not [n for n in writer.call(lambda s: s.blob_names()).result()
                        if n.startswith("review-outbox/") and n.count("/") > 2]

            # The event closes later: the same event id completes the server's record.
            closed = ProctorEvent(kind=opened.kind, started_ms=opened.started_ms,
                                  ended_ms=opened.started_ms + 15_000, snapshot=snapshot,
                                  event_id=opened.event_id)
            outbox.queue(camera_event_item(closed)).result(timeout=10)
            wait_for(lambda: writer.call(outbox_counts).result().pending == 0)
            counts = server_counts(srv)
            assert counts == {"identity_results": 1, "review_items": 2, "review_blobs": 3}

            # Acknowledgements lost: everything is sent again, the server keeps one copy.
            calls = http.calls
            for item in (approval, camera_event_item(closed)):
                writer.call(lambda s, i=item: put_item(s, i)).result(timeout=10)
            uploader.wake()
            wait_for(lambda: writer.call(outbox_counts).result().pending == 0)
            assert http.calls > calls
            assert server_counts(srv) == counts
        finally:
            uploader.stop()
        assert not uploader._thread.is_alive()
    stored = review_store.load_material(srv.db, alice.attempt().id)[1]
    camera = [i for i in stored if i.kind == "camera"]
    assert camera[0].payload["ended_ms"] == opened.started_ms + 15_000
    # Nothing of the photos is readable in the store file.
    raw = store_path.read_bytes()
    assert evidence[200:400] not in raw and snapshot[200:400] not in raw


def test_a_refused_item_does_not_hold_back_the_others(srv, tmp_path):
    alice = login(srv)
    huge = b"\xff\xd8\xff" + bytes(review_store.MAX_SNAPSHOT_BYTES + 10)
    good = ProctorEvent(kind=Condition.TOO_DARK, started_ms=1, ended_ms=2, snapshot=jpeg(
        width=160))
    bad = ProctorEvent(kind=Condition.NO_FACE, started_ms=3, ended_ms=4, snapshot=huge)
    with store_writer(tmp_path / "answers.db") as writer:
        uploader = ReviewUploader(run_on_store=writer.call,
                                  post_json=alice.transport().post_json, client_id="pc-01",
                                  backoff=FAST)
        for event in (bad, good):
            writer.call(lambda s, e=event: put_item(s, camera_event_item(e))).result()
        report = uploader.upload_once()
        assert (report.delivered, report.rejected, report.failed) == (1, 1, False)
        items = {i.event_id: i for i in writer.call(all_items).result()}
        assert items[bad.event_id].rejected == "image_too_large"
        assert items[good.event_id].acked_ms is not None
        # A refused item is kept (with its image) and never sent again.
        assert uploader.upload_once().delivered == 0
        assert writer.call(lambda s: s.get_blob(
            f"review-outbox/camera/{bad.event_id}/snapshot-0")).result() == huge
    stored = review_store.load_material(srv.db, alice.attempt().id)[1]
    assert [i.event_id for i in stored] == [good.event_id]


def test_stop_is_prompt_while_backing_off(tmp_path):
    with store_writer(tmp_path / "answers.db") as writer:
        down = HttpTransport(base_url=closed_port_url(), token=lambda: "t", timeout_s=2)
        uploader = ReviewUploader(run_on_store=writer.call, post_json=down.post_json,
                                  client_id="pc", backoff=Backoff(initial_s=60, max_s=60))
        writer.call(lambda s: put_item(s, integrity_item(blocking_finding(), phase="exam",
                                                         at_ms=1))).result()
        uploader.start()
        wait_for(lambda: uploader.failures >= 1)
        started = time.monotonic()
        uploader.stop(timeout=5)
        assert time.monotonic() - started < 2 and not uploader._thread.is_alive()
