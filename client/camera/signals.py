"""Liveness signals of one face from MediaPipe FaceLandmarker's outputs.

- head pose (yaw, pitch, roll in degrees) from the facial transformation matrix. Yaw and
  pitch are read from the direction the face points (the model's forward axis), so they
  do not change when the face rotates in the image plane: a printed photo turned in its
  own plane changes roll only. Positive yaw: the person turned to THEIR left in an
  unmirrored frame; positive pitch: looking down.
- eye aspect ratio (EAR, eyelid gap over eye width) and the eyeBlink blendshapes;
- mouth ratio (inner-lip gap over mouth width) and the jawOpen blendshape;
- ``shape``: landmarks of the rigid part of the face (nose, forehead, outline, eye
  corners; no eyelids, no lips), for the geometry tests in client.camera.geometry, and
  ``shape_depth``: the landmarker's depth of the same points (its 3D face model fitted
  to the picture), so a later frame can be compared with this one turned in 3D.
- ``span_ratio``: outer eye-corner distance over the distance from the eyes to the
  mouth corners. A head turning by yaw narrows it by about cos(yaw); a sheet turned
  about its vertical axis narrows it by cos(sheet turn) while the landmarker reads only
  a fraction of that turn as yaw (client.camera.liveness, the flat-picture rule).

solvePnP with a generic head model was tried earlier and rejected (unstable on profile
faces, see /work/shared/notes/camera.md); the landmarker's own matrix is used instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

# Landmark indices of the MediaPipe face mesh (p1..p6 order for the EAR formula).
RIGHT_EYE = (33, 160, 158, 133, 153, 144)   # the person's right eye (image left)
LEFT_EYE = (362, 385, 387, 263, 373, 380)   # the person's left eye (image right)
UPPER_LIP, LOWER_LIP, MOUTH_RIGHT, MOUTH_LEFT = 13, 14, 78, 308
MOUTH_RIGHT_CORNER, MOUTH_LEFT_CORNER = 61, 291   # outer corners: they barely move
NOSE_TIP = 1
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
# Points that do not move when the eyes or the mouth do: the nose (nearest the camera),
# the eye corners, the forehead and the face outline (farthest). A rigid head turning
# moves them relative to each other (parallax); a flat sheet moves them by a homography.
RIGID_POINTS = (
    1, 4, 6, 168, 197, 195, 5,                     # nose bridge to tip
    33, 133, 362, 263,                             # eye corners
    10, 109, 338, 67, 297, 21, 251,                # forehead
    234, 454, 127, 356, 93, 323, 132, 361,         # outline, temples to jaw
    58, 288, 172, 397, 150, 379, 152,              # jaw and chin
)


@dataclass(frozen=True)
class FaceSignals:
    ear: float            # mean of both eyes
    mouth: float
    yaw: float            # degrees, roll removed
    eye_span: float       # outer eye corner distance in pixels (scale of the face)
    pitch: float = 0.0    # degrees
    roll: float = 0.0     # degrees, in-plane rotation
    blink: float = 0.0    # mean eyeBlink blendshape, 0 open .. 1 closed
    jaw: float = 0.0      # jawOpen blendshape
    # Eye span over eyes-to-mouth height (see the module docstring); 0.0 when unknown.
    span_ratio: float = 0.0
    # (len(RIGID_POINTS), 2) pixel coordinates, or () when not available.
    shape: tuple[tuple[float, float], ...] = field(default=(), repr=False, compare=False)
    # Depth (z, in the x pixel scale) of the same points, or () when not available.
    shape_depth: tuple[float, ...] = field(default=(), repr=False, compare=False)


def _distance(points: npt.NDArray[np.float64], a: int, b: int) -> float:
    return float(np.linalg.norm(points[a, :2] - points[b, :2]))


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


def span_ratio(points: npt.NDArray[np.float64]) -> float:
    """Outer eye-corner distance over the eye-line-to-mouth distance (0.0 if degenerate)."""
    eyes = (points[RIGHT_EYE_OUTER, :2] + points[LEFT_EYE_OUTER, :2]) / 2.0
    mouth = (points[MOUTH_RIGHT_CORNER, :2] + points[MOUTH_LEFT_CORNER, :2]) / 2.0
    height = float(np.linalg.norm(eyes - mouth))
    if height <= 1e-6:
        return 0.0
    return _distance(points, RIGHT_EYE_OUTER, LEFT_EYE_OUTER) / height


def head_pose(
    matrix: npt.NDArray[np.float64] | Sequence[Sequence[float]],
) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from FaceLandmarker's 4x4 facial transformation.

    Yaw and pitch come from the forward axis alone (third column of the rotation): a
    rotation about that axis (roll, a sheet turned in its plane) leaves them unchanged.
    """
    rot = np.asarray(matrix, dtype=np.float64)[:3, :3]
    forward = rot[:, 2]
    yaw = math.degrees(math.atan2(forward[0], forward[2]))
    pitch = math.degrees(math.atan2(-forward[1], math.hypot(forward[0], forward[2])))
    right = rot[:, 0]
    roll = math.degrees(math.atan2(right[1], right[0]))
    return yaw, pitch, roll


def face_signals(
    points: npt.NDArray[np.float64],
    *,
    matrix: npt.NDArray[np.float64] | None = None,
    blendshapes: Mapping[str, float] | None = None,
) -> FaceSignals:
    """Signals of one face; *points* is an (N >= 468, 2 or 3) array of pixel coordinates."""
    if points.ndim != 2 or points.shape[0] <= max(RIGID_POINTS) or points.shape[1] < 2:
        raise ValueError(f"expected (478, 2|3) landmark array, got {points.shape}")
    ear = (eye_aspect_ratio(points, RIGHT_EYE) + eye_aspect_ratio(points, LEFT_EYE)) / 2.0
    yaw = pitch = roll = 0.0
    if matrix is not None:
        yaw, pitch, roll = head_pose(matrix)
    scores = blendshapes or {}
    blink = (scores.get("eyeBlinkLeft", 0.0) + scores.get("eyeBlinkRight", 0.0)) / 2.0
    shape = tuple((float(points[i, 0]), float(points[i, 1])) for i in RIGID_POINTS)
    shape_depth = (
        tuple(float(points[i, 2]) for i in RIGID_POINTS) if points.shape[1] >= 3 else ()
    )
    return FaceSignals(
        ear=ear,
        mouth=mouth_ratio(points),
        yaw=yaw,
        eye_span=_distance(points, RIGHT_EYE_OUTER, LEFT_EYE_OUTER),
        pitch=pitch,
        roll=roll,
        blink=blink,
        jaw=scores.get("jawOpen", 0.0),
        span_ratio=span_ratio(points),
        shape=shape,
        shape_depth=shape_depth,
    )
