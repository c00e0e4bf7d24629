"""Liveness signals computed from MediaPipe's 478 face landmarks (pixel coordinates).

- eye aspect ratio (EAR): eyelid gap over eye width, ~0.3 open, drops on a blink;
- mouth ratio: inner-lip gap over mouth width, grows when the mouth opens;
- yaw: where the nose tip sits between the outer eye corners, minus 0.5. Positive means
  the nose moved towards landmark 263 (the person's left eye), i.e. the person turned to
  THEIR left in an unmirrored camera frame. A flat photo turned in the hand keeps this
  ratio (an affine squeeze does not move the nose between the eyes), a real head does not.

solvePnP with a generic head model was tried and rejected (unstable on profile faces,
see /work/shared/notes/camera.md); these ratios need no 3D model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Landmark indices of the MediaPipe face mesh (p1..p6 order for the EAR formula).
RIGHT_EYE = (33, 160, 158, 133, 153, 144)   # the person's right eye (image left)
LEFT_EYE = (362, 385, 387, 263, 373, 380)   # the person's left eye (image right)
UPPER_LIP, LOWER_LIP, MOUTH_RIGHT, MOUTH_LEFT = 13, 14, 78, 308
NOSE_TIP = 1
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263


@dataclass(frozen=True)
class FaceSignals:
    ear: float            # mean of both eyes
    mouth: float
    yaw: float
    eye_span: float       # outer eye corner distance in pixels (scale of the face)


def _distance(points: npt.NDArray[np.float64], a: int, b: int) -> float:
    return float(np.linalg.norm(points[a] - points[b]))


def eye_aspect_ratio(points: npt.NDArray[np.float64], eye: tuple[int, ...]) -> float:
    p1, p2, p3, p4, p5, p6 = eye
    width = _distance(points, p1, p4)
    if width <= 1e-6:
        return 0.0
    return (_distance(points, p2, p6) + _distance(points, p3, p5)) / (2.0 * width)


def mouth_ratio(points: npt.NDArray[np.float64]) -> float:
    width = _distance(points, MOUTH_RIGHT, MOUTH_LEFT)
    if width <= 1e-6:
        return 0.0
    return _distance(points, UPPER_LIP, LOWER_LIP) / width


def nose_yaw(points: npt.NDArray[np.float64]) -> float:
    span = points[LEFT_EYE_OUTER][0] - points[RIGHT_EYE_OUTER][0]
    if abs(span) <= 1e-6:
        return 0.0
    return float((points[NOSE_TIP][0] - points[RIGHT_EYE_OUTER][0]) / span - 0.5)


def face_signals(points: npt.NDArray[np.float64]) -> FaceSignals:
    """Signals of one face; *points* is an (N >= 388, 2) array of pixel coordinates."""
    if points.ndim != 2 or points.shape[0] <= max(LEFT_EYE) or points.shape[1] < 2:
        raise ValueError(f"expected (478, 2) landmark array, got {points.shape}")
    ear = (eye_aspect_ratio(points, RIGHT_EYE) + eye_aspect_ratio(points, LEFT_EYE)) / 2.0
    return FaceSignals(
        ear=ear,
        mouth=mouth_ratio(points),
        yaw=nose_yaw(points),
        eye_span=_distance(points, RIGHT_EYE_OUTER, LEFT_EYE_OUTER),
    )
