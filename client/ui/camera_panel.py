"""人脸识别身份核验: live preview with a face guide, the instruction, challenge progress.

The check (client.camera.identity_check) runs on its own thread; frames and progress come
back through queued signals. Only the newest frame is kept: if the UI is busy, frames
are dropped, never queued up behind each other.

Signals: ``verified(IdentityResult)``; ``failedTooOften(IdentityResult)`` once the
failures reach the configured count (or at once without a usable base photo), which also
shows the 请监考老师核验 button; ``proctorRequested()`` when it is pressed;
``evidenceCaptured(EvidencePhoto)`` after ``capture_evidence`` (proctor mode).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from client.camera.devices import CameraDevice, CameraSelection
from client.camera.identity_check import (
    CheckProgress,
    IdentityAttempts,
    IdentityCheckRunner,
    IdentityResult,
    Outcome,
    Stage,
)
from client.camera.settings import DEFAULT_SETTINGS, CameraSettings
from client.camera.sources import Frame, FrameSource
from client.i18n import _

if TYPE_CHECKING:
    from client.camera.analyzer import FaceAnalyzer
    from client.camera.watermark import WatermarkInfo

log = logging.getLogger(__name__)

_GUIDE_IDLE = QColor("#9e9e9e")
_GUIDE_GOOD = QColor("#2e7d32")
_GUIDE_ACTION = QColor("#1565c0")
_GUIDE_BAD = QColor("#b3261e")


def frame_to_qimage(frame: Frame) -> QImage:
    """A QImage that owns a copy of the BGR frame's pixels (safe to use on any thread)."""
    image = frame.image
    height, width = image.shape[:2]
    qimage = QImage(image.data, width, height, int(image.strides[0]), QImage.Format.Format_BGR888)
    return qimage.copy()


class CameraPreview(QWidget):
    """The mirrored live picture (as in a mirror, so that "left" means the candidate's
    left), an oval face guide and the detected face box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._face_box: tuple[float, float, float, float] | None = None
        self._guide_color = _GUIDE_IDLE
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:
        return QSize(640, 480)

    @property
    def has_image(self) -> bool:
        return self._image is not None

    def show_frame(self, image: QImage, face_box: tuple[float, float, float, float] | None) -> None:
        self._image = image
        self._face_box = face_box
        self.update()

    def set_guide_color(self, color: QColor) -> None:
        self._guide_color = color
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202020"))
        image = self._image
        if image is None or image.isNull():
            painter.setPen(QColor("#e0e0e0"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, _("正在打开摄像头…"))
            painter.end()
            return
        scale = min(self.width() / image.width(), self.height() / image.height())
        target = QRectF(0, 0, image.width() * scale, image.height() * scale)
        target.moveCenter(QPointF(self.width() / 2, self.height() / 2))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.save()
        # Mirror around the target's vertical centre line.
        painter.translate(target.center().x() * 2, 0)
        painter.scale(-1, 1)
        painter.drawImage(target, image)
        if self._face_box is not None:
            x, y, w, h = self._face_box
            painter.setPen(QPen(QColor(255, 255, 255, 140), 1))
            painter.drawRect(QRectF(target.x() + x * scale, target.y() + y * scale,
                                    w * scale, h * scale))
        painter.restore()
        guide = QRectF(0, 0, target.width() * 0.38, target.height() * 0.68)
        guide.moveCenter(target.center())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self._guide_color, 4, Qt.PenStyle.DashLine))
        painter.drawEllipse(guide)
        painter.end()


class CameraCheckPanel(QWidget):
    verified = Signal(object)          # IdentityResult
    failedTooOften = Signal(object)    # IdentityResult (the last one)
    proctorRequested = Signal()
    evidenceCaptured = Signal(object)  # client.camera.watermark.EvidencePhoto
    evidenceFailed = Signal(object)    # BaseException
    resultRecorded = Signal(object)    # every IdentityResult, for the attempt record
    deviceChanged = Signal(object)     # CameraDevice chosen by the candidate
    consoleRequested = Signal()        # ask the console again after a refusal

    # Worker thread -> UI thread.
    _frameReady = Signal()
    _progressed = Signal(object)
    _finished = Signal(object)
    _evidenceDone = Signal(object)

    def __init__(
        self,
        *,
        source_factory: Callable[[], FrameSource] | None = None,
        base_photo: bytes | None,
        selection: CameraSelection | None = None,
        settings: CameraSettings = DEFAULT_SETTINGS,
        analyzer_factory: Callable[[], FaceAnalyzer] | None = None,
        seed: int | None = None,
        start: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if source_factory is None and selection is None:
            raise ValueError("give a source_factory or a CameraSelection")
        self._selection = selection
        self._source_factory: Callable[[], FrameSource] = (
            source_factory if source_factory is not None
            else selection.open_source  # type: ignore[union-attr]
        )
        self._base_photo = base_photo
        self._settings = settings
        self._analyzer_factory = analyzer_factory
        self._seed = seed
        self._runner: IdentityCheckRunner | None = None
        self._evidence_thread: threading.Thread | None = None
        self.attempts = IdentityAttempts(max_failures=settings.max_failures_before_proctor)
        self._latest_lock = threading.Lock()
        self._latest: tuple[QImage, tuple[float, float, float, float] | None] | None = None
        self._frame_pending = False
        self._proctor_signalled = False
        self.last_progress: CheckProgress | None = None

        self._title = QLabel(_("人脸识别身份核验"))
        self._title.setObjectName("cameraTitle")
        self._hint = QLabel(_("请坐正，保持光线充足，画面中只有你一个人，按提示完成动作"))
        self._hint.setWordWrap(True)
        self.preview = CameraPreview()
        self.instruction = QLabel(_("正在准备…"))
        self.instruction.setObjectName("cameraInstruction")
        self.instruction.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.instruction.setWordWrap(True)
        font = self.instruction.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        self.instruction.setFont(font)
        self.progress_label = QLabel()
        self.progress_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setVisible(False)
        self.retry_button = QPushButton(_("重试"))
        self.retry_button.setVisible(False)
        self.retry_button.clicked.connect(self.start)
        self.proctor_button = QPushButton(_("请监考老师核验"))
        self.proctor_button.setVisible(False)
        self.proctor_button.clicked.connect(self.proctorRequested.emit)
        # Held after the failures: the console's decision (client/session/identity_hold.py).
        self.console_status = QLabel()
        self.console_status.setObjectName("consoleDecision")
        self.console_status.setWordWrap(True)
        self.console_status.setVisible(False)
        self.console_button = QPushButton(_("再次请监考老师在监控台核验"))
        self.console_button.setVisible(False)
        self.console_button.clicked.connect(self._ask_console_again)
        self.device_combo = QComboBox()
        self.device_combo.setVisible(False)
        self._fill_devices(selection.devices if selection is not None else ())

        buttons = QHBoxLayout()
        buttons.addWidget(self.device_combo)
        buttons.addStretch(1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.console_button)
        buttons.addWidget(self.proctor_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title)
        layout.addWidget(self._hint)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.instruction)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.details)
        layout.addWidget(self.console_status)
        layout.addLayout(buttons)

        self._frameReady.connect(self._show_latest_frame, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._evidenceDone.connect(self._on_evidence, Qt.ConnectionType.QueuedConnection)
        if not base_photo:
            self._hint.setText(
                _("系统中没有你的底照：请先完成活体检测，然后请监考老师核验身份证件")
            )
        if start:
            self.start()

    # ------------------------------------------------------------------ devices
    def _fill_devices(self, devices: Sequence[CameraDevice]) -> None:
        if len(devices) < 2 or self._selection is None:
            return
        current = self._selection.current
        for device in devices:
            self.device_combo.addItem(device.label, device)
            if device == current:
                self.device_combo.setCurrentIndex(self.device_combo.count() - 1)
        self.device_combo.setVisible(True)
        self.device_combo.currentIndexChanged.connect(self._on_device_chosen)

    def _on_device_chosen(self, index: int) -> None:
        device = self.device_combo.itemData(index)
        if not isinstance(device, CameraDevice) or self._selection is None:
            return
        self._selection.select(device)
        self.deviceChanged.emit(device)
        self.stop()
        self.start()

    # ------------------------------------------------------------------ control
    @property
    def running(self) -> bool:
        return self._runner is not None and self._runner.running

    def set_settings(self, settings: CameraSettings) -> None:
        """The exam's policy (signed package) arrived: used from the next attempt on."""
        self._settings = settings
        self.attempts.max_failures = settings.max_failures_before_proctor

    def start(self) -> None:
        """Start (or retry) a check; ignored while one is running and once the attempts
        are used up (then only the proctor path remains)."""
        if self.running or self.attempts.exhausted:
            return
        self.retry_button.setVisible(False)
        self.details.setVisible(False)
        self.preview.set_guide_color(_GUIDE_IDLE)
        self.instruction.setText(_("正在启动摄像头…"))
        self.progress_label.clear()
        self._runner = IdentityCheckRunner(
            source_factory=self._source_factory,
            base_photo=self._base_photo,
            on_done=self._finished.emit,
            on_progress=self._progressed.emit,
            on_frame=self._deliver_frame,
            settings=self._settings,
            analyzer_factory=self._analyzer_factory,
            seed=self._seed,
        )
        self._runner.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel a running check and wait for its thread (the camera is released)."""
        runner = self._runner
        if runner is not None:
            runner.cancel()
            if not runner.join(timeout):
                log.warning("identity check thread did not stop within %.1f s", timeout)
        thread = self._evidence_thread
        if thread is not None:
            thread.join(timeout)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        super().closeEvent(event)

    # ------------------------------------------------------------------ worker side
    def _deliver_frame(self, frame: Frame, progress: CheckProgress) -> None:
        image = frame_to_qimage(frame)
        with self._latest_lock:
            self._latest = (image, progress.face_box)
            if self._frame_pending:
                return
            self._frame_pending = True
        self._frameReady.emit()

    # ------------------------------------------------------------------ UI side
    def _show_latest_frame(self) -> None:
        with self._latest_lock:
            latest = self._latest
            self._frame_pending = False
        if latest is not None:
            self.preview.show_frame(*latest)

    def _show_progress(self, progress: CheckProgress) -> None:
        self.last_progress = progress
        self.instruction.setText(progress.instruction)
        if progress.stage is Stage.LIVENESS and progress.total:
            self.progress_label.setText(
                _("动作 {done}/{total}").format(done=progress.completed, total=progress.total)
            )
            color = _GUIDE_ACTION if progress.challenge is not None else _GUIDE_GOOD
        elif progress.stage is Stage.QUALITY:
            if progress.face_box is None:
                color = _GUIDE_IDLE
            else:
                color = _GUIDE_GOOD if progress.quality_ok else _GUIDE_BAD
        else:
            color = _GUIDE_GOOD if progress.stage is Stage.MATCHING else _GUIDE_IDLE
        self.preview.set_guide_color(color)

    def _on_finished(self, result: IdentityResult) -> None:
        result = self.attempts.record(result)
        self.resultRecorded.emit(result)
        self.instruction.setText(result.message)
        if result.passed:
            self.preview.set_guide_color(_GUIDE_GOOD)
            self.progress_label.setText(_("身份核验通过"))
            self.verified.emit(result)
            return
        if result.outcome is Outcome.CANCELLED:
            return
        self.preview.set_guide_color(_GUIDE_BAD)
        lines = list(result.instructions)
        if result.outcome in (Outcome.NO_BASE_PHOTO, Outcome.BASE_PHOTO_UNUSABLE):
            lines.append(_("请举手，由监考老师核验身份证件后入场"))
        else:
            remaining = self.attempts.max_failures - self.attempts.failures
            if remaining > 0:
                lines.append(_("还可以再试 {count} 次").format(count=remaining))
        self.details.setText("\n".join(f"• {line}" for line in lines))
        self.details.setVisible(bool(lines))
        # Retries are limited (issue 16: they were unlimited); then the proctor decides.
        self.retry_button.setVisible(not self.attempts.exhausted)
        if self.attempts.proctor_available:
            self.proctor_button.setVisible(True)
            if not self._proctor_signalled:
                self._proctor_signalled = True
                self.failedTooOften.emit(result)

    # ------------------------------------------------------------------ the console
    def show_console_waiting(self, text: str) -> None:
        """Held: the request is with the console; the candidate waits at the seat."""
        self._show_console(text, color="#1565c0")
        self.console_button.setVisible(False)

    def show_console_unavailable(self, text: str) -> None:
        """The console could not be asked: the proctor at this PC decides."""
        self._show_console(text, color="#b3261e")
        self.console_button.setVisible(True)

    def show_console_decision(self, text: str, *, approved: bool) -> None:
        self._show_console(text, color="#2e7d32" if approved else "#b3261e")
        self.console_button.setVisible(not approved)
        if approved:
            self.preview.set_guide_color(_GUIDE_GOOD)
            self.instruction.setText(_("监考老师已准予入场"))
            self.proctor_button.setVisible(False)

    def _show_console(self, text: str, *, color: str) -> None:
        self.console_status.setText(text)
        self.console_status.setStyleSheet(f"color: {color}; font-weight: bold;")
        self.console_status.setVisible(True)

    def _ask_console_again(self) -> None:
        self.console_button.setVisible(False)
        self.consoleRequested.emit()

    # ------------------------------------------------------------------ proctor mode
    def capture_evidence(self, info: WatermarkInfo, *, font_path: Path | None = None) -> None:
        """Take the watermarked evidence photo after the proctor approved entry. Emits
        evidenceCaptured or evidenceFailed; the caller stores the JPEG encrypted and
        queues it for upload."""
        from client.camera.evidence import capture_evidence_photo

        if self.running:
            self.stop()
        self.instruction.setText(_("正在拍摄核验照片，请正对摄像头…"))

        def work() -> None:
            try:
                photo = capture_evidence_photo(self._source_factory(), info, font_path=font_path)
            except Exception as exc:
                log.warning("evidence photo failed: %s", exc)
                self._evidenceDone.emit(exc)
                return
            self._evidenceDone.emit(photo)

        self._evidence_thread = threading.Thread(target=work, name="evidence-photo", daemon=True)
        self._evidence_thread.start()

    def _on_evidence(self, outcome: object) -> None:
        if isinstance(outcome, BaseException):
            self.instruction.setText(_("核验照片拍摄失败"))
            self.evidenceFailed.emit(outcome)
            return
        self.instruction.setText(_("核验照片已保存，等待上传"))
        self.evidenceCaptured.emit(outcome)
