"""Per-frame face analysis: YuNet boxes, MediaPipe landmarks -> signals, SFace embeddings.

This is the only module that runs the models. It holds native objects that are not
thread-safe: create one FaceAnalyzer per thread that uses it. Everything it returns is
plain data that the pure modules (quality, liveness, match, proctor_monitor) decide on.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from client.camera.diagnose import scene_detail
from client.camera.models import ModelBytes, load_model_bytes
from client.camera.pad import PassiveAntiSpoof
from client.camera.settings import DEFAULT_SETTINGS, CameraSettings
from client.camera.signals import FaceSignals, face_signals

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]          # BGR, HxWx3
Embedding = npt.NDArray[np.float32]    # L2-normalised SFace feature, shape (128,)

_SHARPNESS_SIZE = (112, 112)


@dataclass(frozen=True)
class DetectedFace:
    x: float
    y: float
    width: float
    height: float
    score: float
    # YuNet's row (box, 5 landmarks, score): what FaceRecognizerSF.alignCrop expects.
    raw: tuple[float, ...]

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2.0, self.y + self.height / 2.0

    @property
    def frontal_yaw(self) -> float:
        """Nose position between the eyes from YuNet's 5 points (same sign as signals.yaw)."""
        right_eye_x, left_eye_x, nose_x = self.raw[4], self.raw[6], self.raw[8]
        span = left_eye_x - right_eye_x
        if abs(span) < 1e-6:
            return 0.0
        return (nose_x - right_eye_x) / span - 0.5


@dataclass(frozen=True)
class FrameAnalysis:
    width: int
    height: int
    faces: tuple[DetectedFace, ...]         # largest first
    brightness: float                       # whole-frame mean grey, 0-255
    contrast: float                         # whole-frame grey std
    face_brightness: float | None           # of the largest face
    background_brightness: float | None     # everything outside the largest face box
    sharpness: float | None                 # normalised Laplacian variance of that face
    signals: FaceSignals | None             # landmarks of the (single) tracked face
    motion: float | None                    # mean |grey diff| to the previous frame
    directional_sharpness: float | None = None   # weaker direction (motion blur)
    detail: float | None = None             # diagnose.scene_detail: covered vs dark

    @property
    def face(self) -> DetectedFace | None:
        return self.faces[0] if self.faces else None


def to_gray(image: Image) -> Image:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)  # type: ignore[return-value]


def face_sharpness(gray: Image, face: DetectedFace) -> float:
    """Laplacian variance of the face at a fixed size, divided by its contrast.

    Dividing by the grey variance makes the measure independent of brightness: a dark
    but sharp face is not "blurred" (that is the light check's job).
    """
    roi = _crop(gray, face)
    if roi.size == 0:
        return 0.0
    small = cv2.resize(roi, _SHARPNESS_SIZE, interpolation=cv2.INTER_AREA)
    variance = float(small.var())
    if variance < 1.0:
        return 0.0
    return 1000.0 * float(cv2.Laplacian(small, cv2.CV_64F).var()) / variance


def directional_sharpness(gray: Image, face: DetectedFace) -> float:
    """The weaker direction's fine detail: min over x and y of the second-derivative
    variance of the 112x112 face, divided by its grey variance (x100).

    Motion blur removes detail along one direction only, which an isotropic measure
    averages away: 15 px of horizontal blur still scored 36-39 on the Laplacian measure
    (gate 18) but scores 4-8 here; a sharp face scores ~44, Gaussian blur sigma 1.5: 15.
    """
    roi = _crop(gray, face)
    if roi.size == 0:
        return 0.0
    small = cv2.resize(roi, _SHARPNESS_SIZE, interpolation=cv2.INTER_AREA).astype(np.float64)
    variance = float(small.var())
    if variance < 1.0:
        return 0.0
    dxx = float(cv2.Sobel(small, cv2.CV_64F, 2, 0, ksize=3).var())
    dyy = float(cv2.Sobel(small, cv2.CV_64F, 0, 2, ksize=3).var())
    return 100.0 * min(dxx, dyy) / variance


def _crop(image: Image, face: DetectedFace) -> Image:
    height, width = image.shape[:2]
    x0, y0 = max(int(face.x), 0), max(int(face.y), 0)
    x1, y1 = min(int(face.x + face.width), width), min(int(face.y + face.height), height)
    return image[y0:y1, x0:x1]


class FaceAnalyzer:
    """Runs the models on frames. Not thread-safe: one instance per worker thread."""

    def __init__(
        self,
        *,
        settings: CameraSettings = DEFAULT_SETTINGS,
        models: ModelBytes | None = None,
        landmarks: bool = True,
        video_mode: bool = True,
    ) -> None:
        self._settings = settings
        model_bytes = models if models is not None else load_model_bytes()
        empty = np.empty(0, np.uint8)
        self._detector = cv2.FaceDetectorYN.create(
            "onnx",
            np.frombuffer(model_bytes.yunet, np.uint8),
            empty,
            (320, 320),
            settings.detection_score,
            0.3,
            5000,
        )
        self._input_size = (320, 320)
        # Order matters for the peak memory: building SFace from ONNX needs ~125 MB for a
        # moment (settling at ~60 MB, +40 MB after its first run); done first, that
        # transient does not stack on MediaPipe (~75 MB) and the frames of a check.
        self._recognizer: Any = cv2.FaceRecognizerSF.create(
            "onnx", np.frombuffer(model_bytes.sface, np.uint8), empty
        )
        self._recognizer.feature(np.zeros((112, 112, 3), np.uint8))
        self._video_mode = video_mode
        self._landmarker: Any = (
            _create_landmarker(model_bytes.landmarker, video_mode=video_mode)
            if landmarks
            else None
        )
        self._pad: PassiveAntiSpoof | None = (
            PassiveAntiSpoof(model_bytes.pad_v2, model_bytes.pad_v1se) if landmarks else None
        )
        self._last_timestamp_ms = -1
        self._timestamp_offset_ms = 0
        self._previous_gray: Image | None = None

    # -- detection --------------------------------------------------------------------
    def detect(self, image: Image, *, full_resolution: bool = False) -> tuple[DetectedFace, ...]:
        """YuNet faces, in *image* coordinates, largest first.

        Frames wider than ``detection_max_width`` are searched at that width: a third
        of the cost at 640x480, and a face the quality gate accepts (>= 20 % of the
        width) is still ~64 px there, far above YuNet's ~10 px minimum.
        """
        height, width = image.shape[:2]
        scale = 1.0
        searched = _bgr(image)
        limit = 0 if full_resolution else self._settings.detection_max_width
        if limit > 0 and width > limit:
            scale = limit / width
            size = (limit, max(1, round(height * scale)))
            searched = cv2.resize(  # type: ignore[assignment]
                searched, size, interpolation=cv2.INTER_AREA
            )
        search_size = (searched.shape[1], searched.shape[0])
        if search_size != self._input_size:
            self._detector.setInputSize(search_size)
            self._input_size = search_size
        _, found = self._detector.detect(searched)
        if found is None:
            return ()
        rows: npt.NDArray[np.float32] = np.array(found, dtype=np.float32)
        rows[:, :14] = rows[:, :14] / scale
        faces = [
            DetectedFace(
                x=float(row[0]),
                y=float(row[1]),
                width=float(row[2]),
                height=float(row[3]),
                score=float(row[14]),
                raw=tuple(float(value) for value in row),
            )
            for row in rows
        ]
        faces.sort(key=lambda face: face.width * face.height, reverse=True)
        return tuple(faces)

    def landmarks(self, image: Image, *, t_ms: int) -> npt.NDArray[np.float64] | None:
        """The 478 landmarks (pixels: x, y and depth z) of the most prominent face, or None."""
        found = self.face_landmarks(image, t_ms=t_ms)
        return None if found is None else found[0]

    def face_landmarks(
        self, image: Image, *, t_ms: int
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], dict[str, float]] | None:
        """Landmarks (478x3 pixels), the facial transformation matrix and the blendshapes."""
        if self._landmarker is None:
            return None
        from client.camera.mediapipe_api import landmarker_api

        mp_image_lib = landmarker_api().image
        rgb = np.ascontiguousarray(cv2.cvtColor(_bgr(image), cv2.COLOR_BGR2RGB))
        mp_image = mp_image_lib.Image(image_format=mp_image_lib.ImageFormat.SRGB, data=rgb)
        if self._video_mode:
            # VIDEO mode needs strictly increasing timestamps, also across sources; an
            # offset (not a clamp) keeps the real spacing, which its smoothing filter uses.
            timestamp = int(t_ms) + self._timestamp_offset_ms
            if timestamp <= self._last_timestamp_ms:
                self._timestamp_offset_ms += self._last_timestamp_ms + 1000 - timestamp
                timestamp = int(t_ms) + self._timestamp_offset_ms
            self._last_timestamp_ms = timestamp
            result = self._landmarker.detect_for_video(mp_image, timestamp)
        else:
            result = self._landmarker.detect(mp_image)
        if not result.face_landmarks:
            return None
        height, width = image.shape[:2]
        points = np.array(
            [(p.x * width, p.y * height, p.z * width) for p in result.face_landmarks[0]],
            dtype=np.float64,
        )
        matrix = (
            np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64)
            if result.facial_transformation_matrixes
            else np.eye(4)
        )
        blendshapes = (
            {c.category_name: float(c.score) for c in result.face_blendshapes[0]}
            if result.face_blendshapes
            else {}
        )
        return points, matrix, blendshapes

    def spoof_score(self, image: Image, face: DetectedFace) -> float | None:
        """MiniFASNet's probability that *face* is a live face (None without the models)."""
        if self._pad is None:
            return None
        return self._pad.real_probability(_bgr(image), (face.x, face.y, face.width, face.height))

    # -- whole-frame analysis ---------------------------------------------------------
    def analyze(self, image: Image, *, t_ms: int, with_landmarks: bool = True,
                full_resolution: bool = False) -> FrameAnalysis:
        """*full_resolution*: search faces in the whole frame (proctoring: small faces of
        a camera on the monitor; the check's quality gate wants large faces anyway)."""
        gray = to_gray(image)
        height, width = gray.shape[:2]
        faces = self.detect(image, full_resolution=full_resolution)
        # Full-resolution difference: sensor noise alone keeps it above ~1 grey level on
        # a live camera, a frozen (repeated) frame gives exactly 0.
        motion = None
        previous = self._previous_gray
        if previous is not None and previous.shape == gray.shape:
            motion = float(cv2.absdiff(gray, previous).mean())
        self._previous_gray = gray

        face_brightness = background_brightness = sharpness = directional = None
        if faces:
            roi = _crop(gray, faces[0])
            if roi.size:
                face_sum = float(roi.sum(dtype=np.float64))
                face_brightness = face_sum / roi.size
                rest = gray.size - roi.size
                if rest > 0:
                    background_brightness = (float(gray.sum(dtype=np.float64)) - face_sum) / rest
                sharpness = face_sharpness(gray, faces[0])
                directional = directional_sharpness(gray, faces[0])

        signals = None
        if with_landmarks and faces:
            found = self.face_landmarks(image, t_ms=t_ms)
            if found is not None:
                points, matrix, blendshapes = found
                signals = face_signals(points, matrix=matrix, blendshapes=blendshapes)
        mean, std = cv2.meanStdDev(gray)
        return FrameAnalysis(
            width=width,
            height=height,
            faces=faces,
            brightness=float(mean[0][0]),
            contrast=float(std[0][0]),
            face_brightness=face_brightness,
            background_brightness=background_brightness,
            sharpness=sharpness,
            signals=signals,
            motion=motion,
            directional_sharpness=directional,
            detail=scene_detail(gray),
        )

    def reset_motion(self) -> None:
        """Forget the previous frame (a new source or a pause in between)."""
        self._previous_gray = None

    # -- recognition ------------------------------------------------------------------
    def embed(self, image: Image, face: DetectedFace) -> Embedding:
        """SFace feature of *face*, L2-normalised so that a dot product is the cosine."""
        if self._recognizer is None:
            raise RuntimeError("FaceAnalyzer used after close()")
        aligned = self._recognizer.alignCrop(_bgr(image), np.array(face.raw, np.float32))
        feature = np.asarray(self._recognizer.feature(aligned), dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(feature))
        if norm <= 0.0:
            return feature
        return (feature / norm).astype(np.float32)

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
        self._recognizer = None
        self._pad = None

    def __enter__(self) -> FaceAnalyzer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _bgr(image: Image) -> Image:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)  # type: ignore[return-value]
    return image


def _create_landmarker(model: bytes, *, video_mode: bool) -> Any:
    # MediaPipe's C++ logging would otherwise print INFO lines on every start.
    os.environ.setdefault("GLOG_minloglevel", "2")
    from client.camera.mediapipe_api import landmarker_api

    api = landmarker_api()
    modes = api.running_mode.VisionTaskRunningMode
    options = api.face_landmarker.FaceLandmarkerOptions(
        base_options=api.base_options.BaseOptions(model_asset_buffer=model),
        running_mode=modes.VIDEO if video_mode else modes.IMAGE,
        num_faces=1,
        # The head pose (facial transformation matrix) and the eyeBlink / jawOpen scores
        # are what the 3D liveness rules use; together they cost ~5 % of the frame time.
        output_face_blendshapes=True,
        output_facial_transformation_matrixes=True,
        min_face_detection_confidence=0.5,
        min_face_presence_confidence=0.5,
        min_tracking_confidence=0.5,
    )
    return api.face_landmarker.FaceLandmarker.create_from_options(options)


def decode_image(data: bytes) -> Image | None:
    """Decode JPEG/PNG bytes into a BGR image (None if the bytes are not an image)."""
    buffer = np.frombuffer(data, np.uint8)
    if buffer.size == 0:
        return None
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    return image  # type: ignore[return-value]


def encode_jpeg(image: Image, *, quality: int = 85, max_width: int | None = None) -> bytes:
    """JPEG bytes of *image*, optionally scaled down to *max_width* (never written to disk)."""
    if max_width is not None and image.shape[1] > max_width:
        scale = max_width / image.shape[1]
        size = (max_width, max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)  # type: ignore[assignment]
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buffer.tobytes())
