"""The demo exam carries the exam-day rules (``exam-client demo``; the frozen driver takes
it through them): the pledge, the proctor by real name whose shipped photo matches a
webcam frame of the same person (real SFace inference), and the similarity the proctor
panel shows after the face match."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from rules_support import make_session

from client.camera.sources import MemorySequenceSource
from client.errors import UserFacingError
from client.paper.exam_rules import pledge_from_extra
from client.proctor.identity import identities_from_extra
from client.proctor.proctor_mode import ProctorState
from client.proctor.services import ProctorServices
from client.review.services import transport_for
from client.ui.proctor_panel import ProctorPanel
from server.demo import (
    DEMO_PLEDGE_ZH,
    DEMO_PROCTOR_NAME,
    DEMO_PROCTOR_PASSWORD,
    install_exam_day_rules,
)
from server.testing import LiveServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "camera"))
from camera_sequences import astronaut_frame, cameraman_closeup

sys.path.pop(0)

pytestmark = pytest.mark.qt


def demo_services(server: LiveServer, data_dir: Path, frames: list[object],
                  ) -> tuple[object, ProctorServices]:
    assert server.demo is not None
    session = make_session(server, data_dir)
    session.login(username=server.demo.username, password=server.demo.password)
    session.preload()
    services = ProctorServices(session=session, post_json=transport_for(session).post_json,
                               face_source_factory=lambda: MemorySequenceSource(frames))
    return session, services


def test_demo_exam_day_rules(server: LiveServer, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    install_exam_day_rules(settings=server.context.settings, db=server.db,
                           keys=server.context.keys, clock=server.clock,
                           proctor_face_match=True)
    session, services = demo_services(server, tmp_path / "pc", [astronaut_frame()] * 24)
    header = session.attempt.header  # type: ignore[attr-defined]
    pledge = pledge_from_extra(header.extra)
    assert pledge is not None and pledge.required and pledge.text_zh == DEMO_PLEDGE_ZH
    cards, face_match = identities_from_extra(header.extra)
    assert face_match
    [card] = cards.values()
    assert card.id_number_masked == "110101********3456" and card.face is not None

    panel = ProctorPanel(mode=services.mode, export=services.export, locations=lambda: [],
                         candidate_status=lambda: services.candidate_status(
                             integrity="正常", identity="未核验"),
                         on_authorize_relogin=lambda who: None, cards=services.cards)
    qtbot.addWidget(panel)
    panel.show()
    panel.name_edit.setText(DEMO_PROCTOR_NAME)
    panel.password_edit.setText(DEMO_PROCTOR_PASSWORD)
    qtbot.mouseClick(panel.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.is_unlocked, timeout=30_000)
    result = services.mode.last_face_match
    assert result is not None and result.matched  # type: ignore[attr-defined]
    text = panel.proctor_label.text()
    assert f"相似度 {result.score:.2f}（要求 {result.threshold:.2f}）" in text  # type: ignore[attr-defined]
    assert "人脸比对通过" in text and "110101********3456" in text
    panel.end_proctor_mode()
    session.close()  # type: ignore[attr-defined]

    # Someone else in front of the camera: the shipped photo does not match everybody.
    session, services = demo_services(server, tmp_path / "pc2", [cameraman_closeup()] * 24)
    with pytest.raises(UserFacingError) as refused:
        services.mode.unlock(name=DEMO_PROCTOR_NAME, password=DEMO_PROCTOR_PASSWORD)
    assert refused.value.code == "proctor.face_mismatch"
    assert services.mode.state is ProctorState.LOCKED
    assert services.mode.last_face_match is None
    session.close()  # type: ignore[attr-defined]
