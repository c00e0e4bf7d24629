"""The review rule over real HTTP: identity, camera and integrity uploads -> 待审核."""

from __future__ import annotations

import base64

import pytest
from review_helpers import astronaut, jpeg, login
from sqlalchemy import func, select

from client.camera.proctor_monitor import Condition, ProctorEvent
from client.camera.watermark import WatermarkInfo, evidence_photo
from client.integrity.findings import Finding
from client.integrity.rules import LocalizedName
from client.review.outbox import camera_event_item, identity_item, integrity_item
from server import base_photos, review, review_store
from server.keys import load_keys


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def review_tables(srv) -> dict[str, int]:
    with srv.db.read() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in review_store.TABLES[:3]}


def failed_check(**overrides):
    values = {"passed": False, "reason": "match.not_matched", "score": 0.21,
              "threshold": 0.363, "record": {"outcome": "not_matched", "capture_count": 2},
              "at_ms": None, "captures": [jpeg(width=320), jpeg(width=240)]}
    values.update(overrides)
    return identity_item(**values)


def test_failed_identity_with_proctor_approval_holds_the_result(srv):
    alice = login(srv)
    # Three failed checks, then the proctor checks the ID card and approves entry.
    for _ in range(3):
        response = alice.post("/attempt/identity", failed_check().request_entry())
        assert response.status_code == 200 and response.json()["duplicate"] is False
    assert alice.attempt().review_status == "none"  # failing alone does not hold anything
    info = WatermarkInfo(exam_time="2026-06-01 09:00-11:00", center_id="demo-center",
                         center_name="演示考点", room="第03考场", candidate_id=alice.student_no,
                         taken_at="2026-06-01 08:52:10")
    photo = evidence_photo(astronaut(), info)
    approval = failed_check(approved_by_proctor=True, proctor_id="p-07", evidence=photo.jpeg)
    assert alice.post("/attempt/identity", approval.request_entry()).status_code == 200

    result = alice.submit_and_result()
    assert result["status"] == "pending_review" and result["score"] is None
    attempt = alice.attempt()
    assert attempt.review_status == "pending_review"
    assert "人脸识别认证未通过" in attempt.review_reason

    # The evidence photo is stored sealed: not in the database in clear, but readable.
    refs = [r for r in review_store.image_refs(srv.db, attempt.id) if r.role == "evidence"]
    assert len(refs) == 1
    with srv.db.read() as conn:
        sealed = conn.execute(select(review_store.review_blobs.c.sealed)
                              .where(review_store.review_blobs.c.id == refs[0].id)).scalar_one()
    assert photo.jpeg[:64] not in bytes(sealed)
    keys = load_keys(srv.data_dir)
    assert review_store.read_image(srv.db, keys, refs[0].id)[1] == photo.jpeg


def test_a_passed_check_holds_nothing(srv):
    alice = login(srv)
    # The server re-computes the match against the base photo it holds (without one a pass
    # cannot be checked and is held: test_review_identity_audit).
    base_photos.put_base_photo(srv.db, load_keys(srv.data_dir), candidate_id=alice.candidate_id,
                               jpeg=jpeg(), now_ms=1, uploaded_by="test")
    ok = identity_item(passed=True, reason="verified", score=0.91, threshold=0.363,
                       record={"outcome": "verified"}, at_ms=None, captures=[jpeg()])
    assert alice.post("/attempt/identity", ok.request_entry()).status_code == 200
    assert alice.submit_and_result()["status"] in ("computing", "scored")


def camera_body(*events: ProctorEvent) -> dict:
    return {"client_id": "pc-01", "events": [camera_event_item(e).request_entry()
                                             for e in events]}


def test_camera_events_per_the_rule(srv):
    alice, bob = login(srv, 0), login(srv, 1)
    start = srv.clock.now_ms()
    snapshot = jpeg(width=160, quality=70)
    # Alice: two short absences (40 s in total, under the 60 s of the rule): no hold.
    short = [ProctorEvent(kind=Condition.NO_FACE, started_ms=start + i * 100_000,
                          ended_ms=start + i * 100_000 + 20_000, snapshot=snapshot)
             for i in range(2)]
    assert alice.post("/attempt/camera-events", camera_body(*short)).status_code == 200
    assert alice.attempt().review_status == "none"
    # Bob: someone else sits down (opened, then closed: the same event id twice).
    opened = ProctorEvent(kind=Condition.DIFFERENT_PERSON, started_ms=start, ended_ms=None,
                          snapshot=snapshot, detail={"similarity": 0.12})
    response = bob.post("/attempt/camera-events", camera_body(opened))
    assert response.json()["acked"] == [opened.event_id]
    closed = ProctorEvent(kind=opened.kind, started_ms=start, ended_ms=start + 30_000,
                          snapshot=snapshot, event_id=opened.event_id)
    assert bob.post("/attempt/camera-events", camera_body(closed)).status_code == 200
    assert bob.attempt().review_status == "pending_review"
    assert "检测到非考生本人" in bob.attempt().review_reason
    stored = [i for i in review_store.load_material(srv.db, bob.attempt().id)[1]]
    assert len(stored) == 1 and stored[0].payload["ended_ms"] == start + 30_000
    assert alice.submit_and_result()["status"] != "pending_review"
    assert bob.submit_and_result()["status"] == "pending_review"


def test_no_face_adds_up_to_a_hold(srv):
    alice = login(srv)
    start = srv.clock.now_ms()
    events = [ProctorEvent(kind=Condition.NO_FACE, started_ms=start + i * 100_000,
                           ended_ms=start + i * 100_000 + 25_000, snapshot=b"")
              for i in range(3)]  # 75 s in total
    assert alice.post("/attempt/camera-events", camera_body(*events)).status_code == 200
    attempt = alice.attempt()
    assert attempt.review_status == "pending_review"
    assert "离开摄像头画面累计" in attempt.review_reason


def finding(severity: str = "block") -> Finding:
    return Finding(code="e-01", check="remote_tool", kind="remote_tool_process",
                   severity=severity, subject="todesk",  # type: ignore[arg-type]
                   name=LocalizedName("ToDesk", "ToDesk"),
                   evidence=("process ToDesk.exe pid 4242",), detail={"exe": "ToDesk.exe"})


def test_a_blocking_finding_during_the_exam_holds_the_result(srv):
    alice, bob = login(srv, 0), login(srv, 1)
    # Before the exam a blocking finding only blocks the start; a warning never holds.
    before = [integrity_item(finding(), phase="pre_exam", at_ms=1),
              integrity_item(finding("warn"), phase="exam", at_ms=2)]
    body = {"client_id": "pc-01", "events": [i.request_entry() for i in before]}
    assert alice.post("/attempt/integrity-events", body).status_code == 200
    assert alice.attempt().review_status == "none"
    during = integrity_item(finding(), phase="exam", at_ms=srv.clock.now_ms(),
                            context={"processes": [{"name": "ToDesk.exe", "pid": 4242}]})
    body = {"client_id": "pc-02", "events": [during.request_entry()]}
    assert bob.post("/attempt/integrity-events", body).json()["acked"] == [during.event_id]
    assert bob.attempt().review_status == "pending_review"
    assert "ToDesk" in bob.attempt().review_reason
    assert bob.submit_and_result()["status"] == "pending_review"


def test_replaying_events_changes_nothing(srv):
    alice = login(srv)
    check = failed_check(approved_by_proctor=True, proctor_id="p-01", evidence=jpeg())
    event = ProctorEvent(kind=Condition.COVERED, started_ms=1, ended_ms=2,
                         snapshot=jpeg(width=160))
    blocked = integrity_item(finding(), phase="exam", at_ms=3)
    posts = [("/attempt/identity", check.request_entry()),
             ("/attempt/camera-events", camera_body(event)),
             ("/attempt/integrity-events", {"events": [blocked.request_entry()]})]
    for path, body in posts:
        assert alice.post(path, body).status_code == 200
    counts, reason = review_tables(srv), alice.attempt().review_reason
    for path, body in posts * 2:
        response = alice.post(path, body)
        assert response.status_code == 200
        if path.endswith("identity"):
            assert response.json()["duplicate"] is True
    assert review_tables(srv) == counts
    assert counts == {"identity_results": 1, "review_items": 2, "review_blobs": 4}
    assert alice.attempt().review_reason == reason


def test_a_clearance_releases_until_something_new(srv):
    alice = login(srv)
    event = ProctorEvent(kind=Condition.MULTIPLE_FACES, started_ms=1, ended_ms=9,
                         snapshot=b"")
    alice.post("/attempt/camera-events", camera_body(event)).raise_for_status()
    attempt = alice.attempt()
    review.clear_review(srv.db, attempt.id, by="王主考", now_ms=srv.clock.now_ms())
    assert alice.attempt().review_status == "none"
    alice.post("/attempt/camera-events", camera_body(event)).raise_for_status()  # replay
    assert alice.attempt().review_status == "none"
    again = ProctorEvent(kind=Condition.MULTIPLE_FACES, started_ms=20, ended_ms=30,
                         snapshot=b"")
    alice.post("/attempt/camera-events", camera_body(again)).raise_for_status()
    assert alice.attempt().review_status == "pending_review"


@pytest.mark.parametrize(("entry", "status", "code"), [
    ({"captures": ["bm90IGEganBlZw=="]}, 400, "bad_image"),            # "not a jpeg"
    ({"captures": ["***"]}, 400, "bad_image"),
    ({"evidence": b64(b"\xff\xd8\xff" + bytes(review_store.MAX_IMAGE_BYTES))}, 413,
     "image_too_large"),
    ({"captures": [b64(jpeg(width=64))] * 5}, 422, "invalid_request"),
    ({"event_id": "../../etc"}, 422, "invalid_request"),
])
def test_bad_uploads_are_refused_and_store_nothing(srv, entry, status, code):
    alice = login(srv)
    body = {**failed_check().request_entry(), **entry}
    response = alice.post("/attempt/identity", body)
    assert response.status_code == status and response.json()["error"] == code
    assert review_tables(srv) == {"identity_results": 0, "review_items": 0, "review_blobs": 0}


def test_endpoints_need_a_candidate_token(srv):
    import requests

    check = failed_check()
    bodies = {"/attempt/identity": check.request_entry(),
              "/attempt/camera-events": {"events": []},
              "/attempt/integrity-events": {"events": []}}
    for path, body in bodies.items():
        for headers in ({}, {"Authorization": "Bearer nope"}):
            response = requests.post(srv.api(path), json=body, headers=headers, timeout=10)
            assert response.status_code == 401, (path, response.text)
    assert review_tables(srv) == {"identity_results": 0, "review_items": 0, "review_blobs": 0}


def test_an_event_left_open_counts_until_the_submission(srv):
    from server.app import sweep

    alice = login(srv)
    start = srv.clock.now_ms()
    # The PC crashed during a no-face event: its close never comes.
    left = ProctorEvent(kind=Condition.NO_FACE, started_ms=start, ended_ms=None, snapshot=b"")
    assert alice.post("/attempt/camera-events", camera_body(left)).status_code == 200
    assert alice.attempt().review_status == "none"       # 0 s so far
    srv.clock.advance(ms=61 * 60_000)                      # past the end: auto-submitted
    sweep(srv.context)  # auto-submits, then re-evaluates the submitted attempts
    assert alice.attempt().submitted_at_ms is not None
    assert alice.attempt().review_status == "pending_review"
    assert review.reevaluate_submitted(srv.db, now_ms=srv.clock.now_ms()) == 0
