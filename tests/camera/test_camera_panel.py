"""CameraCheckPanel offscreen with pytest-qt: real frames, real models, real threads."""

from __future__ import annotations

from pathlib import Path

import camera_sequences as cs
import numpy as np
import pytest
from attacks import Face, ReactiveSource, cooperative

from client.camera.analyzer import FaceAnalyzer
from client.camera.devices import CAP_MSMF, CameraDevice, CameraSelection, DeviceChoiceStore
from client.camera.identity_check import IdentityResult, Outcome
from client.camera.settings import DEFAULT_SETTINGS, CameraSettings
from client.camera.sources import FileSequenceSource, MemorySequenceSource
from client.camera.watermark import EvidencePhoto, WatermarkInfo

pytestmark = pytest.mark.qt

QtWidgets = pytest.importorskip("PySide6.QtWidgets", exc_type=ImportError)
from PySide6 import QtCore  # noqa: E402

from client.ui.camera_panel import CameraCheckPanel  # noqa: E402


def make_panel(  # type: ignore[no-untyped-def]
    qtbot, analyzer: FaceAnalyzer, frames_factory, *, base_photo: bytes | None,
    seed: int = 0, settings: CameraSettings = DEFAULT_SETTINGS,
) -> CameraCheckPanel:
    """*frames_factory* gives recorded frames, or a ReactiveSource (a live person who
    sees the prompts: it observes the check's progress on the worker thread)."""
    reactive: list[ReactiveSource] = []

    def source() -> MemorySequenceSource | ReactiveSource:
        made = frames_factory()
        if isinstance(made, ReactiveSource):
            reactive.append(made)
            return made
        return MemorySequenceSource(made)

    panel = CameraCheckPanel(
        source_factory=source,
        base_photo=base_photo,
        analyzer_factory=lambda: analyzer,
        seed=seed,
        settings=settings,
        start=False,
    )
    panel._progressed.connect(
        lambda progress: reactive[-1].observe(progress) if reactive else None,
        QtCore.Qt.ConnectionType.DirectConnection)
    qtbot.addWidget(panel)
    panel.resize(700, 640)
    panel.show()
    return panel


def test_cooperative_candidate_is_verified_with_a_live_preview(
    qtbot, analyzer: FaceAnalyzer, face: Face, base_photo: bytes  # type: ignore[no-untyped-def]
) -> None:
    seed = 11
    panel = make_panel(qtbot, analyzer, lambda: cooperative(face, seed), base_photo=base_photo,
                       seed=seed)
    with qtbot.waitSignal(panel.verified, timeout=60000) as blocker:
        panel.start()
    result = blocker.args[0]
    assert isinstance(result, IdentityResult) and result.passed
    qtbot.waitUntil(lambda: panel.preview.has_image, timeout=5000)
    assert panel.instruction.text() == "身份核验通过"
    assert not panel.proctor_button.isVisible()
    pixmap = panel.preview.grab()
    assert not pixmap.isNull() and pixmap.width() >= 320
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)


def test_repeated_failure_offers_the_proctor(
    qtbot, analyzer: FaceAnalyzer, frame: np.ndarray, base_photo: bytes  # type: ignore[no-untyped-def]
) -> None:
    settings = CameraSettings(max_failures_before_proctor=2)
    panel = make_panel(qtbot, analyzer, lambda: [frame] * 60, base_photo=base_photo,
                       settings=settings)
    recorded: list[IdentityResult] = []
    panel.resultRecorded.connect(recorded.append)
    with qtbot.waitSignal(panel.resultRecorded, timeout=30000):
        panel.start()
    assert recorded[0].reason == "liveness.frozen"
    assert panel.retry_button.isVisible() and not panel.proctor_button.isVisible()
    assert "还可以再试 1 次" in panel.details.text()
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    with qtbot.waitSignal(panel.failedTooOften, timeout=30000):
        panel.retry_button.click()
    assert panel.proctor_button.isVisible()
    with qtbot.waitSignal(panel.proctorRequested, timeout=1000):
        panel.proctor_button.click()

    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    info = WatermarkInfo(exam_time="2026-06-01 09:00-11:00", center_id="BJ0101",
                         center_name="北京一中考点", room="第03考场", candidate_id="2023001",
                         taken_at="2026-06-01 08:55:00")
    with qtbot.waitSignal(panel.evidenceCaptured, timeout=30000) as evidence:
        panel.capture_evidence(info)
    photo = evidence.args[0]
    assert isinstance(photo, EvidencePhoto) and photo.jpeg[:2] == b"\xff\xd8"


def test_missing_base_photo_goes_to_the_proctor_at_once(
    qtbot, analyzer: FaceAnalyzer, face: Face  # type: ignore[no-untyped-def]
) -> None:
    seed = 12
    panel = make_panel(qtbot, analyzer, lambda: cooperative(face, seed), base_photo=None,
                       seed=seed)
    assert "底照" in panel._hint.text()
    with qtbot.waitSignal(panel.failedTooOften, timeout=60000) as blocker:
        panel.start()
    assert blocker.args[0].outcome is Outcome.NO_BASE_PHOTO
    assert panel.proctor_button.isVisible()
    assert "监考老师" in panel.details.text()


def test_file_source_error_is_shown_with_its_steps(
    qtbot, analyzer: FaceAnalyzer, tmp_path: Path, base_photo: bytes  # type: ignore[no-untyped-def]
) -> None:
    panel = CameraCheckPanel(
        source_factory=lambda: FileSequenceSource(tmp_path / "missing.mp4"),
        base_photo=base_photo,
        analyzer_factory=lambda: analyzer,
        start=False,
    )
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.resultRecorded, timeout=30000) as blocker:
        panel.start()
    assert blocker.args[0].outcome is Outcome.CAMERA_ERROR
    assert panel.instruction.text() == "找不到指定的摄像头替代文件"
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)


def test_candidate_can_switch_cameras(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    front = CameraDevice(0, CAP_MSMF, "Microsoft Camera Front", "front-path")
    rear = CameraDevice(1, CAP_MSMF, "Microsoft Camera Rear", "rear-path")
    store = DeviceChoiceStore(tmp_path)
    selection = CameraSelection([rear, front], store=store)
    panel = CameraCheckPanel(selection=selection, base_photo=b"", start=False)
    qtbot.addWidget(panel)
    assert panel.device_combo.isVisibleTo(panel)
    assert panel.device_combo.currentData() == front
    switched: list[CameraDevice] = []
    panel.deviceChanged.connect(switched.append)
    # Switching restarts the check on the chosen (here: absent) camera.
    with qtbot.waitSignal(panel.resultRecorded, timeout=30000):
        panel.device_combo.setCurrentIndex(0)
    assert switched == [rear]
    assert store.load() is not None and store.load().path == "rear-path"  # type: ignore[union-attr]
    panel.stop()


def test_proctor_notice_bar_follows_monitor_events(
    qtbot, image_analyzer: FaceAnalyzer, frame: np.ndarray  # type: ignore[no-untyped-def]
) -> None:
    from client.camera.proctor_monitor import Condition, MonitorRunner
    from client.ui.camera_notice import ProctorNoticeBar

    bar = ProctorNoticeBar()
    qtbot.addWidget(bar)
    bar.show()
    on_opened, on_closed = bar.callbacks()
    empty_seat = cs.shifted(frame, 640, 0)
    frames = [empty_seat] * 9 + [frame] * 9 + [frame] * 300
    runner = MonitorRunner(
        source_factory=lambda: MemorySequenceSource(frames),
        references=[],
        on_opened=on_opened,
        on_closed=on_closed,
        settings=CameraSettings(monitor_interval_s=0.01),
        analyzer_factory=lambda: image_analyzer,
    )
    try:
        with qtbot.waitSignal(bar.eventOpened, timeout=20000) as opened:
            runner.start()
        assert opened.args[0].kind is Condition.NO_FACE
        assert bar.isVisible() and "看不到你" in bar.label.text()
        with qtbot.waitSignal(bar.eventClosed, timeout=20000):
            pass
        assert not bar.isVisible()
    finally:
        assert runner.stop()
