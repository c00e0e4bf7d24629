"""``exam-server review EXAM``: who is held and why; ``--clear`` releases one."""

from __future__ import annotations

from review_helpers import jpeg, login

from client.camera.proctor_monitor import Condition, ProctorEvent
from client.review.outbox import camera_event_item, identity_item
from server import cli


def test_review_lists_and_clears(srv, capsys):
    alice, bob = login(srv, 0), login(srv, 1)
    check = identity_item(passed=False, reason="liveness.frozen", score=None, threshold=0.363,
                          record={}, at_ms=None, approved_by_proctor=True, proctor_id="p-01",
                          captures=[jpeg(width=200)], evidence=jpeg(width=300))
    alice.post("/attempt/identity", check.request_entry()).raise_for_status()
    dark = ProctorEvent(kind=Condition.TOO_DARK, started_ms=1, ended_ms=2, snapshot=b"")
    bob.post("/attempt/camera-events", {"events": [camera_event_item(dark).request_entry()]}
             ).raise_for_status()
    data = ["--data", str(srv.data_dir)]

    assert cli.main(["review", srv.demo.exam_id, *data]) == 0
    out = capsys.readouterr().out
    assert f"{alice.student_no} 张三：待审核，图片 2 张" in out
    assert "人脸识别认证未通过" in out and "光线过暗" in out
    assert "待审核 2 人" in out

    assert cli.main(["review", srv.demo.exam_id, "--clear", alice.student_no,
                     "--by", "王主考", *data]) == 0
    assert "已标记为已审核" in capsys.readouterr().out
    assert alice.attempt().review_status == "none"
    assert cli.main(["review", srv.demo.exam_id, "--all", *data]) == 0
    out = capsys.readouterr().out
    assert "已审核（王主考）" in out and "待审核 1 人" in out

    # Images of released attempts can be deleted; held ones keep theirs.
    assert cli.main(["review", srv.demo.exam_id, "--purge-images", *data]) == 0
    assert "已删除 2 张" in capsys.readouterr().out


def test_review_of_an_unknown_exam_or_candidate(srv, capsys):
    data = ["--data", str(srv.data_dir)]
    assert cli.main(["review", "no-such-exam", *data]) == 1
    assert "exam.unknown" in capsys.readouterr().err
    assert cli.main(["review", srv.demo.exam_id, "--clear", "1999999999", *data]) == 1
    assert "candidate.not_registered" in capsys.readouterr().err
