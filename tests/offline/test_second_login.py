"""Second logins: held until authorized (code online or offline, admin approval), the same PC
after a crash needs nobody, another PC continues within the resume window and is
submitted automatically after it; the old PC is revoked and its late answers merge by
revision from the proctor's file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fault_proxy import FaultProxy
from offline_support import attempt_of, build_session, start_exam, wait_until

from client.errors import UserFacingError
from client.proctor.services import ProctorServices
from client.session.authorization import authorization_code, window_of
from client.session.exam_session import ExamSession, Phase
from client.session.preload import preload_exam
from client.session.view_model import login_state
from client.sync.api import ExamApi
from client.sync.clock import ServerClock
from client.sync.errors import ServerRefused
from server.cli import main as server_cli
from server.offline_import import ImportScope, import_offline_file
from server.testing import LiveServer


@contextlib.contextmanager
def another_proxy(server: LiveServer) -> Iterator[FaultProxy]:
    with FaultProxy(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))) as proxy:
        yield proxy


def code_for(server: LiveServer, index: int = 0, *, windows_ago: int = 0) -> str:
    assert server.demo is not None
    return authorization_code(proctor_secret=server.demo.proctor_secret,
                              exam_id=server.demo.exam_id,
                              student_no=server.demo.candidates[index].student_no,
                              window=window_of(server.clock.now_ms()) - windows_ago)


def first_pc(server: LiveServer, proxy: FaultProxy, data_dir: Path) -> ExamSession:
    """The candidate's first PC: logged in, exam started, q1 and q2 answered and synced."""
    assert server.demo is not None
    session = build_session(proxy.url, data_dir)
    session.login(username=server.demo.username, password=server.demo.password)
    session.preload()
    start_exam(server, session)
    session.save_answer("q1", "A")
    session.save_answer("q2", "A")
    wait_until(lambda: server.db.current_answers(attempt_of(server).id) == {"q1": "A", "q2": "A"})
    return session


def held_login(server: LiveServer, session: ExamSession, index: int = 0) -> ServerRefused:
    assert server.demo is not None
    person = server.demo.candidates[index]
    with pytest.raises(ServerRefused) as held:
        session.login(username=person.student_no, password=person.password)
    assert held.value.code == "second_login" and "非首次登录" in held.value.message
    assert session.phase is Phase.AUTHORIZING and session.authorization is not None
    return held.value


def test_code_on_another_pc_and_the_old_pcs_late_answers(server: LiveServer, proxy: FaultProxy,
                                                         tmp_path: Path) -> None:
    assert server.demo is not None
    old = first_pc(server, proxy, tmp_path / "pc-old")
    with another_proxy(server) as new_link:
        new = build_session(new_link.url, tmp_path / "pc-new")
        try:
            # The old PC loses the network and keeps answering.
            proxy.set_mode("down")
            old.save_answer("q1", "X")
            old.save_answer("q2", "B")
            held = held_login(server, new)
            state = login_state(new)
            assert state.show_authorization_code and str(held.detail["request_id"]) in \
                state.authorization_message
            for wrong in (code_for(server, 1), code_for(server, windows_ago=2), "12345678",
                          "not a code"):
                with pytest.raises(UserFacingError) as refused:
                    new.authorize_with_code(wrong)
                assert refused.value.code == "authorization.code_invalid", wrong
            code = code_for(server)
            login = new.authorize_with_code(code[:4] + "-" + code[4:].lower())
            assert login.login_kind == "authorization_code" and new.online
            # The new PC continues from the server's answers, before the exam page opens.
            assert new.answers() == {"q1": "A", "q2": "A"}
            new.preload()
            new.unlock()
            new.save_answer("q1", "C")
            wait_until(lambda: server.db.current_answers(attempt_of(server).id)["q1"] == "C")
            # The same code does not let a third PC in.
            third = requests.post(server.api("/login"), json={
                "username": server.demo.username, "password": server.demo.password,
                "client_id": "pc-third", "authorization_code": code}, timeout=10)
            assert third.status_code == 409 and third.json()["error"] == "authorization_code_used"
            # One writer per attempt: back on the network, the old PC learns that its
            # token was revoked and stops; nothing of it arrives by sync ...
            proxy.set_mode("pass")
            wait_until(lambda: old.phase is Phase.REVOKED, message="old PC revoked")
            assert server.db.current_answers(attempt_of(server).id) == {"q1": "C", "q2": "A"}
            # ... its answers leave in the proctor's file and merge by revision: q2
            # (untouched on the new PC) takes the old PC's later value; q1 keeps the new PC's.
            (tmp_path / "usb").mkdir()
            exported = ProctorServices(session=old, post_json=lambda path, body: None).export(
                tmp_path / "usb")
            report = import_offline_file(server.context, data=exported.path.read_bytes(),
                                         file_name=exported.file_name, scope=ImportScope())
            assert report.code == "offline.merged", report.message
            assert server.db.current_answers(attempt_of(server).id) == {"q1": "C", "q2": "B"}
        finally:
            new.close()
            old.close()


def test_code_checked_offline_when_the_network_drops(server: LiveServer, proxy: FaultProxy,
                                                     tmp_path: Path) -> None:
    assert server.demo is not None
    person = server.demo.candidates[2]  # Hong Kong ID, password 123456
    with another_proxy(server) as other_link:
        first = build_session(other_link.url, tmp_path / "pc-first")
        first.login(username=person.student_no, password=person.password)
        first.close()
        pc = tmp_path / "pc-second"
        preload_exam(api=ExamApi(proxy.url, clock=ServerClock()), data_dir=pc,
                     exam_id=server.demo.exam_id, admin_username=server.demo.admin_username,
                     admin_password=server.demo.admin_password)
        session = build_session(proxy.url, pc)
        try:
            start_exam_time = server.demo.start_ms + 60_000
            server.clock.set_now(start_exam_time)  # type: ignore[attr-defined]
            held_login(server, session, index=2)
            proxy.set_mode("down")  # gone right after the server held the login
            with pytest.raises(UserFacingError):
                session.authorize_with_code(code_for(server, 2, windows_ago=3))
            login = session.authorize_with_code(code_for(server, 2))
            assert login.offline and session.phase is Phase.WAITING
            proxy.set_mode("pass")
            assert session.reconnect()  # the same code, now checked by the server too
            assert session.attempt.login.login_kind == "authorization_code"
        finally:
            session.close()


def test_admin_approval_by_api_and_cli(server: LiveServer, proxy: FaultProxy,
                                       tmp_path: Path) -> None:
    assert server.demo is not None
    old = first_pc(server, proxy, tmp_path / "pc-old")
    old.close()
    new = build_session(proxy.url, tmp_path / "pc-new")
    try:
        held = held_login(server, new)
        with pytest.raises(ServerRefused):
            new.retry_login()  # nobody approved yet
        admin = requests.post(server.api("/admin/login"), json={
            "username": server.demo.admin_username, "password": server.demo.admin_password},
            timeout=10).json()["token"]
        auth = {"Authorization": f"Bearer {admin}"}
        listed = requests.get(server.api("/admin/login-requests"), headers=auth,
                              timeout=10).json()["requests"]
        assert [r["id"] for r in listed] == [held.detail["request_id"]]
        assert listed[0]["student_no"] == server.demo.username
        approved = requests.post(
            server.api(f"/admin/login-requests/{held.detail['request_id']}/approve"),
            headers=auth, timeout=10)
        assert approved.json()["status"] == "approved"
        assert new.retry_login().login_kind == "approved"
        new.close()
        # The CLI approves in advance: the next PC goes straight in.
        assert server_cli(["authorize-login", server.demo.exam_id, server.demo.username,
                           "--data", str(server.data_dir)]) == 0
        third = build_session(proxy.url, tmp_path / "pc-third")
        assert third.login(username=server.demo.username,
                           password=server.demo.password).login_kind == "approved"
        third.close()
    finally:
        new.close()


def test_the_same_pc_after_a_crash_needs_no_proctor(server: LiveServer, proxy: FaultProxy,
                                                    tmp_path: Path) -> None:
    assert server.demo is not None
    first = first_pc(server, proxy, tmp_path / "pc")
    first.close()  # the client restarts itself (e.g. after a rendering fallback)
    again = build_session(proxy.url, tmp_path / "pc")
    try:
        login = again.login(username=server.demo.username, password=server.demo.password)
        assert login.login_kind == "same_client"
        assert again.answers() == {"q1": "A", "q2": "A"}
        again.unlock()  # the paper key is in the store: no server needed for it
        assert again.phase is Phase.RUNNING
    finally:
        again.close()


def test_after_the_resume_window_the_paper_is_submitted(server: LiveServer, proxy: FaultProxy,
                                                        tmp_path: Path) -> None:
    assert server.demo is not None
    first_pc(server, proxy, tmp_path / "pc-old").close()
    server.clock.advance(ms=31 * 60_000)  # type: ignore[attr-defined]
    new = build_session(proxy.url, tmp_path / "pc-new")
    try:
        login = new.login(username=server.demo.username, password=server.demo.password)
        assert login.login_kind == "resume_window_over"
        assert "自动提交" in new.notice and login_state(new).notice == new.notice
        wait_until(lambda: new.phase is Phase.SUBMITTED, message="submission confirmed")
        attempt = attempt_of(server)
        assert attempt.status == "auto_submitted"
        assert server.db.current_answers(attempt.id) == {"q1": "A", "q2": "A"}
        with pytest.raises(UserFacingError):
            new.save_answer("q3", "A")
    finally:
        new.close()
