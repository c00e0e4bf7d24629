"""Messages from the console to one seat or the room, over real HTTP: the PC gets them on
its next heartbeat, acknowledges receipt (已送达) and reading (已读) on the following ones,
the console shows both per seat, every message is audited with its actor, and a proctor
cannot write to another room."""

from __future__ import annotations

from typing import Any

import requests
from console_helpers import candidate_login, console_login
from sqlalchemy import select

from server.console import tables as ct
from server.console.accounts import create_account
from server.console.roles import Role
from server.console.seating import SeatRow, assign
from server.demo import DEMO_CANDIDATES, DEMO_CENTER_ID
from server.testing import LiveServer

ZHANG, LI, CHEN = DEMO_CANDIDATES


def _beat(srv: LiveServer, token: str, *, seen: int = 0, read: int = 0) -> list[dict[str, Any]]:
    response = requests.post(srv.api("/attempt/heartbeat"), timeout=10,
                             headers={"Authorization": f"Bearer {token}"},
                             json={"messages_seen": seen, "messages_read": read})
    response.raise_for_status()
    return list(response.json()["messages"])


def _send(client: Any, srv: LiveServer, ids: list[int], text: str) -> requests.Response:
    return client.http.post(f"{srv.url}/console/api/action", timeout=10,
                            headers={"X-CSRF-Token": client.csrf},
                            json={"action": "message", "exam_id": srv.demo.exam_id,
                                  "candidate_ids": ids, "text": text})


def test_a_message_to_one_seat_is_delivered_then_read(srv: LiveServer) -> None:
    zhang = candidate_login(srv, ZHANG, client_id="pc-01").json()["token"]
    li = candidate_login(srv, LI, client_id="pc-02").json()["token"]
    proctor = console_login(srv, "jiankao")
    zhang_id = proctor.tile(ZHANG.student_no)["candidate_id"]
    sent = proctor.act("message", zhang_id, reason="", text="请将手机关机放到讲台上")
    assert sent.status_code == 200, sent.text
    [message] = proctor.tile(ZHANG.student_no)["messages"]
    assert (message["delivered_at_ms"], message["read_at_ms"]) == (None, None)

    [received] = _beat(srv, zhang)
    assert received["text"] == "请将手机关机放到讲台上"
    assert received["from"] == "监考教师 王老师"
    assert set(received) == {"id", "text", "from", "at_ms"}  # no account names
    assert _beat(srv, li) == []  # only the addressed seat
    # The PC says it holds it: 已送达; nothing new comes again.
    assert _beat(srv, zhang, seen=received["id"]) == []
    [message] = proctor.tile(ZHANG.student_no)["messages"]
    assert message["delivered_at_ms"] is not None and message["read_at_ms"] is None
    # The candidate closed the notice: 已读.
    assert _beat(srv, zhang, seen=received["id"], read=received["id"]) == []
    [message] = proctor.tile(ZHANG.student_no)["messages"]
    assert message["read_at_ms"] is not None
    # Another PC taking the attempt over (it holds nothing) gets the message again.
    assert [m["id"] for m in _beat(srv, zhang)] == [received["id"]]

    with srv.db.read() as conn:
        [row] = conn.execute(select(ct.audit).where(ct.audit.c.action == "message")).all()
    assert (row.actor, row.role, row.candidate_id, row.reason) == (
        "jiankao", "proctor", zhang_id, "请将手机关机放到讲台上")
    assert row.detail["message_id"] == received["id"]


def test_a_message_to_the_room_reaches_every_seat_and_only_inside_the_scope(
        srv: LiveServer) -> None:
    tokens = {p.student_no: candidate_login(srv, p, client_id=f"pc-{i}").json()["token"]
              for i, p in enumerate(DEMO_CANDIDATES)}
    assign(srv.db, exam_id=srv.demo.exam_id,
           rows=[SeatRow(candidate=CHEN.student_no, room="第2考场", seat="1")])
    create_account(srv.db, username="room2", display_name="赵老师", role=Role.PROCTOR,
                   center_id=DEMO_CENTER_ID, room="第2考场", password="room2-pass",
                   now_ms=srv.clock.now_ms())
    proctor = console_login(srv, "jiankao")
    room = [tile["candidate_id"] for tile in proctor.tiles()]
    assert len(room) == 2
    assert _send(proctor, srv, room, "距考试结束还有 30 分钟").json() == {"ok": True, "sent": 2}
    for person in (ZHANG, LI):
        assert [m["text"] for m in _beat(srv, tokens[person.student_no])] == [
            "距考试结束还有 30 分钟"]
    assert _beat(srv, tokens[CHEN.student_no]) == []

    # The other room's seat, alone or in a group: refused whole, nothing sent.
    chen_id = console_login(srv, "room2", "room2-pass").tiles()[0]["candidate_id"]
    assert _send(proctor, srv, [chen_id], "越权消息").status_code == 404
    assert _send(proctor, srv, [*room, chen_id], "越权消息").status_code == 404
    assert _beat(srv, tokens[CHEN.student_no]) == []
    assert [m["text"] for m in _beat(srv, tokens[ZHANG.student_no])] == [
        "距考试结束还有 30 分钟"]
    # An empty message is refused.
    empty = _send(proctor, srv, room, "   ")
    assert empty.status_code == 409 and empty.json()["error"] == "console.message_empty"
