"""Extra time given from the console during the exam reaches a real ExamSession by its
heartbeat (the server's authenticated answer) and moves its timer, its reminders (the end
estimate), its seal and its automatic submission: the attempt submits at the new end, not
the old one. And an offline answer file written after the exam's end but within the
candidate's extra time merges on the server. Real server on 127.0.0.1, real HTTP, real
SQLCipher store; the console is driven over HTTP as a browser would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from console_actions import console_action
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from resume_child import file_keyring, open_paper

from client.export.offline_file import FileIdentity
from client.export.session_export import OfflineExporter
from client.session.exam_session import ExamSession, Phase, SessionEvents, client_id_for
from client.sync.api import ExamApi
from client.sync.clock import ServerClock
from server.offline_import import ImportScope, ImportStatus, import_offline_file
from server.testing import LiveServer, live_server

EXTRA_MS = 6_000  # 0.1 minutes: the console takes fractions of a minute too


def wait_for(predicate: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s"
        time.sleep(0.05)


def give_extra_time(srv: LiveServer, candidate_id: int, *, minutes: float) -> None:
    """The proctor of the room, in the console, over HTTP."""
    console_action(srv, action="extra_time", candidate_id=candidate_id, minutes=minutes,
                   reason="电脑故障重启，补足耽误的时间")


def session_for(srv: LiveServer, tmp_path: Path, events: SessionEvents) -> ExamSession:
    data_dir = tmp_path / "pc"
    data_dir.mkdir(parents=True, exist_ok=True)
    clock = ServerClock()
    api = ExamApi(srv.url, clock=clock, client_id=client_id_for(data_dir))
    assert srv.demo is not None
    session = ExamSession(api=api, clock=clock, data_dir=data_dir,
                          center_id=srv.demo.center_id, sync_interval_s=0.3,
                          heartbeat_interval_s=0.3,
                          keyring_backend=file_keyring(tmp_path / "keyring.cfg"))
    session.events = events
    return session


def test_extra_time_during_the_exam_moves_the_timer_and_the_automatic_submission(
        tmp_path: Path) -> None:
    estimates: list[int | None] = []
    with live_server(tmp_path / "server", start_in_s=1, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        session: ExamSession | None = None
        session = session_for(srv, tmp_path, SessionEvents(
            on_end_estimate=lambda: estimates.append(session.ms_until_end()
                                                     if session else None)))
        try:
            login = session.login(username=demo.username, password=demo.password)
            open_paper(session)
            candidate_id = int(login.candidate_id)
            base_end = demo.end_ms
            give_extra_time(srv, candidate_id, minutes=EXTRA_MS / 60_000)
            wait_for(lambda: session.attempt.login.exam.end_ms == base_end + EXTRA_MS,
                     timeout_s=10, what="the new end by heartbeat")
            wait_for(lambda: len(estimates) >= 2, timeout_s=5,
                     what="the moved end announced (reminders re-armed)")

            # Close to the exam's end: 1.5 s before it, 7.5 s before the candidate's.
            srv.clock.set_now(base_end - 1_500)  # type: ignore[attr-defined]
            wait_for(lambda: abs((session.ms_until_end() or 0) - (1_500 + EXTRA_MS)) < 1_000,
                     timeout_s=10, what="the server's time learnt")
            wait_for(lambda: srv.clock.now_ms() > base_end + 1_000, timeout_s=10,
                     what="the exam's end passed")
            # Past the exam's end: still answering, on the PC and on the server.
            assert session.phase is Phase.RUNNING
            question = next(session.paper.items()).id
            session.save_answer(question, "B")
            attempt = srv.db.find_attempt(exam_id=demo.exam_id, candidate_id=candidate_id)
            assert attempt is not None
            wait_for(lambda: srv.db.current_answers(attempt.id).get(question) == "B",
                     timeout_s=5, what="the answer given in the extra time uploaded")
            assert srv.db.get_attempt(attempt.id).status == "in_progress"  # type: ignore[union-attr]

            # At the new end the session seals and submits by itself.
            wait_for(lambda: session.phase is Phase.SUBMITTED, timeout_s=15,
                     what="the automatic submission at the new end")
            done = srv.db.get_attempt(attempt.id)
            assert done is not None and done.submitted_at_ms is not None
            assert done.submitted_at_ms >= base_end + EXTRA_MS - 1_500, (
                done.submitted_at_ms - base_end)
            assert srv.db.current_answers(attempt.id)[question] == "B"
        finally:
            session.close()


def test_an_offline_file_written_after_the_exams_end_within_extra_time_merges(
        tmp_path: Path) -> None:
    with live_server(tmp_path / "server", start_in_s=1, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        moved = threading.Event()
        session = session_for(srv, tmp_path, SessionEvents(on_end_estimate=moved.set))
        try:
            login = session.login(username=demo.username, password=demo.password)
            open_paper(session)
            candidate_id = int(login.candidate_id)
            base_end = demo.end_ms
            wait_for(session.key_registered, timeout_s=10, what="the file key registered")
            give_extra_time(srv, candidate_id, minutes=10)
            wait_for(lambda: session.attempt.login.exam.end_ms == base_end + 600_000,
                     timeout_s=10, what="the new end by heartbeat")
            srv.clock.set_now(base_end - 1_000)  # type: ignore[attr-defined]
            wait_for(lambda: abs((session.ms_until_end() or 0) - 601_000) < 1_000,
                     timeout_s=10, what="the server's time learnt")

            # The network goes; the exam's end passes; the candidate answers on.
            session.api.base_url = "http://127.0.0.1:9"
            wait_for(lambda: (session.now_ms() or 0) > base_end + 500, timeout_s=10,
                     what="the exam's end passed on the PC")
            assert session.phase is Phase.RUNNING
            question = next(session.paper.items()).id
            session.save_answer(question, "D")
            session.writer.flush().result()
            stamped = [r.server_time_ms for r in session.writer.call(
                lambda store: store.revisions()).result() if r.question_id == question]
            assert stamped and stamped[-1] is not None and stamped[-1] > base_end

            # The proctor exports the file (the panel's exporter, asking the session's end).
            exporter = OfflineExporter(
                writer=session.writer,
                identity=FileIdentity(exam_id=login.exam.id, candidate_id=login.candidate_id,
                                      candidate_no=login.student_no,
                                      client_id=session.api.client_id, package_sha256=""),
                server_box_key=X25519PublicKey.from_public_bytes(srv.box_public_key),
                server_time_ms=session.clock.now_ms,
                exam_end_ms=lambda: session.attempt.login.exam.end_ms,
                wall_time_ms=lambda: time.time_ns() // 1_000_000)
            usb = tmp_path / "usb"
            usb.mkdir()
            exported = exporter.export(usb)
            # Imported later, after the candidate's own end (the server submitted the
            # attempt at it): what was saved before that end still merges.
            srv.clock.set_now(base_end + 700_000)  # type: ignore[attr-defined]
            srv.db.auto_submit_ended(now_ms=srv.clock.now_ms())
            report = import_offline_file(srv.context, data=exported.path.read_bytes(),
                                         file_name=exported.path.name, scope=ImportScope())
            assert report.status is ImportStatus.MERGED, report
            assert [q.question_id for q in report.changed_questions] == [question]
            attempt = srv.db.find_attempt(exam_id=demo.exam_id, candidate_id=candidate_id)
            assert attempt is not None
            assert srv.db.current_answers(attempt.id)[question] == "D"
            assert attempt.submitted_at_ms == base_end + 600_000
        finally:
            session.close()
