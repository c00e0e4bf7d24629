"""Messages from the console in a real ExamSession: they come with the heartbeat (the
server's authenticated answer), are kept in the candidate's store (the list and what was
read survive a restart of the client), and are acknowledged as 已送达 and 已读. Real
server on 127.0.0.1, real HTTP, real SQLCipher store."""

from __future__ import annotations

import threading
from pathlib import Path

from console_actions import console_action, room_tiles
from test_extra_time_session import session_for, wait_for

from client.session.exam_session import SessionEvents
from client.session.staff_messages import StaffMessage
from server.testing import live_server


def test_messages_are_kept_across_a_restart_and_acknowledged(tmp_path: Path) -> None:
    with live_server(tmp_path / "server", start_in_s=1, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        arrived: list[StaffMessage] = []
        got = threading.Event()

        def on_messages(messages: list[StaffMessage]) -> None:
            arrived.extend(messages)
            got.set()

        session = session_for(srv, tmp_path, SessionEvents(on_messages=on_messages))
        try:
            login = session.login(username=demo.username, password=demo.password)
            candidate_id = int(login.candidate_id)
            for text in ("请出示准考证", "请关闭手机"):
                console_action(srv, action="message", candidate_ids=[candidate_id], text=text)
            wait_for(lambda: len(arrived) == 2, timeout_s=10, what="both messages")
            assert [m.text for m in arrived] == ["请出示准考证", "请关闭手机"]
            assert [m.sender for m in arrived] == ["监考教师 王老师"] * 2
            assert session.unread_messages() == arrived
            wait_for(lambda: all(m["delivered_at_ms"] for m in room_tiles(srv)[0]["messages"]),
                     timeout_s=10, what="已送达 on the console")
            session.mark_messages_read()
            wait_for(lambda: all(m["read_at_ms"] for m in room_tiles(srv)[0]["messages"]),
                     timeout_s=10, what="已读 on the console")
        finally:
            session.close()

        # The client restarts on the same PC: the list is there before any heartbeat,
        # read stays read, and nothing arrives twice.
        again: list[StaffMessage] = []
        restarted = session_for(srv, tmp_path, SessionEvents(on_messages=again.extend))
        try:
            restarted.login(username=demo.username, password=demo.password)
            assert [m.text for m in restarted.messages()] == ["请出示准考证", "请关闭手机"]
            assert restarted.unread_messages() == []
            console_action(srv, action="message", candidate_ids=[candidate_id], text="还有十分钟")
            wait_for(lambda: len(again) == 1, timeout_s=10, what="the new message")
            assert again[0].text == "还有十分钟"
            assert [m.text for m in restarted.unread_messages()] == ["还有十分钟"]
        finally:
            restarted.close()
