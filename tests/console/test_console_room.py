"""The room view over real HTTP: every tile state, from real candidate logins and saves."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from console_helpers import candidate_login, console_login, save_answer, upload_lockdown

from client.integrity.findings import Finding
from client.integrity.rules import LocalizedName
from client.review.outbox import OutboxItem, integrity_item
from client.session.exam_session import ExamSession, SessionEvents, client_id_for
from client.sync.api import ExamApi, HeartbeatReply
from client.sync.clock import ServerClock
from server.console.room import OFFLINE_AFTER_MS
from server.demo import DEMO_CANDIDATES
from server.testing import LiveServer

ZHANG, LI, CHEN = DEMO_CANDIDATES


def test_tiles_follow_each_candidate_through_the_exam(srv: LiveServer) -> None:
    proctor = console_login(srv, "jiankao")
    tiles = proctor.tiles()
    assert [(t["seat"], t["student_no"], t["state"]) for t in tiles] == [
        ("1", ZHANG.student_no, "not_logged_in"), ("2", LI.student_no, "not_logged_in"),
        ("3", CHEN.student_no, "not_logged_in")]

    zhang = candidate_login(srv, ZHANG, client_id="pc-01")
    li = candidate_login(srv, LI, client_id="pc-02")
    assert zhang.status_code == li.status_code == 200
    assert proctor.tile(ZHANG.student_no)["state"] == "waiting"

    srv.clock.advance(ms=601_000)  # the exam has started
    assert save_answer(srv, zhang.json()["token"], question_id="q1", revision=1,
                       value="B").status_code == 200
    tile = proctor.tile(ZHANG.student_no)
    assert tile["state"] == "answering"
    assert tile["answered"] == 1
    assert tile["last_sync_ms"] is not None

    # 李四 says nothing for longer than the offline threshold: the proctor should look.
    srv.clock.advance(ms=OFFLINE_AFTER_MS + 1_000)
    assert save_answer(srv, zhang.json()["token"], question_id="q2", revision=1,
                       value="A").status_code == 200
    li_tile = proctor.tile(LI.student_no)
    assert li_tile["state"] == "offline"
    assert li_tile["since_ms"] is not None
    assert proctor.tile(ZHANG.student_no)["answered"] == 2

    # 李四 again from another PC: held for the chief examiner, with the request number.
    held = candidate_login(srv, LI, client_id="pc-17")
    assert held.status_code == 409
    request_id = held.json()["detail"]["request_id"]
    li_tile = proctor.tile(LI.student_no)
    assert li_tile["state"] == "held"
    assert li_tile["pending_requests"] == [request_id]

    assert requests_submit(srv, zhang.json()["token"]) == 200
    assert proctor.tile(ZHANG.student_no)["state"] == "submitted"

    counts = proctor.room().json()["counts"]
    assert counts == {**counts, "total": 3, "submitted": 1, "held": 1, "not_logged_in": 1}
    assert counts["attention"] >= 1


def requests_submit(srv: LiveServer, token: str) -> int:
    import requests

    return requests.post(srv.api("/attempt/submit"), timeout=10, json={"answered_count": 2},
                         headers={"Authorization": f"Bearer {token}"}).status_code


def test_room_json_needs_a_console_session(srv: LiveServer) -> None:
    import requests

    anonymous = requests.get(f"{srv.url}/console/api/room",
                             params={"exam": srv.demo.exam_id}, timeout=10)
    assert anonymous.status_code == 401
    # A candidate's bearer token is not a console session.
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    with_token = requests.get(f"{srv.url}/console/api/room", params={"exam": srv.demo.exam_id},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert with_token.status_code == 401


def test_tiles_show_each_pcs_client_version_against_the_floor(srv: LiveServer) -> None:
    import requests

    from client.paper.exam_rules import VersionFloor
    from server.version_floor import set_floor

    proctor = console_login(srv, "jiankao")
    assert proctor.tile(ZHANG.student_no)["client_version"] is None  # never logged in
    login = requests.post(srv.api("/login"), timeout=30, json={
        "username": ZHANG.student_no, "password": ZHANG.password, "client_id": "pc-01",
        "client_version": "1.2.0"})
    assert login.status_code == 200
    tile = proctor.tile(ZHANG.student_no)
    assert (tile["client_version"], tile["version_too_old"]) == ("1.2.0", False)
    # The exam now needs a newer client: the seat is flagged for the proctor.
    set_floor(srv.db, exam_id=srv.demo.exam_id, floor=VersionFloor("1.3.0"),
              now_ms=srv.clock.now_ms())
    tile = proctor.tile(ZHANG.student_no)
    assert tile["version_too_old"] is True
    assert proctor.room().json()["counts"]["attention"] >= 1


def test_an_idle_but_connected_pc_is_not_shown_offline(srv: LiveServer, tmp_path: Path) -> None:
    """A real client session that saves nothing still beats: its tile stays 作答中, while a
    PC that went silent shows 失去联系 (docs/console.md)."""
    assert srv.demo is not None
    proctor = console_login(srv, "jiankao")
    assert candidate_login(srv, LI, client_id="pc-02").status_code == 200
    clock = ServerClock()
    data_dir = tmp_path / "pc-01"
    api = ExamApi(srv.url, clock=clock, timeout_s=5.0, client_id=client_id_for(data_dir))
    beats: list[HeartbeatReply] = []
    session = ExamSession(api=api, clock=clock, data_dir=data_dir,
                          center_id=srv.demo.center_id, heartbeat_interval_s=0.3,
                          events=SessionEvents(on_heartbeat=beats.append))
    try:
        session.login(username=ZHANG.student_no, password=ZHANG.password)
        srv.clock.advance(ms=601_000 + OFFLINE_AFTER_MS + 1_000)  # started, 2 min idle
        after = srv.clock.now_ms()
        deadline = time.monotonic() + 15
        while not any(b.server_time_ms >= after for b in beats):
            assert time.monotonic() < deadline, "no heartbeat after the clock moved"
            time.sleep(0.05)
        assert proctor.tile(ZHANG.student_no)["state"] == "answering"
        assert proctor.tile(LI.student_no)["state"] == "offline"
    finally:
        session.close()


def integrity_finding(severity: str, *, subject: str) -> Finding:
    return Finding(code="e-01", check="remote_tool", kind="remote_tool_process",
                   severity=severity, subject=subject,  # type: ignore[arg-type]
                   name=LocalizedName(subject, subject), evidence=(f"process {subject}",),
                   detail={})


def send_integrity(srv: LiveServer, token: str, *items: OutboxItem) -> None:
    """Upload integrity records as PC pc-01 does (its outbox's request entries)."""
    import requests

    response = requests.post(
        srv.api("/attempt/integrity-events"), timeout=10,
        headers={"Authorization": f"Bearer {token}"},
        json={"client_id": "pc-01", "events": [i.request_entry() for i in items]})
    assert response.status_code == 200, response.text


def test_only_open_blocking_integrity_findings_need_attention(srv: LiveServer) -> None:
    """Before: any integrity record counted, so every Windows 11 24H2 seat (its driver list
    is a permanent warning) and every seat with a resolved finding looked 需关注."""
    proctor = console_login(srv, "jiankao")
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]

    def send(*items: OutboxItem) -> None:
        send_integrity(srv, token, *items)

    def attention() -> tuple[bool, int, int]:
        tile = proctor.tile(ZHANG.student_no)
        counts = proctor.room().json()["counts"]
        return counts["attention"] == 1, tile["integrity_blocking"], tile["integrity_warnings"]

    now = srv.clock.now_ms()
    drivers = Finding(code="e-02", check="source_unavailable", kind="source_unavailable",
                      severity="warn", subject="drivers",
                      name=LocalizedName("已加载驱动列表", "loaded driver list"),
                      evidence=("drivers: restricted (zeroed addresses)",), detail={})
    send(integrity_item(drivers, phase="pre_exam", at_ms=now))
    assert attention() == (False, 0, 1)  # a 24H2 seat: recorded, shown, not 需关注

    todesk = integrity_finding("block", subject="todesk")
    send(integrity_item(todesk, phase="pre_exam", at_ms=now + 1_000))
    assert attention() == (True, 1, 1)  # the PC cannot start: a proctor should look
    send(integrity_item(todesk, phase="pre_exam", at_ms=now + 9_000, state="resolved"))
    assert attention() == (False, 0, 1)  # closed before the start
    # A resolved record that arrives before its "found" one (outbox retry) still closes it.
    late = integrity_finding("block", subject="anydesk")
    send(integrity_item(late, phase="pre_exam", at_ms=now + 12_000, state="resolved"),
         integrity_item(late, phase="pre_exam", at_ms=now + 10_000))
    assert attention() == (False, 0, 1)


def test_a_seat_whose_process_check_is_blind_needs_attention(srv: LiveServer) -> None:
    """Attack review of issue 17: since only open blocking episodes counted as 需关注, a
    seat whose process check was effectively blind (process list or image files
    unreadable: a tool could run unseen) no longer showed up; a 24H2 driver note still
    must not."""
    proctor = console_login(srv, "jiankao")
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]

    def send(*items: OutboxItem) -> None:
        send_integrity(srv, token, *items)

    def attention() -> tuple[bool, int, int]:
        tile = proctor.tile(ZHANG.student_no)
        counts = proctor.room().json()["counts"]
        return counts["attention"] == 1, tile["integrity_warnings"], tile["integrity_blind"]

    def unavailable(source: str, name: str) -> Finding:
        return Finding(code="e-01", check="source_unavailable", kind="source_unavailable",
                       severity="warn", subject=source, name=LocalizedName(name, source),
                       evidence=(f"{source}: previous call still hanging after 2 s",),
                       detail={})

    now = srv.clock.now_ms()
    drivers = dataclasses.replace(unavailable("drivers", "已加载驱动列表"), code="e-02")
    send(integrity_item(drivers, phase="exam", at_ms=now))
    assert attention() == (False, 1, 0)  # a note, not 需关注
    images = unavailable("process_images", "进程程序文件")
    send(integrity_item(images, phase="exam", at_ms=now + 1_000))
    assert attention() == (True, 2, 1)
    processes = unavailable("processes", "进程列表")
    send(integrity_item(processes, phase="exam", at_ms=now + 2_000))
    assert attention() == (True, 3, 2)
    send(integrity_item(images, phase="exam", at_ms=now + 3_000, state="resolved"),
         integrity_item(processes, phase="exam", at_ms=now + 4_000, state="resolved"))
    assert attention() == (False, 1, 0)  # the check sees again


def test_each_seat_shows_its_switches_apart_from_locks(srv: LiveServer, tmp_path: Path) -> None:
    """切屏 per seat, from the records the PC really uploads: two losses (3 s and 5 s), one
    loss that the lock notice then withdrew, a suspend; each loss counted once although
    it is stored as a "found" and a "resolved" record (the audit: the old 环境检测告警
    counter said 2 for one loss, and nothing said 切屏)."""
    proctor = console_login(srv, "jiankao")
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    candidate_login(srv, LI, client_id="pc-02")
    srv.clock.advance(ms=601_000)
    focus = upload_lockdown(srv, token, tmp_path / "pc-01.db", [
        (0, "lost"), (3_000, "back"), (60_000, "lost"), (5_000, "back"),
        (60_000, "lost"), (800, "locked"), (120_000, "unlocked"), (0, "back"),
        (10_000, "suspended"), (600_000, "resumed")])
    assert focus.focus_losses == 2
    tile = proctor.tile(ZHANG.student_no)
    assert (tile["switches"], tile["switched_away_ms"], tile["user_switches"]) == (2, 8_000, 0)
    # The lock (with the loss it withdrew) and the sleep, each apart with its time.
    assert (tile["session_locks"], tile["locked_ms"]) == (1, 120_800)
    assert (tile["suspends"], tile["suspended_ms"]) == (1, 600_000)
    # A count to read, not 需关注 by itself (warnings: no hold, nothing blocking).
    assert tile["integrity_blocking"] == 0 and not tile["review_pending"]
    other = proctor.tile(LI.student_no)
    assert (other["switches"], other["user_switches"], other["session_locks"],
            other["suspends"]) == (0, 0, 0, 0)


def test_a_user_switch_is_a_switch_on_the_tile_and_holds_the_result(srv: LiveServer,
                                                                    tmp_path: Path) -> None:
    """Attack review of issue 20: another user's desktop is another PC. Win+L, 切换用户 on
    the lock screen, ten minutes on the other user's desktop, back: the seat shows 切屏 1
    (the lock apart) and the result waits for a reviewer; a switch still going on makes
    the seat 需关注."""
    proctor = console_login(srv, "jiankao")
    token = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    other_token = candidate_login(srv, LI, client_id="pc-02").json()["token"]
    srv.clock.advance(ms=601_000)
    upload_lockdown(srv, token, tmp_path / "pc-01.db", [
        (0, "locked"), (2_000, "switched_away"), (600_000, "switched_back"),
        (1_000, "unlocked"), (0, "back")])
    tile = proctor.tile(ZHANG.student_no)
    assert (tile["switches"], tile["switched_away_ms"], tile["user_switches"],
            tile["session_locks"], tile["suspends"]) == (1, 600_000, 1, 1, 0)
    assert tile["review_pending"]
    upload_lockdown(srv, other_token, tmp_path / "pc-02.db", [(0, "switched_away")])
    other = proctor.tile(LI.student_no)
    assert other["switches"] == 1 and other["integrity_blocking"] == 1
    assert proctor.room().json()["counts"]["attention"] >= 1
