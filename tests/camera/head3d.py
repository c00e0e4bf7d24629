"""A still face turned into a 3D head: the photo's own 3D landmarks drive a mesh warp.

MediaPipe's landmarks carry a depth (z) per point. Rotating those points about a vertical
(yaw) or horizontal (pitch) axis through the middle of the head and projecting them back
gives where every landmark of the photo would be if the head turned; a piecewise-linear
warp between the two point sets (the photo's Delaunay triangles, drawn far to near)
moves the pixels with them. The nose then moves against the face outline
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
from scipy.spatial import Delaunay

Image = npt.NDArray[np.uint8]
Points3 = npt.NDArray[np.float64]


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
        triangles = Delaunay(np.concatenate([points[:, :2], self._anchors])).simplices
        # Triangles of anchors only do not move: they keep the identity map.
        self._triangles = triangles[(triangles < len(points)).any(axis=1)]

    def projected(self, yaw_deg: float, pitch_deg: float = 0.0,
                  roll_deg: float = 0.0) -> npt.NDArray[np.float64]:
        """Where the landmarks land (x, y) after the rotation (orthographic)."""
        rot = rotation(yaw_deg, pitch_deg, roll_deg)
        centred = self.points - self.center
        # Broadcast, not a matrix product: OpenBLAS's threads on a loaded 2-core machine
        # made this 478x3 product take 0.5 s.
        moved = (centred[:, None, :] * rot[None, :, :]).sum(axis=2)
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


@lru_cache(maxsize=512)
def _maps(head: Head3D, yaw: float, pitch: float,
          roll: float) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Backward maps (destination pixel -> source pixel) of the rotated mesh.

    The triangles of the photo's triangulation are drawn far-to-near into an index
    image (painter's algorithm: the near side of a turned head covers the far cheek),
    then each pixel's barycentric coordinates in its triangle give its source position.
    Hand-written with cv2.fillConvexPoly instead of scipy's LinearNDInterpolator: that
    one spreads over OpenMP threads and took 2 s per pose on a loaded 2-core machine.
    """
    rot = rotation(yaw, pitch, roll)
    centred = head.points - head.center
    moved = (centred[:, None, :] * rot[None, :, :]).sum(axis=2) + head.center
    anchors = head._anchors
    src = np.concatenate([head.points[:, :2], anchors])
    dst = np.concatenate([moved[:, :2], anchors])
    depth = np.concatenate([moved[:, 2], np.full(len(anchors), moved[:, 2].max() + 1e3)])
    tri = head._triangles
    order = np.argsort(-depth[tri].mean(axis=1))
    width, height = head._size
    index = np.full((height, width), -1, np.int32)
    for k in order:
        cv2.fillConvexPoly(index, np.round(dst[tri[k]]).astype(np.int32), int(k))
    ys, xs = np.nonzero(index >= 0)
    ks = index[ys, xs]
    a, b, c = dst[tri[ks, 0]], dst[tri[ks, 1]], dst[tri[ks, 2]]
    v0, v1 = b - a, c - a
    px, py = xs - a[:, 0], ys - a[:, 1]
    det = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
    det = np.where(np.abs(det) < 1e-9, 1e-9, det)
    l1 = (px * v1[:, 1] - py * v1[:, 0]) / det
    l2 = (v0[:, 0] * py - v0[:, 1] * px) / det
    l0 = 1.0 - l1 - l2
    sa, sb, sc = src[tri[ks, 0]], src[tri[ks, 1]], src[tri[ks, 2]]
    mapped = l0[:, None] * sa + l1[:, None] * sb + l2[:, None] * sc
    map_x, map_y = np.meshgrid(np.arange(width, dtype=np.float32),
                               np.arange(height, dtype=np.float32))
    map_x[ys, xs] = mapped[:, 0]
    map_y[ys, xs] = mapped[:, 1]
    return map_x, map_y
