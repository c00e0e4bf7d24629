"""Camera check: the camera the exam would open is there and delivers real frames.

The camera stack (client.camera, OpenCV) is imported only when the check runs. The
diagnosis of a camera that fails (privacy setting, antivirus, another program holding it,
black frames, a virtual camera) is client.camera's; this module reports it as one line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.errors import UserFacingError
from client.i18n import _
from client.readiness.result import CheckResult, Status

CAPTURE_SECONDS = 4.0  # a camera takes a second to start; black needs 2 s
ENOUGH_FRAMES = 15


@dataclass(frozen=True)
class CameraFacts:
    enabled: bool
    device: str = ""                 # what was opened (camera name, or the file)
    devices: tuple[str, ...] = ()    # every camera found
    frames: int = 0
    width: int = 0
    height: int = 0
    seconds: float = 0.0
    error_code: str | None = None
    error_message: str | None = None
    error_detail: dict[str, Any] = field(default_factory=dict)


def _matching_device(devices: list[Any], wanted: str) -> Any:
    """[camera] device: a camera index ("1") or (part of) its name."""
    for device in devices:
        if wanted.isdigit() and device.index == int(wanted):
            return device
        if wanted.casefold() in device.name.casefold():
            return device
    return None


def camera_facts(*, enabled: bool, device: str, source: Path | None,
                 data_dir: Path) -> CameraFacts:
    """Open the camera (or the configured file) and read frames for up to 4 seconds."""
    if not enabled:
        return CameraFacts(enabled=False)
    import numpy as np

    from client.camera import diagnose
    from client.camera.devices import CameraSelection, DeviceChoiceStore, enumerate_devices
    from client.camera.settings import DEFAULT_SETTINGS
    from client.camera.sources import FileSequenceSource, FrameSource

    found: list[Any] = []
    label = ""
    try:
        stream: FrameSource
        if source is not None:
            stream, label = FileSequenceSource(source), str(source)
        else:
            found = enumerate_devices()
            selection = CameraSelection(found, store=DeviceChoiceStore(data_dir),
                                        width=DEFAULT_SETTINGS.capture_width,
                                        height=DEFAULT_SETTINGS.capture_height)
            if device:
                selection.current = _matching_device(found, device) or selection.current
            label = selection.current.label if selection.current is not None else ""
            stream = selection.open_source()
        health = diagnose.FrameHealth(
            window_ms=int(DEFAULT_SETTINGS.black_window_s * 1000),
            max_brightness=DEFAULT_SETTINGS.black_max_brightness,
            max_contrast=DEFAULT_SETTINGS.black_max_contrast)
        started = time.monotonic()
        frames, width, height, picture = 0, 0, 0, False
        stream.open()
        try:
            # Stop once real pictures came in; while everything is black keep reading until
            # FrameHealth has seen enough of it to call it a black camera.
            while not (picture and frames >= ENOUGH_FRAMES) and (
                    time.monotonic() - started < CAPTURE_SECONDS):
                frame = stream.read()
                if frame is None:
                    break
                frames += 1
                height, width = frame.image.shape[:2]
                grey = frame.image.mean(axis=2) if frame.image.ndim == 3 else frame.image
                brightness, contrast = float(np.mean(grey)), float(np.std(grey))
                if health.feed(t_ms=frame.t_ms, brightness=brightness, contrast=contrast):
                    raise diagnose.black_frames(name=label)
                picture = picture or not diagnose.FrameHealth.is_black(
                    brightness, contrast, max_brightness=DEFAULT_SETTINGS.black_max_brightness,
                    max_contrast=DEFAULT_SETTINGS.black_max_contrast)
        finally:
            stream.close()
        if frames == 0:
            raise diagnose.no_frames(consent=diagnose.read_consent_state(), name=label)
    except UserFacingError as exc:
        return CameraFacts(enabled=True, device=label, devices=tuple(d.label for d in found),
                           error_code=exc.code, error_message=exc.message,
                           error_detail=dict(exc.detail))
    return CameraFacts(enabled=True, device=label, devices=tuple(d.label for d in found),
                       frames=frames, width=width, height=height,
                       seconds=time.monotonic() - started)


def evaluate_camera(facts: CameraFacts) -> CheckResult:
    detail: dict[str, object] = {"device": facts.device, "devices": list(facts.devices),
                                 "frames": facts.frames, "width": facts.width,
                                 "height": facts.height, "error_code": facts.error_code,
                                 "error_detail": facts.error_detail}
    if not facts.enabled:
        # Without the check nobody verifies who sits the exam: a problem, not a pass (the
        # server also holds every result the client reports with the check off).
        return CheckResult("camera", Status.FAIL, _(
            "全机配置中关闭了人脸识别身份核验（[camera] enabled = false）：考试时将无法核验"
            "考生身份，成绩会被标记为待审核。请考点管理员重新开启"), detail)
    if facts.error_code is not None:
        steps = facts.error_detail.get("instructions")
        text = facts.error_message or facts.error_code
        if isinstance(steps, list) and steps:
            text = f"{text}：{'；'.join(str(s) for s in steps)}"
        return CheckResult("camera", Status.FAIL, text, detail)
    return CheckResult("camera", Status.PASS, _(
        "摄像头 {device} 有画面（{width}×{height}，{frames} 帧）").format(
            device=facts.device or "?", width=facts.width, height=facts.height,
            frames=facts.frames), detail)


def check_camera(*, enabled: bool, device: str, source: Path | None,
                 data_dir: Path) -> CheckResult:
    return evaluate_camera(camera_facts(enabled=enabled, device=device, source=source,
                                        data_dir=data_dir))
