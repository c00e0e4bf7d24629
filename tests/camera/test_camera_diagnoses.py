"""Dark vs black vs covered, and the motion-blur gate (issue 16), on real frames and models."""

from __future__ import annotations

import random

import camera_sequences as cs
import cv2
import numpy as np
import pytest

from client.camera import diagnose
from client.camera.analyzer import FaceAnalyzer
from client.camera.diagnose import FrameState
from client.camera.identity_check import Outcome, run_identity_check
from client.camera.quality import QualityIssue, assess
from client.camera.settings import CameraSettings
from client.camera.sources import MemorySequenceSource

SETTINGS = CameraSettings()


def state(image: np.ndarray) -> FrameState:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return diagnose.frame_state(
        brightness=float(gray.mean()), contrast=float(gray.std()),
        detail=diagnose.scene_detail(gray),
        black_max_brightness=SETTINGS.black_max_brightness,
        black_max_contrast=SETTINGS.black_max_contrast,
        covered_max_detail=SETTINGS.covered_max_detail,
        dark_brightness=SETTINGS.min_face_brightness * 0.8)


def test_each_picture_gets_its_own_diagnosis(frame: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    assert state(np.zeros_like(frame)) is FrameState.BLACK
    assert state(cs.covered(rng)) is FrameState.BLACK             # a privacy slider
    assert state(cs.finger_over_lens(rng)) is FrameState.COVERED
    # Before: a very dark room (mean 5-12) was "all black" with lens-cover advice.
    for level in (0.04, 0.08, 0.15):
        assert state(cs.dark_room(frame, rng, level)) is FrameState.DARK, level
    assert state(cs.sensor_noise(frame, 1)) is FrameState.OK


def check(analyzer: FaceAnalyzer, frames: list[np.ndarray], **settings: float):
    return run_identity_check(source=MemorySequenceSource(frames), analyzer=analyzer,
                              base_photo=None, settings=CameraSettings(**settings),
                              rng=random.Random(0))


def test_a_finger_on_the_lens_is_diagnosed_within_seconds(analyzer: FaceAnalyzer) -> None:
    rng = np.random.default_rng(4)
    result = check(analyzer, [cs.finger_over_lens(rng) for _ in range(80)])
    # Before: "请正对摄像头" until the 30 s quality timeout.
    assert result.outcome is Outcome.CAMERA_ERROR and result.reason == "camera.covered"
    assert result.candidate_time_s <= 2.5
    assert any("手指" in step for step in result.instructions)


def test_a_dark_room_asks_for_light_not_for_a_lens_cover(
        analyzer: FaceAnalyzer, frame: np.ndarray) -> None:
    rng = np.random.default_rng(5)
    result = check(analyzer, [cs.dark_room(frame, rng, 0.05) for _ in range(60)],
                   quality_timeout_s=1.5)
    assert result.outcome is Outcome.QUALITY_TIMEOUT
    assert result.reason == "quality.too_dark"


@pytest.mark.parametrize("vertical", [False, True])
def test_motion_blur_fails_the_gate(image_analyzer: FaceAnalyzer, frame: np.ndarray,
                                    vertical: bool) -> None:
    blurred = cs.sensor_noise(cs.motion_blurred(frame, 15, vertical=vertical), 1)
    analysis = image_analyzer.analyze(blurred, t_ms=0, with_landmarks=False)
    # Before: 15 px of motion blur scored 28-39 against the isotropic gate of 18.
    assert analysis.sharpness is not None and analysis.sharpness > SETTINGS.min_sharpness
    assert assess(analysis, SETTINGS).issue is QualityIssue.BLURRY


def test_ordinary_webcam_softness_passes(image_analyzer: FaceAnalyzer, frame: np.ndarray) -> None:
    for image in (cs.blurred(frame, 1.0), cs.sensor_noise(cs.darkened(frame, 0.5), 2),
                  cs.motion_blurred(frame, 3)):
        analysis = image_analyzer.analyze(image, t_ms=0, with_landmarks=False)
        assert assess(analysis, SETTINGS).ok
