"""The 应急材料 dialog of proctor mode: webcam photo (watermarked), candidates, reason,
submitted to the real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from rules_support import make_session
from test_materials import info, room_image

from client.camera.evidence import capture_evidence_photo
from client.camera.sources import MemorySequenceSource
from client.proctor.materials import MaterialsOutbox, MaterialsWatermarkInfo
from client.review.services import transport_for
from client.ui.materials_dialog import MaterialsDialog
from server.demo import DEMO_CENTER_ADDRESS, DEMO_CENTER_NAME
from server.materials import list_materials
from server.proctors import verifiers_for
from server.testing import live_server

pytestmark = pytest.mark.qt


def test_proctor_takes_a_room_photo_marks_candidates_and_submits(qtbot: Any,
                                                                tmp_path: Path) -> None:
    with live_server(tmp_path / "server", start_in_s=-1800, duration_s=3600) as server:
        assert server.demo is not None
        session = make_session(server, tmp_path / "pc")
        login = session.login(username=server.demo.username, password=server.demo.password)
        proctor = verifiers_for(server.db, server.demo.exam_id)[0]
        marks: list[MaterialsWatermarkInfo] = []

        def capture(mark: MaterialsWatermarkInfo) -> bytes:
            marks.append(mark)
            return capture_evidence_photo(MemorySequenceSource([room_image()] * 3), mark,
                                          warmup_frames=2).jpeg

        # The center as the server registered it (login answer): filled in and locked.
        dialog = MaterialsDialog(
            proctor_id=proctor.proctor_id, proctor_name=proctor.name,
            outbox=MaterialsOutbox(run_on_store=session.run_on_store,
                                   post_json=transport_for(session).post_json),
            capture=capture,
            watermark_info=lambda center, address, room: info(
                center_name=center, center_address=address, room=room),
            now_ms=session.clock.now_ms, center_name=login.center_name,
            center_address=login.center_address)
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.center_edit.text() == DEMO_CENTER_NAME and dialog.center_edit.isReadOnly()
        assert dialog.center_address_edit.text() == DEMO_CENTER_ADDRESS
        assert dialog.center_address_edit.isReadOnly()
        qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
        assert dialog.message.text() == "请填写提交应急材料的原因"
        dialog.room_edit.setText("第03考场")
        qtbot.mouseClick(dialog.capture_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(dialog.photos) == 1, timeout=10_000)
        assert dialog.photo_list.count() == 1
        [mark] = marks
        assert f"考点 {DEMO_CENTER_NAME}" in mark.lines()[1] and "第03考场" in mark.lines()[1]
        assert mark.lines()[2] == f"地址 {DEMO_CENTER_ADDRESS}"
        dialog.candidates_edit.setPlainText(server.demo.username)
        dialog.reason_edit.setPlainText("人脸识别未通过，已人工核验身份证")
        qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.message.text() == "应急材料已提交到服务器",
                        timeout=15_000)
        [material] = list_materials(server.db, exam_id=server.demo.exam_id, center_id=None)
        assert material.room == "第03考场" and material.candidates == (server.demo.username,)
        session.close()


def test_without_a_registered_center_the_proctor_types_it(qtbot: Any) -> None:
    # An offline login (or an older server) brings no center: the fields stay editable.
    dialog = MaterialsDialog(
        proctor_id="p-1", proctor_name="王老师",
        outbox=MaterialsOutbox(run_on_store=lambda job: None,  # type: ignore[arg-type,return-value]
                               post_json=lambda path, body: None),
        capture=lambda mark: b"", watermark_info=lambda center, address, room: info(),
        now_ms=lambda: None)
    qtbot.addWidget(dialog)
    assert dialog.center_edit.text() == "" and not dialog.center_edit.isReadOnly()
    assert not dialog.center_address_edit.isReadOnly()
