"""The shipped model files: where they are and that they are the files we vetted.

They live in resources/models/ (provenance in resources/models/PROVENANCE.md) and are
never downloaded. Each file is read into memory and checked against its SHA-256 before a
model is built from the bytes: building from a buffer also avoids OpenCV's and
MediaPipe's trouble with non-ASCII paths on Windows (a portable copy on a desktop
whose user name is Chinese).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from client.camera.errors import CameraError
from client.i18n import _
from client.resources import resource_path

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
LANDMARKER_FILE = "face_landmarker.task"
PAD_V2_FILE = "MiniFASNetV2-2.7_80x80.onnx"
PAD_V1SE_FILE = "MiniFASNetV1SE-4.0_80x80.onnx"

EXPECTED_SHA256: dict[str, str] = {
    YUNET_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    SFACE_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    LANDMARKER_FILE: "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
    PAD_V2_FILE: "7bc75a21a6930e9ee803b886d06def532ac5cb8ceb98cc9e0f1af62022b63760",
    PAD_V1SE_FILE: "9a0d524b2bc900d136ed8a3e27a72f40dc6c0fcbc72b3ddf474571c779327e5f",
}


@dataclass(frozen=True)
class ModelBytes:
    """The model files, verified, in memory (about 18 MB)."""

    yunet: bytes
    sface: bytes
    landmarker: bytes
    pad_v2: bytes
    pad_v1se: bytes


def models_dir() -> Path:
    return resource_path("models")


def read_verified(path: Path, *, expected_sha256: str) -> bytes:
    """Return the file's bytes, or raise CameraError if it is missing or not the vetted file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CameraError(
            "camera.model_missing",
            _("人脸识别模型文件缺失，请重新安装考试客户端"),
            path=str(path),
            error=str(exc),
        ) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise CameraError(
            "camera.model_corrupt",
            _("人脸识别模型文件已损坏，请重新安装考试客户端"),
            path=str(path),
            sha256=actual,
            expected=expected_sha256,
        )
    return data


def load_model_bytes(directory: Path | None = None) -> ModelBytes:
    """Read and verify the models (about 25 ms).

    Not cached: the models copy what they need, so the 14 MB of file bytes are garbage
    as soon as an analyzer is built and do not stay in memory for the whole exam.
    """
    folder = directory if directory is not None else models_dir()
    files = {
        name: read_verified(folder / name, expected_sha256=digest)
        for name, digest in EXPECTED_SHA256.items()
    }
    return ModelBytes(
        yunet=files[YUNET_FILE], sface=files[SFACE_FILE], landmarker=files[LANDMARKER_FILE],
        pad_v2=files[PAD_V2_FILE], pad_v1se=files[PAD_V1SE_FILE],
    )
