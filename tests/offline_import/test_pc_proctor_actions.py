"""Proctor actions taken on an exam PC while the server was unreachable reach the console
with their original time, whether the PC syncs them when the network is back or they come
in its offline answer file, and once each; the console's audit page, its CSV and the
seat's details show when each was done and when it arrived. A PC's claimed time in the
future or long before the exam is not believed, and a flood is cut off."""

from __future__ import annotations

import csv
import io

import requests
from offline_helpers import sit
from sqlalchemy import select

from client.proctor.proctor_log import ProctorAction, ProctorLog
from client.proctor.services import _MemorySink
from client.proctor.store_sink import (
    SYNC_PATH,
    StoreEventSink,
    mark_synced,
    read_events,
    sync_request_body,
    unsynced_events,
)
from client.store import AnswerStore, StoreWriter
from server.console import pc_actions
from server.console import tables as ct
from server.console.demo_room import DEMO_CONSOLE_PASSWORD
from server.offline_import import ImportScope, import_offline_file

MINUTE = 60_000


def _console(srv, username: str = "jiankao") -> requests.Session:
    http = requests.Session()
    http.post(f"{srv.url}/console/login", timeout=30,
              data={"username": username, "password": DEMO_CONSOLE_PASSWORD}
              ).raise_for_status()
    return http


def _pc_rows(srv):
    with srv.db.read() as conn:
        return conn.execute(select(ct.audit).where(ct.audit.c.role == pc_actions.ROLE)
                            .order_by(ct.audit.c.id)).all()


class _Pc:
    """One exam PC's real encrypted store and proctor log, with its own idea of server time."""

    def __init__(self, srv, sitting, path) -> None:
        self.srv, self.sitting = srv, sitting
        self.server_time = srv.clock.now_ms()
        self.writer = StoreWriter(lambda: AnswerStore.open(path, key=bytes(32),
                                                           snapshot_policy=None))
        self.log = ProctorLog(sink=StoreEventSink(self.writer.call),
                              server_time_ms=lambda: self.server_time)

    def push(self) -> int:
        pending = self.writer.call(unsynced_events).result()
        body = sync_request_body(pending, client_id=self.sitting.client_id)
        response = requests.post(self.srv.api(SYNC_PATH), json=body,
                                 headers=self.sitting.headers(), timeout=10)
        response.raise_for_status()
        acked = response.json()["acked_up_to"]
        self.writer.call(lambda store: mark_synced(store, up_to_seq=acked)).result()
        return int(acked)

    def events(self):
        return tuple(self.writer.call(read_events).result())


def test_offline_actions_arrive_with_their_original_time_once_each(srv, tmp_path):
    alice = sit(srv)
    pc = _Pc(srv, alice, tmp_path / "a.db")
    try:
        done = srv.clock.now_ms()
        # A held second login let in by the proctor (logged before the store existed) ...
        held = ProctorLog(sink=_MemorySink(), server_time_ms=lambda: done - MINUTE)
        held.record(ProctorAction.RELOGIN_AUTHORIZED, proctor_id="p1", name="王老师")
        for kind, payload in held.sink.events:  # what ProctorServices.adopt does
            pc.log.append_recorded(kind, payload)
        # ... then, with the network down, the proctor unlocks and approves entry.
        pc.server_time = done
        pc.log.record(ProctorAction.UNLOCKED, proctor_id="p1", name="王老师")
        pc.server_time = done + MINUTE
        pc.log.record(ProctorAction.ENTRY_APPROVED, proctor_id="p1", name="王老师")
        # Twenty minutes later the network is back: the PC syncs.
        srv.clock.set_now(done + 20 * MINUTE)
        arrived = srv.clock.now_ms()
        assert pc.push() == 3
        rows = _pc_rows(srv)
        assert [(r.action, r.at_ms, r.actor, r.actor_name) for r in rows] == [
            ("proctor.relogin_authorized", done - MINUTE, "p1", "王老师"),
            ("proctor.unlocked", done, "p1", "王老师"),
            ("proctor.entry_approved", done + MINUTE, "p1", "王老师")]
        assert all(0 <= r.detail["arrived_at_ms"] - arrived < 5_000 for r in rows)
        assert all(r.detail["time_trusted"] and r.detail["source"] == "sync" for r in rows)

        # The same log comes again in the proctor's offline file, with one more action.
        pc.server_time = done + 21 * MINUTE
        pc.log.record(ProctorAction.EXPORTED, proctor_id="p1", file_name="x.exam-answers")
        srv.clock.set_now(done + 40 * MINUTE)
        name, data = alice.build_file([], proctor_log=pc.events())
        report = import_offline_file(srv.context, data=data, file_name=name,
                                     scope=ImportScope(imported_by="test"))
        assert report.status.value != "refused", report
        rows = _pc_rows(srv)
        assert len(rows) == 4  # the three synced ones are not recorded twice
        assert (rows[3].action, rows[3].at_ms, rows[3].detail["source"]) == (
            "proctor.exported", done + 21 * MINUTE, "offline_file")
        assert 0 <= rows[3].detail["arrived_at_ms"] - (done + 40 * MINUTE) < 5_000
        assert pc.push() == 4  # the sync of the exported action, already in: once
        assert len(_pc_rows(srv)) == 4

        # The console: the audit page and its CSV give both times, the seat its history.
        console = _console(srv)
        page = console.get(f"{srv.url}/console/audit", timeout=10).text
        assert "批准入场（考生电脑）" in page and "授权再次登录（考生电脑）" in page
        assert "到达服务器" in page and "王老师（p1）" in page
        exported = _console(srv, "zhukao").get(f"{srv.url}/console/audit.csv", timeout=10)
        table = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
        approved = next(r for r in table if r["操作"] == "批准入场（考生电脑）")
        assert approved["时间（北京时间）"] != approved["到达服务器"]
        tiles = console.get(f"{srv.url}/console/api/room", timeout=10,
                            params={"exam": alice.exam_id}).json()["tiles"]
        mine = next(t for t in tiles if t["student_no"] == alice.student_no)
        shown = [(a["action"], a["done_at_ms"], a["arrived_at_ms"]) for a in mine["pc_actions"]]
        assert shown[:2] == [
            ("proctor.exported", done + 21 * MINUTE, rows[3].detail["arrived_at_ms"]),
            ("proctor.entry_approved", done + MINUTE, rows[2].detail["arrived_at_ms"])]
    finally:
        pc.writer.close()


def test_a_claimed_time_in_the_future_or_before_the_exam_is_not_believed(srv, tmp_path):
    alice = sit(srv)
    pc = _Pc(srv, alice, tmp_path / "a.db")
    try:
        now = srv.clock.now_ms()
        exam = srv.db.get_exam(alice.exam_id)
        for claimed in (now + 3 * 3600_000, exam.start_ms - 2 * 86_400_000, None):
            # A forged (or broken) PC clock: in the future, the day before, unknown.
            pc.server_time = claimed  # type: ignore[assignment]
            pc.log.record(ProctorAction.ENTRY_APPROVED, proctor_id="p1", name="王老师")
        pc.server_time = now - MINUTE
        pc.log.record(ProctorAction.UNLOCKED, proctor_id="p1")
        pc.push()
        rows = _pc_rows(srv)
        arrived = rows[0].detail["arrived_at_ms"]
        assert [(r.at_ms, r.detail["time_trusted"]) for r in rows] == [
            (arrived, False), (arrived, False), (arrived, False), (now - MINUTE, True)]
        assert rows[0].detail["claimed_server_time_ms"] == now + 3 * 3600_000
        assert "不可信" in rows[0].reason
    finally:
        pc.writer.close()


def test_a_flood_of_reported_actions_is_cut_off(srv):
    alice = sit(srv)
    now = srv.clock.now_ms()
    sent = 0
    for _batch in range(4):
        events = [{"seq": sent + i + 1, "kind": "proctor.locked", "proctor_id": "p1",
                   "wall_time_ms": now + sent + i, "server_time_ms": now, "detail": {}}
                  for i in range(100)]
        sent += len(events)
        response = requests.post(srv.api(SYNC_PATH), headers=alice.headers(), timeout=10,
                                 json={"client_id": alice.client_id, "events": events})
        assert response.json()["acked_up_to"] == sent  # acked, so the PC stops sending
    rows = _pc_rows(srv)
    assert len(rows) == pc_actions.MAX_PER_ATTEMPT
    with srv.db.read() as conn:
        dropped = conn.execute(select(ct.audit).where(
            ct.audit.c.action == pc_actions.DROPPED)).all()
    assert len(dropped) == 1 and dropped[0].detail["limit"] == pc_actions.MAX_PER_ATTEMPT
