"""Entry after a failed face check, decided in the console (人脸核验未通过 → 批准入场 /
不予入场), over real HTTP against a real server: the PC's evidence, the seat's tile, the
evidence photo's access rules, the decision on the PC's next heartbeat, the audit row,
and the review rule."""

from __future__ import annotations

import pytest
from console_helpers import (
    candidate_login,
    console_login,
    face_jpeg,
    heartbeat,
    request_face_hold,
)

from server.base_photos import put_base_photo
from server.console.accounts import create_account
from server.console.roles import Role
from server.console.seating import SeatRow, assign
from server.db import PENDING_REVIEW
from server.demo import DEMO_CANDIDATES, DEMO_CENTER_ID
from server.identity_holds import get_hold
from server.testing import LiveServer

ZHANG, LI, CHEN = DEMO_CANDIDATES


def _held(srv: LiveServer) -> tuple[str, int, int]:
    """张三 logs in, fails the face check and is held: (token, candidate id, hold id)."""
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    asked = request_face_hold(srv, token)
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "pending"
    candidate_id = console_login(srv, "jiankao").tile(ZHANG.student_no)["candidate_id"]
    return token, candidate_id, int(asked.json()["hold_id"])


def _second_room(srv: LiveServer) -> None:
    assign(srv.db, exam_id=srv.demo.exam_id,
           rows=[SeatRow(candidate=CHEN.student_no, room="第2考场", seat="1")])
    create_account(srv.db, username="room2", display_name="赵老师", role=Role.PROCTOR,
                   center_id=DEMO_CENTER_ID, room="第2考场", password="room2-pass",
                   now_ms=srv.clock.now_ms())


def test_the_held_seat_shows_the_evidence_and_a_proctor_lets_the_candidate_in(
        srv: LiveServer) -> None:
    token, zhang_id, hold_id = _held(srv)
    put_base_photo(srv.db, srv.context.keys, candidate_id=zhang_id, jpeg=face_jpeg(),
                   now_ms=srv.clock.now_ms(), uploaded_by="test")
    proctor = console_login(srv, "jiankao")
    tile = proctor.tile(ZHANG.student_no)
    assert tile["identity"] == "failed"
    hold = tile["face_hold"]
    assert (hold["id"], hold["status"], hold["reason"], hold["captures"]) == (
        hold_id, "pending", "match.not_matched", 2)
    assert hold["score"] == pytest.approx(0.21) and hold["failures"] == 3
    assert proctor.room().json()["counts"]["attention"] >= 1

    # The evidence: the check's own frames, to the room's proctor, never cached.
    url = f"{srv.url}/console/face/{srv.demo.exam_id}/{zhang_id}/{hold_id}"
    for position, variant in ((0, 0), (1, 1)):
        photo = proctor.http.get(f"{url}/{position}", timeout=10)
        assert photo.status_code == 200
        assert photo.headers["content-type"] == "image/jpeg"
        assert "no-store" in photo.headers["cache-control"]
        assert photo.content == face_jpeg(variant)
    assert proctor.http.get(f"{url}/2", timeout=10).status_code == 404

    # Asking again (the answer was lost) is the same hold, not a second request.
    again = request_face_hold(srv, token)
    assert again.json()["hold_id"] == hold_id

    # Until a proctor decides, the PC's heartbeat says pending.
    beat = heartbeat(srv, token, identity_hold=hold_id).json()["identity_hold"]
    assert beat["status"] == "pending"
    # A heartbeat without a hold carries no decision (no extra read for other PCs).
    assert heartbeat(srv, token).json()["identity_hold"] is None

    no_reason = proctor.act("approve_face", zhang_id, hold_id=hold_id, reason="  ")
    assert no_reason.status_code == 409
    assert no_reason.json()["error"] == "console.reason_required"
    approved = proctor.act("approve_face", zhang_id, hold_id=hold_id,
                           reason="已核对身份证，本人，光线太暗")
    assert approved.status_code == 200, approved.text

    beat = heartbeat(srv, token, identity_hold=hold_id).json()["identity_hold"]
    assert beat == {"id": hold_id, "status": "approved", "reason": "已核对身份证，本人，光线太暗",
                    "at_ms": beat["at_ms"]}
    tile = proctor.tile(ZHANG.student_no)
    assert tile["identity"] == "approved" and tile["face_hold"]["status"] == "approved"
    assert tile["face_hold"]["decided_by"] == "proctor:jiankao"

    # Who, when, why, and the evidence it was decided on.
    chief = console_login(srv, "zhukao")
    audit_page = chief.http.get(f"{srv.url}/console/audit", timeout=10).text
    assert "人脸核验未通过，批准入场" in audit_page and "已核对身份证，本人，光线太暗" in audit_page
    csv_text = chief.http.get(f"{srv.url}/console/audit.csv", timeout=10).text
    row = next(line for line in csv_text.splitlines() if "批准入场" in line)
    assert "jiankao" in row and f"hold_id={hold_id}" in row
    assert "evidence_image_ids=[" in row and "event_id=check-0001-failed" in row

    # 人脸识别认证未通过: the result is held for a reviewer, as after the PC's own approval.
    attempt = srv.db.find_attempt(exam_id=srv.demo.exam_id, candidate_id=zhang_id)
    assert attempt is not None and attempt.review_status == PENDING_REVIEW

    # Replaying the approval (a second click, another tab, an old request) changes nothing.
    replay = proctor.act("approve_face", zhang_id, hold_id=hold_id, reason="再来一次")
    assert replay.status_code == 409 and replay.json()["error"] == "console.hold_closed"
    refuse_late = chief.act("refuse_face", zhang_id, hold_id=hold_id, reason="改主意")
    assert refuse_late.status_code == 409
    assert get_hold(srv.db, hold_id).status == "approved"  # type: ignore[union-attr]
    rows = [line for line in chief.http.get(f"{srv.url}/console/audit.csv",
                                            timeout=10).text.splitlines()
            if "人脸核验未通过" in line]
    assert len(rows) == 1


def test_a_refusal_reaches_the_pc_and_a_new_failure_needs_a_new_decision(
        srv: LiveServer) -> None:
    token, zhang_id, hold_id = _held(srv)
    proctor = console_login(srv, "jiankao")
    refused = proctor.act("refuse_face", zhang_id, hold_id=hold_id,
                          reason="与身份证照片不符，请主考到场")
    assert refused.status_code == 200, refused.text
    beat = heartbeat(srv, token, identity_hold=hold_id).json()["identity_hold"]
    assert (beat["status"], beat["reason"]) == ("refused", "与身份证照片不符，请主考到场")
    assert proctor.tile(ZHANG.student_no)["identity"] == "failed"

    # The PC asks again after another failed check: a new hold, pending, which the old
    # decision does not decide; the old approval of another seat's hold cannot either.
    second = request_face_hold(srv, token, event_id="check-0002-failed").json()
    assert second["hold_id"] != hold_id and second["status"] == "pending"
    beat = heartbeat(srv, token, identity_hold=second["hold_id"]).json()["identity_hold"]
    assert beat["status"] == "pending"
    wrong_seat = proctor.act("approve_face", proctor.tile(LI.student_no)["candidate_id"],
                             hold_id=second["hold_id"], reason="核对身份证")
    assert wrong_seat.status_code == 409
    assert wrong_seat.json()["error"] == "console.no_such_hold"
    assert get_hold(srv.db, second["hold_id"]).status == "pending"  # type: ignore[union-attr]


def test_another_rooms_proctor_and_the_candidate_cannot_see_or_decide(
        srv: LiveServer) -> None:
    _second_room(srv)
    token, zhang_id, hold_id = _held(srv)
    other = console_login(srv, "room2", "room2-pass")
    url = f"{srv.url}/console/face/{srv.demo.exam_id}/{zhang_id}/{hold_id}/0"
    assert other.http.get(url, timeout=10).status_code == 404
    refused = other.act("approve_face", zhang_id, hold_id=hold_id, reason="核对身份证")
    assert refused.status_code == 404 and refused.json()["error"] == "console.no_such_seat"

    # The candidate's own token is no console session, neither as cookie nor as bearer.
    import requests
    for kwargs in ({"headers": {"Authorization": f"Bearer {token}"}},
                   {"cookies": {"exam_console": token}}):
        assert requests.get(url, timeout=10, **kwargs).status_code == 404  # type: ignore[arg-type]
        answer = requests.post(f"{srv.url}/console/api/action", timeout=10, json={
            "action": "approve_face", "exam_id": srv.demo.exam_id, "candidate_id": zhang_id,
            "hold_id": hold_id, "reason": "我自己批准"}, **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == 401
    assert requests.get(url, timeout=10).status_code == 404  # no session at all
    # A hold of this seat named with another seat's path: no image.
    li_id = console_login(srv, "jiankao").tile(LI.student_no)["candidate_id"]
    proctor = console_login(srv, "jiankao")
    assert proctor.http.get(f"{srv.url}/console/face/{srv.demo.exam_id}/{li_id}/{hold_id}/0",
                            timeout=10).status_code == 404
    # The PC cannot decide its own hold: there is no field for it, and the heartbeat of
    # another attempt learns nothing of this one.
    li_token = candidate_login(srv, LI, client_id="pc-02").json()["token"]
    assert heartbeat(srv, li_token, identity_hold=hold_id).json()["identity_hold"] is None
    assert get_hold(srv.db, hold_id).status == "pending"  # type: ignore[union-attr]


def test_evidence_that_is_not_a_photo_or_too_large_is_refused(srv: LiveServer) -> None:
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    not_image = request_face_hold(srv, token, captures=[b"<svg onload=alert(1)>"])
    assert not_image.status_code == 400 and not_image.json()["error"] == "bad_image"
    png = request_face_hold(srv, token, captures=[b"\x89PNG\r\n\x1a\n" + b"0" * 100])
    assert png.status_code == 400
    huge = request_face_hold(srv, token, captures=[b"\xff\xd8\xff" + b"0" * (1024 * 1024)])
    assert huge.status_code == 413
    too_many = request_face_hold(srv, token, captures=[face_jpeg()] * 5)
    assert too_many.status_code == 422
    none = request_face_hold(srv, token, captures=[])
    assert none.status_code == 422
    # A body far beyond one check's frames is refused before it is read.
    import requests
    flood = requests.post(srv.api("/attempt/identity-hold"), timeout=30,
                          data=b"{" + b" " * (7 * 1024 * 1024) + b"}",
                          headers={"Authorization": f"Bearer {token}",
                                   "Content-Type": "application/json"})
    assert flood.status_code == 413
    tiles = console_login(srv, "jiankao").tiles()
    assert all(t["face_hold"] is None for t in tiles)
