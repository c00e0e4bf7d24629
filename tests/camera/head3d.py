"""A still face turned into a 3D head: the photo's own 3D landmarks drive a mesh warp.

MediaPipe's landmarks carry a depth (z) per point. Rotating those points about a vertical
(yaw) or horizontal (pitch) axis through the middle of the head and projecting them back
gives where every landmark of the photo would be if the head turned; a piecewise-linear
warp between the two point sets (Delaunay triangulation, computed on a coarse grid and
scaled up) moves the pixels with them. The nose then moves against the face outline
(parallax), which a flat sheet cannot do. Points on a ring well outside the face stay put,
so the background does not move, as behind a real head.

This is a test-material generator, not a renderer of hidden surfaces: beyond ~30 degrees
the far cheek would need occlusion, so the scripts keep turns at 15-25 degrees.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt
from scipy.interpolate import LinearNDInterpolator

Image = npt.NDArray[np.uint8]
Points3 = npt.NDArray[np.float64]

_GRID_STEP = 4


def rotation(yaw_deg: float, pitch_deg: float, roll_deg: float = 0.0) -> npt.NDArray[np.float64]:
    """Yaw > 0 turns the head to the person's own left (nose towards image right)."""
    y, p, r = (math.radians(v) for v in (yaw_deg, pitch_deg, roll_deg))
    yaw = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    # pitch > 0: chin down (looking down), nose moves down in the image.
    pitch = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    roll = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return roll @ pitch @ yaw


class Head3D:
    """One photo and its 478 landmarks (x, y in pixels, z in pixels, negative = nearer)."""

    def __init__(self, image: Image, points: Points3) -> None:
        self.image = image
        self.points = points
        xs, ys = points[:, 0], points[:, 1]
        width = float(xs.max() - xs.min())
        # The rotation centre sits in the middle of the skull, about half a face width
        # behind the face's mean depth.
        self.center = np.array([xs.mean(), ys.mean(), points[:, 2].mean() + 0.55 * width])
        height, img_width = image.shape[:2]
        cx, cy = self.center[0], self.center[1]
        radius_x, radius_y = width * 1.05, float(ys.max() - ys.min()) * 0.95
        angles = np.linspace(0, 2 * math.pi, 24, endpoint=False)
        ring = np.stack([cx + radius_x * np.cos(angles), cy + radius_y * np.sin(angles)], 1)
        corners = np.array([[0, 0], [img_width - 1, 0], [0, height - 1],
                            [img_width - 1, height - 1]], np.float64)
        self._anchors = np.concatenate([ring, corners])
        self._size = (img_width, height)

    def projected(self, yaw_deg: float, pitch_deg: float = 0.0,
                  roll_deg: float = 0.0) -> npt.NDArray[np.float64]:
        """Where the landmarks land (x, y) after the rotation (orthographic)."""
        moved = (self.points - self.center) @ rotation(yaw_deg, pitch_deg, roll_deg).T
        return moved[:, :2] + self.center[:2]

    def render(self, image: Image, *, yaw_deg: float, pitch_deg: float = 0.0,
               roll_deg: float = 0.0) -> Image:
        """*image* (this photo, possibly with eyes/mouth edited) with the head turned."""
        if abs(yaw_deg) < 1e-3 and abs(pitch_deg) < 1e-3 and abs(roll_deg) < 1e-3:
            return image
        map_x, map_y = _maps(self, round(yaw_deg, 1), round(pitch_deg, 1), round(roll_deg, 1))
        return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR,  # type: ignore[return-value]
                         borderMode=cv2.BORDER_REPLICATE)

    def __hash__(self) -> int:
        return id(self)


@lru_cache(maxsize=256)
def _maps(head: Head3D, yaw: float, pitch: float,
          roll: float) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    source = np.concatenate([head.points[:, :2], head._anchors])
    target = np.concatenate([head.projected(yaw, pitch, roll), head._anchors])
    backward = LinearNDInterpolator(target, source)
    width, height = head._size
    gx, gy = np.meshgrid(np.arange(0, width + _GRID_STEP, _GRID_STEP, dtype=np.float64),
                         np.arange(0, height + _GRID_STEP, _GRID_STEP, dtype=np.float64))
    mapped = backward(np.stack([gx.ravel(), gy.ravel()], 1))
    identity = np.stack([gx.ravel(), gy.ravel()], 1)
    mapped = np.where(np.isnan(mapped), identity, mapped)
    coarse_x = mapped[:, 0].reshape(gx.shape).astype(np.float32)
    coarse_y = mapped[:, 1].reshape(gx.shape).astype(np.float32)
    full = (coarse_x.shape[1] * _GRID_STEP, coarse_x.shape[0] * _GRID_STEP)
    map_x = cv2.resize(coarse_x, full, interpolation=cv2.INTER_LINEAR)[:height, :width]
    map_y = cv2.resize(coarse_y, full, interpolation=cv2.INTER_LINEAR)[:height, :width]
    return np.ascontiguousarray(map_x), np.ascontiguousarray(map_y)
