"""The server's own look at identity checks (server/identity_audit.py), over real HTTP.

Each of these used to leave the result unheld (issue 16): the client's word was final.
"""

from __future__ import annotations

import cv2
import numpy as np
from review_helpers import astronaut, jpeg, login
from skimage import data

from client.camera.settings import CameraSettings
from client.config.camera import apply_package_policy
from client.paper.package import verify_package
from client.review.outbox import identity_item
from server import base_photos, identity_audit
from server import cli as server_cli
from server.keys import load_keys
from server.review import reevaluate_submitted

SETTINGS = {"match_threshold": 0.363, "challenge_min_count": 2, "pad_enabled": True}
CAMERA = {"kind": "camera", "device": "USB2.0 HD UVC WebCam", "path": "\\\\?\\usb#vid_0bda"}


def cameraman() -> np.ndarray:
    gray = data.camera()[40:340, 60:460]
    return np.ascontiguousarray(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))


def passed(*, captures: list[bytes], score: float = 0.95, **record: object) -> dict:
    body = {"outcome": "verified", "settings": SETTINGS, "source": CAMERA, **record}
    return identity_item(passed=True, reason="verified", score=score, threshold=0.363,
                         record=body, at_ms=None, captures=captures).request_entry()


def failed() -> dict:
    return identity_item(passed=False, reason="liveness.planar", score=None, threshold=0.363,
                         record={"outcome": "liveness_failed"}, at_ms=None).request_entry()


def test_the_server_recomputes_the_match_and_holds_a_disagreement(srv) -> None:
    keys = load_keys(srv.data_dir)
    alice, bob = login(srv, 0), login(srv, 1)
    for candidate in (alice, bob):
        base_photos.put_base_photo(srv.db, keys, candidate_id=candidate.candidate_id,
                                   jpeg=jpeg(astronaut()), now_ms=1, uploaded_by="test")
    # Alice: the captures are her (the base photo's person): nothing held.
    assert alice.post("/attempt/identity", passed(captures=[jpeg(astronaut())])).status_code \
        == 200
    assert alice.attempt().review_status == "none"
    # Bob: a tampered client says "passed, 0.95" for someone else's face.
    assert bob.post("/attempt/identity", passed(captures=[jpeg(cameraman())])).status_code \
        == 200
    attempt = bob.attempt()
    assert attempt.review_status == "pending_review"
    assert "服务器复核" in attempt.review_reason


def test_check_switched_off_is_held(srv) -> None:
    alice = login(srv)
    off = identity_item(passed=False, reason="camera.disabled", score=None, threshold=0.0,
                        record={"outcome": "disabled"}, at_ms=None).request_entry()
    assert alice.post("/attempt/identity", off).status_code == 200
    assert "关闭了人脸识别" in alice.attempt().review_reason


def test_weaker_settings_or_a_file_source_are_held(srv) -> None:
    alice, bob = login(srv, 0), login(srv, 1)
    weak = passed(captures=[], settings={**SETTINGS, "match_threshold": 0.0})
    assert alice.post("/attempt/identity", weak).status_code == 200
    assert "低于本场考试要求" in alice.attempt().review_reason
    replay = passed(captures=[], source={"kind": "file", "path": "C:/me.mp4"})
    assert bob.post("/attempt/identity", replay).status_code == 200
    assert "不是来自摄像头" in bob.attempt().review_reason


def test_many_failures_before_a_pass_are_held(srv) -> None:
    alice, bob = login(srv, 0), login(srv, 1)
    base_photos.put_base_photo(srv.db, load_keys(srv.data_dir), candidate_id=alice.candidate_id,
                               jpeg=jpeg(astronaut()), now_ms=1, uploaded_by="test")
    for _ in range(2):
        alice.post("/attempt/identity", failed())
    alice.post("/attempt/identity", passed(captures=[jpeg(astronaut())]))
    assert alice.attempt().review_status == "none"      # within the 3 attempts allowed
    for _ in range(8):
        bob.post("/attempt/identity", failed())
    bob.post("/attempt/identity", passed(captures=[]))
    assert "失败 8 次后才通过" in bob.attempt().review_reason


def test_the_policy_is_per_exam_and_travels_in_the_package(srv) -> None:
    exam_id = login(srv).attempt().exam_id
    assert identity_audit.exam_policy(srv.db, exam_id)["max_attempts"] == 3
    identity_audit.set_exam_policy(srv.db, exam_id, {"match_threshold": 0.45,
                                                     "max_attempts": 2})
    extra = identity_audit.policy_extra(srv.db, exam_id)
    applied = apply_package_policy(CameraSettings(), extra)
    assert applied.match_threshold == 0.45 and applied.max_failures_before_proctor == 2


def test_a_pass_the_server_cannot_recheck_is_held(srv) -> None:
    """A tampered client leaves the frames out; a pass with no base photo to compare with
    cannot be re-computed either. Neither is taken on the client's word."""
    keys = load_keys(srv.data_dir)
    alice, bob, carol = login(srv, 0), login(srv, 1), login(srv, 2)
    for candidate in (alice, bob):
        base_photos.put_base_photo(srv.db, keys, candidate_id=candidate.candidate_id,
                                   jpeg=jpeg(astronaut()), now_ms=1, uploaded_by="test")
    assert alice.post("/attempt/identity", passed(captures=[jpeg(astronaut())])).status_code \
        == 200
    assert alice.attempt().review_status == "none"
    assert bob.post("/attempt/identity", passed(captures=[])).status_code == 200
    held = bob.attempt()
    assert held.review_status == "pending_review"
    assert "身份核验无法复核：未上传核验照片" in held.review_reason
    assert bob.submit_and_result()["status"] == "pending_review"
    # Carol has no base photo on the server: her frames cannot be compared with anything.
    assert carol.post("/attempt/identity", passed(captures=[jpeg(astronaut())])).status_code \
        == 200
    assert "身份核验无法复核：服务器没有该考生的底照" in carol.attempt().review_reason


def test_an_exam_that_requires_the_check_holds_a_submission_without_one(srv, capsys) -> None:
    keys = load_keys(srv.data_dir)
    alice, bob, carol = login(srv, 0), login(srv, 1), login(srv, 2)
    data = ["--data", str(srv.data_dir)]
    # Not required (the default): a submission without any identity record is released.
    assert carol.submit_and_result()["status"] != "pending_review"
    assert carol.attempt().review_status == "none"
    assert server_cli.main(["set-camera-policy", *data, alice.exam_id,
                            "--identity-required", "on"]) == 0
    assert "identity_required = 开" in capsys.readouterr().out
    # Required: Alice (an old or tampered client that never sent a check) is held ...
    result = alice.submit_and_result()
    assert result["status"] == "pending_review" and result["score"] is None
    assert "未进行身份核验" in alice.attempt().review_reason
    # ... Bob, who passed on camera with his frames, is not.
    base_photos.put_base_photo(srv.db, keys, candidate_id=bob.candidate_id,
                               jpeg=jpeg(astronaut()), now_ms=1, uploaded_by="test")
    assert bob.post("/attempt/identity", passed(captures=[jpeg(astronaut())])).status_code \
        == 200
    assert bob.submit_and_result()["status"] != "pending_review"
    assert bob.attempt().review_status == "none"


def test_the_sweeper_holds_an_auto_submitted_attempt_without_a_passed_check(srv) -> None:
    alice, bob = login(srv, 0), login(srv, 1)
    identity_audit.set_exam_policy(srv.db, alice.exam_id, {"identity_required": True})
    bob.post("/attempt/identity", failed())          # failed, and no proctor let him in
    now = srv.clock.now_ms()
    for candidate in (alice, bob):                   # the exam ended: submitted by the server
        srv.db.submit_attempt(candidate.attempt().id, at_ms=now, status="auto_submitted")
    reevaluate_submitted(srv.db, now_ms=now + 1)
    assert "未进行身份核验" in alice.attempt().review_reason
    assert "身份核验未通过，也没有监考教师核验" in bob.attempt().review_reason


def test_the_camera_policy_command_refuses_values_the_client_would_ignore(srv, capsys) -> None:
    exam_id = login(srv).attempt().exam_id
    data = ["--data", str(srv.data_dir)]
    assert server_cli.main(["set-camera-policy", *data, exam_id, "--match-threshold", "1.5"]) == 1
    assert "camera_policy.invalid" in capsys.readouterr().err
    assert server_cli.main(["set-camera-policy", *data, exam_id, "--match-threshold", "0.45",
                            "--max-attempts", "2"]) == 0
    assert server_cli.main(["set-camera-policy", *data, exam_id,
                            "--challenge-min-count", "3"]) == 0
    policy = identity_audit.exam_policy(srv.db, exam_id)      # the second call kept the first
    assert (policy["match_threshold"], policy["max_attempts"], policy["challenge_min_count"]) \
        == (0.45, 2, 3)
    # The re-signed package carries it, and the client applies it.
    exam = srv.db.get_exam(exam_id)
    package = (srv.data_dir / "packages" / exam.package_path).read_bytes()
    header = verify_package(package, trusted_key=load_keys(srv.data_dir).signing_public,
                            expected_exam_id=exam_id)
    applied = apply_package_policy(CameraSettings(), header.extra)
    assert (applied.match_threshold, applied.max_failures_before_proctor,
            applied.challenge_min_count) == (0.45, 2, 3)
    assert server_cli.main(["set-camera-policy", *data, "no-such-exam"]) == 1


def test_every_recorded_security_setting_is_compared_in_its_weaker_direction() -> None:
    """The client's own digest (client.camera.settings.security_digest) of an honest run
    is never "weaker"; each setting moved the weak way is named, the strict way is not."""
    import dataclasses

    from client.camera.settings import DEFAULT_SETTINGS, security_digest

    policy = dict(identity_audit.DEFAULT_POLICY)
    honest = security_digest(DEFAULT_SETTINGS)
    assert identity_audit.weaker_settings(honest, policy) == []
    strict = {**policy, "match_threshold": 0.45, "max_attempts": 2, "challenge_min_count": 3,
              "challenge_timeout_s": 5.0}
    applied = apply_package_policy(DEFAULT_SETTINGS, {"camera_policy": strict})
    assert identity_audit.weaker_settings(security_digest(applied), strict) == []
    # The default client against the stricter exam: exactly the policy's keys are weaker.
    assert sorted(identity_audit.weaker_settings(honest, strict)) == [
        "challenge_min_count", "challenge_timeout_s", "match_threshold",
        "max_failures_before_proctor"]
    weak = {"match_threshold": 0.2, "challenge_min_count": 1, "challenge_max_count": 2,
            "challenge_timeout_s": 30.0, "max_failures_before_proctor": 10,
            "turn_yaw_deg": 3.0, "turn_min_parallax": 0.0, "turn_max_step_share": 1.0,
            "turn_min_foreshortening": 0.1, "turn_min_head_vs_plane": 0.5,
            "rigid_max_residual": 0.5, "pad_min_live": 0.0,
            "pad_enabled": False, "fail_on_wrong_action": False}
    assert set(weak) == set(honest), "a security setting the server does not compare"
    for name, value in weak.items():
        moved = security_digest(dataclasses.replace(DEFAULT_SETTINGS, **{name: value}))
        assert identity_audit.weaker_settings(moved, policy) == [name]
