"""The candidate's marks (标记) through the proctor's file (issue 15: flags survive export
and import, and follow the candidate to another PC): server/offline_marks.py.

Real server, real sessions on real SQLCipher stores, the old PC cut off by a fault proxy
(what a lab PC whose cable was pulled does), real files imported as the admin does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_proxy import FaultProxy
from lifecycle_support import admin_import, proctor_export
from offline_support import attempt_of, build_session, wait_until

from client.i18n import set_language
from client.session.exam_session import ExamSession, Phase
from client.sync.errors import ServerRefused
from server.api_admin import authorize_login
from server.api_attempt import current_flags
from server.offline_import import ImportStatus, format_report
from server.offline_marks import MarksOutcome
from server.testing import LiveServer, live_server

MARGIN_S = 0.3  # between a change and the next event: far above the PC's clock estimate error


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "server", demo=True, start_in_s=-5.0, duration_s=1800) as live:
        yield live


@pytest.fixture
def cable(srv: LiveServer) -> Iterator[FaultProxy]:
    with FaultProxy(("127.0.0.1", int(srv.url.rsplit(":", 1)[1]))) as proxy:
        yield proxy


def in_exam(srv: LiveServer, url: str, data_dir: Path) -> ExamSession:
    assert srv.demo is not None
    session = build_session(url, data_dir, timeout_s=15)
    session.login(username=srv.demo.username, password=srv.demo.password)
    session.preload()
    session.unlock()
    assert session.phase is Phase.RUNNING
    return session


def move_to_new_pc(srv: LiveServer, data_dir: Path) -> ExamSession:
    """The candidate moves to another PC: held as a second login, the admin approves."""
    assert srv.demo is not None
    new = build_session(srv.url, data_dir, timeout_s=15)
    with pytest.raises(ServerRefused):
        new.login(username=srv.demo.username, password=srv.demo.password)
    authorize_login(srv.db, exam_id=srv.demo.exam_id, who=srv.demo.username,
                    approved_by="chief", now_ms=srv.clock.now_ms())
    new.retry_login()
    return new


def test_marks_made_offline_reach_the_server_by_file_and_the_next_pc_shows_them(
        srv: LiveServer, cable: FaultProxy, tmp_path: Path) -> None:
    """Before: the file carried the answers only, so marks set while the PC was offline
    were lost with the PC; the PC the candidate moved to showed none."""
    old = in_exam(srv, cable.url, tmp_path / "old-pc")
    new: ExamSession | None = None
    try:
        old.save_answer("q1", "A")
        attempt_id = attempt_of(srv).id
        wait_until(lambda: srv.db.current_answers(attempt_id) == {"q1": "A"})
        cable.set_mode("down")
        old.save_flags(["q5", "q2"])  # never reaches the server by itself
        report = admin_import(srv, proctor_export(old, tmp_path / "usb"))
        assert report.status is ImportStatus.MERGED, report.message
        assert report.marks is MarksOutcome.APPLIED
        assert "答案没有变化，考生的标记已更新" in report.message
        assert "考生的标记已更新：q2, q5" in "\n".join(format_report(report))
        assert current_flags(srv.context, attempt_id) == ["q2", "q5"]
        event = srv.db.events(attempt_id=attempt_id, kind="flags")[-1]
        assert event.payload["source"] == "offline_file"
        assert event.payload["client_id"] == old.api.client_id
        new = move_to_new_pc(srv, tmp_path / "new-pc")
        assert new.flags() == ["q2", "q5"]
        again = admin_import(srv, proctor_export(old, tmp_path / "usb"))
        assert again.status is ImportStatus.UNCHANGED and again.marks is MarksOutcome.UNCHANGED
    finally:
        old.close()
        if new is not None:
            new.close()


def test_a_stale_file_never_undoes_newer_marks(srv: LiveServer, cable: FaultProxy,
                                               tmp_path: Path) -> None:
    """The proctor exports while the PC is offline, the candidate then changes the marks
    and they reach the server online; the older file, imported afterwards, keeps them."""
    pc = in_exam(srv, cable.url, tmp_path / "pc")
    try:
        attempt_id = attempt_of(srv).id
        cable.set_mode("down")
        pc.save_flags(["q1"])
        stale = proctor_export(pc, tmp_path / "usb-1")
        time.sleep(MARGIN_S)
        pc.save_flags(["q2"])
        cable.set_mode("pass")
        wait_until(lambda: current_flags(srv.context, attempt_id) == ["q2"],
                   message="the PC's newer marks on the server")
        report = admin_import(srv, stale)
        assert report.marks is MarksOutcome.OLDER, report
        assert report.status is ImportStatus.UNCHANGED
        assert "文件中的标记比服务器上的旧，未采用" in "\n".join(format_report(report))
        assert current_flags(srv.context, attempt_id) == ["q2"]
    finally:
        pc.close()


def test_marks_changed_on_a_pc_after_it_was_taken_over_are_refused(
        srv: LiveServer, cable: FaultProxy, tmp_path: Path) -> None:
    """The old PC, cut off, never learns that the candidate moved; marks changed there
    afterwards are not the candidate's: the admin reads why (both languages), the server
    keeps the marks it had, and the marks made there before the move are kept."""
    old = in_exam(srv, cable.url, tmp_path / "old-pc")
    new: ExamSession | None = None
    try:
        attempt_id = attempt_of(srv).id
        cable.set_mode("down")
        old.save_flags(["q2"])  # before the move: the candidate's
        time.sleep(MARGIN_S)
        new = move_to_new_pc(srv, tmp_path / "new-pc")
        time.sleep(MARGIN_S)
        before_move = proctor_export(old, tmp_path / "usb-1")
        old.save_flags(["q1", "q2", "q5"])  # after the move: not the candidate's
        after_move = proctor_export(old, tmp_path / "usb-2")
        report = admin_import(srv, after_move)
        assert report.marks is MarksOutcome.AFTER_TAKE_OVER, report
        assert report.status is ImportStatus.REFUSED and report.code == "offline.after_take_over"
        assert "这台电脑在考生换到其他电脑之后的标记未采用" in "\n".join(format_report(report))
        assert current_flags(srv.context, attempt_id) == []
        audit = srv.db.events(attempt_id=attempt_id, kind="offline_after_take_over")[-1]
        assert audit.payload["refused_marks"] is True
        set_language("en")
        try:
            english = "\n".join(format_report(admin_import(srv, after_move)))
        finally:
            set_language("zh_CN")
        assert "marks changed on this PC after the candidate moved" in english, english
        kept = admin_import(srv, before_move)
        assert kept.marks is MarksOutcome.APPLIED, kept
        assert current_flags(srv.context, attempt_id) == ["q2"]
    finally:
        old.close()
        if new is not None:
            new.close()
