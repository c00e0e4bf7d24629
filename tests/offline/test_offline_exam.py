"""An exam that starts and finishes with the network down.

The center admin preloads the package on each PC the day before. On the day the network
is down: candidates log in against the package's verifiers, the proctor's start code
opens the paper, answers are kept locally and reach the server when it is back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_proxy import FaultProxy
from offline_support import attempt_of, build_session, wait_until

from client.errors import UserFacingError
from client.session.exam_session import Phase
from client.session.preload import preload_exam
from client.session.view_model import connection_banner, login_state
from client.sync.api import ExamApi
from client.sync.clock import ServerClock
from client.sync.errors import ServerRefused, ServerUnreachable
from server.testing import LiveServer, live_server


def preload_pc(srv: LiveServer, url: str, data_dir: Path) -> None:
    assert srv.demo is not None
    api = ExamApi(url, clock=ServerClock(), timeout_s=2.0)
    header = preload_exam(api=api, data_dir=data_dir, exam_id=srv.demo.exam_id,
                          admin_username=srv.demo.admin_username,
                          admin_password=srv.demo.admin_password)
    assert header.exam_id == srv.demo.exam_id and "offline" in header.extra


def test_the_exam_runs_from_login_to_submission_with_no_network(tmp_path: Path) -> None:
    with live_server(tmp_path / "server", demo=True, start_in_s=-5.0, duration_s=1800) as srv:
        assert srv.demo is not None
        port = int(srv.url.rsplit(":", 1)[1])
        with FaultProxy(("127.0.0.1", port)) as proxy:
            pcs = [tmp_path / "pc-01", tmp_path / "pc-02"]
            for pc in pcs:
                preload_pc(srv, proxy.url, pc)
            with pytest.raises(ServerRefused) as no_admin:  # candidates cannot preload a room
                preload_exam(api=ExamApi(proxy.url, clock=ServerClock()), data_dir=tmp_path / "x",
                             exam_id=srv.demo.exam_id, admin_username=srv.demo.admin_username,
                             admin_password="wrong")
            assert no_admin.value.code == "wrong_password"

            proxy.set_mode("down")  # the day of the exam: no network at all
            first, second = srv.demo.candidates[0], srv.demo.candidates[1]
            alice = build_session(proxy.url, pcs[0])
            bob = build_session(proxy.url, pcs[1])
            stranger = build_session(proxy.url, tmp_path / "pc-never-preloaded")
            try:
                with pytest.raises(ServerUnreachable) as nothing:
                    stranger.login(username=first.student_no, password=first.password)
                assert "预先下载的试卷包" in nothing.value.message
                with pytest.raises(UserFacingError) as wrong:
                    alice.login(username=first.student_no, password="000000")
                assert wrong.value.code == "offline.wrong_credentials"

                login = alice.login(username=first.student_no, password=first.password)
                assert login.offline and login.candidate_name == "张三"
                assert alice.phase is Phase.WAITING and not alice.online
                assert "离线登录" in connection_banner(alice)
                # Bob logs in with his ID number, typed with a lower-case x.
                assert bob.login(username=second.id_number.lower(),
                                 password=second.password).student_no == second.student_no

                alice.preload()  # the preloaded package is verified and used as it is
                with pytest.raises(UserFacingError) as needed:
                    alice.unlock()
                assert needed.value.code == "unlock.start_code_needed"
                assert alice.needs_start_code and login_state(alice).show_start_code
                with pytest.raises(UserFacingError) as bad_code:
                    alice.unlock_with_start_code("AAAA-BBBB-CCCC")
                assert bad_code.value.code == "unlock.wrong_start_code"
                paper = alice.unlock_with_start_code(srv.demo.start_code.lower())
                assert alice.phase is Phase.RUNNING and paper.item_count > 5
                # No server time known: the exam runs its full length from the start code.
                left = alice.ms_until_end()
                assert left is not None and 1_790_000 < left <= 1_800_000
                bob.unlock_with_start_code(srv.demo.start_code)

                alice.save_answer("q1", "B")
                alice.save_answer("q5", True)
                bob.save_answer("q1", "D")
                wait_until(lambda: len(alice._require_writer().call(
                    lambda s: s.unsynced(limit=10)).result()) == 2, message="saved on the PC")

                proxy.set_mode("pass")  # the network comes back
                assert alice.reconnect() and alice.online
                assert bob.reconnect()
                wait_until(lambda: srv.db.current_answers(attempt_of(srv).id)
                           == {"q1": "B", "q5": True}, message="alice's answers on the server")
                wait_until(lambda: srv.db.current_answers(
                    attempt_of(srv, student_no=second.student_no).id) == {"q1": "D"},
                    message="bob's answers on the server")
                alice.submit()
                assert attempt_of(srv).status == "submitted"
                assert connection_banner(alice) == ""
            finally:
                for session in (alice, bob, stranger):
                    session.close()
