"""The whole path with the real client and the real server: a candidate answers in a real
ExamSession, the network drops, the proctor exports from the panel (real widgets), the
admin imports (CLI, then the same file again over HTTP): the server ends up with every
answer, the proctor log travels along, and a newer export contains the older one."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from offline_helpers import admin_session, upload
from PySide6.QtCore import Qt

from client.export import offline_file as of
from client.export.offline_file import FileIdentity
from client.export.removable_drives import ExportLocation
from client.export.session_export import OfflineExporter, ensure_session_key
from client.export.session_key import REGISTRATION_PATH, registration_body
from client.proctor.candidate_status import CandidateStatus
from client.proctor.proctor_log import ProctorLog
from client.proctor.proctor_mode import ProctorMode
from client.proctor.store_sink import StoreEventSink, read_events
from client.proctor.verifiers import ProctorVerifierSet, create_verifier
from client.session.exam_session import ExamSession, client_id_for
from client.sync.api import ExamApi
from client.sync.clock import ServerClock
from client.ui.proctor_panel import ProctorPanel
from server.cli import main as server_cli
from server.offline_import import offline_imports

pytestmark = pytest.mark.qt


def wait(predicate, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_export_from_the_panel_and_import(qtbot, srv, tmp_path, capsys):
    demo = srv.demo
    data_dir = tmp_path / "client"
    clock = ServerClock()
    api = ExamApi(srv.url, clock=clock, client_id=client_id_for(data_dir))
    session = ExamSession(api=api, clock=clock, data_dir=data_dir, center_id=demo.center_id,
                          sync_interval_s=0.2)
    try:
        login = session.login(username=demo.username, password=demo.password)
        writer = session._writer  # the session's StoreWriter (see the report: expose it)
        key = writer.call(ensure_session_key).result()
        requests.post(srv.api(REGISTRATION_PATH), headers={"Authorization": f"Bearer {api.token}"},
                      json=registration_body(key, exam_id=login.exam.id,
                                             candidate_id=login.candidate_id,
                                             client_id=api.client_id),
                      timeout=10).raise_for_status()
        session.preload()
        session.unlock()
        attempt = srv.db.find_attempt(exam_id=login.exam.id,
                                      candidate_id=int(login.candidate_id))

        # Online: two answers reach the server.
        session.save_answer("q1", "A")
        session.save_answer("q2", "C")
        wait(lambda: srv.db.current_revisions(attempt.id) == {"q1": 1, "q2": 1})

        # The network drops (the server's address stops answering); answering goes on.
        api.base_url = "http://127.0.0.1:9"
        session.save_answer("q1", "B")
        session.save_answer("q4", ["A", "B", "D"])
        session.save_answer("q8", "断网后写的作文")
        writer.flush().result()
        assert srv.db.current_revisions(attempt.id) == {"q1": 1, "q2": 1}

        # The proctor opens the panel, unlocks and exports to the (simulated) USB stick.
        verifiers = ProctorVerifierSet([create_verifier(proctor_id="p1", name="王老师",
                                                        password="Kq7-m2Lx9")])
        mode = ProctorMode(verifiers=verifiers,
                           log=ProctorLog(sink=StoreEventSink(writer.call),
                                          server_time_ms=clock.now_ms))
        package_sha = hashlib.sha256(session.attempt.package_path.read_bytes()).hexdigest()
        exporter = OfflineExporter(
            writer=writer,
            identity=FileIdentity(exam_id=login.exam.id, candidate_id=login.candidate_id,
                                  candidate_no=login.student_no, client_id=api.client_id,
                                  package_sha256=package_sha),
            server_box_key=X25519PublicKey.from_public_bytes(srv.box_public_key),
            server_time_ms=clock.now_ms, exam_end_ms=login.exam.end_ms,
            wall_time_ms=lambda: time.time_ns() // 1_000_000)

        def status() -> CandidateStatus:
            revisions = writer.call(lambda store: store.revisions()).result()
            return CandidateStatus(
                candidate_no=login.student_no, candidate_name=login.candidate_name,
                exam_id=login.exam.id, exam_title=login.exam.title,
                answered=len({r.question_id for r in revisions}), question_total=8,
                revisions_saved=len(revisions), unsynced=sum(not r.synced for r in revisions),
                synced_up_to_server_ms=None, submission="answering", integrity="正常",
                identity="通过")

        usb = tmp_path / "usb"
        usb.mkdir()
        panel = ProctorPanel(mode=mode, candidate_status=status, export=exporter.export,
                             on_authorize_relogin=lambda who: None,
                             locations=lambda: [ExportLocation(usb, "E: USB", removable=True)])
        qtbot.addWidget(panel)
        panel.show()
        panel.name_edit.setText("王老师")
        panel.password_edit.setText("Kq7-m2Lx9")
        qtbot.mouseClick(panel.unlock_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(panel.is_unlocked, timeout=10_000)
        qtbot.waitUntil(lambda: "3 次修改尚未同步" in panel.status_labels["sync"].text())
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.last_export is not None, timeout=15_000)
        first = panel.last_export
        assert first.path.parent == usb and first.revision_count == 5

        # The admin imports it with the CLI: the offline answers join the server's.
        code = server_cli(["import-offline", "--data", str(srv.data_dir), str(first.path)])
        out = capsys.readouterr().out
        assert code == 0, out
        assert srv.db.current_answers(attempt.id) == {
            "q1": "B", "q2": "C", "q4": ["A", "B", "D"], "q8": "断网后写的作文"}
        with srv.db.read() as conn:
            summary = conn.execute(offline_imports.select()).one().summary
        assert [e["kind"] for e in summary["proctor_log"]] == ["proctor.unlocked"]

        # One more answer, a second export: it holds everything the first one did, plus
        # the proctor's first export in its log.
        session.save_answer("q5", True)
        writer.flush().result()
        time.sleep(1.1)  # the file name has a one-second resolution
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.last_export is not first, timeout=15_000)
        second = panel.last_export
        assert second.path != first.path and first.path.exists()
        box = srv.context.keys.box
        old_header, old = _open(first.path, box)
        new_header, new = _open(second.path, box)
        assert new_header.export_seq == old_header.export_seq + 1
        assert _keys(old.revisions) <= _keys(new.revisions) and len(new.revisions) == 6
        assert "proctor.exported" in [e.kind for e in new.proctor_log]

        # Uploaded over HTTP: only q5 is new; the first file again changes nothing.
        html = upload(admin_session(srv), srv, [(second.file_name, second.path.read_bytes()),
                                               (first.file_name, first.path.read_bytes())])
        assert 'data-code="offline.merged"' in html and 'data-code="offline.unchanged"' in html
        assert "题 q5：版本 - -&gt; 1" in html
        assert srv.db.current_answers(attempt.id)["q5"] is True
        qtbot.mouseClick(panel.end_button, Qt.MouseButton.LeftButton)
        kinds = [e.kind for e in writer.call(read_events).result()]
        assert kinds == ["proctor.unlocked", "proctor.exported", "proctor.exported",
                         "proctor.ended"]
    finally:
        session.close()


def _keys(revisions):
    return {(r.question_id, r.revision, json.dumps(r.value)) for r in revisions}


def _open(path, box):
    envelope = of.read_envelope(path.read_bytes())
    header = of.parse_header(envelope)
    return header, of.open_payload(envelope, header, server_box_key=box)
