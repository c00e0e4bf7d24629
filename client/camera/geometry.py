"""Is the face a rigid 3D head or a flat sheet? Tests on the rigid landmarks of two frames.

A photo or a screen is a plane: whatever the hand does with it (tilt it forward, turn it
about any axis, rotate it in its plane, move it), the image of every point on it moves by
one homography. A real head turning moves the nose tip against the face outline
(parallax), which no homography reproduces. Conversely, while the eyes blink or the mouth
opens the rest of a live face keeps its shape up to a similarity (move, scale, in-plane
rotation), while a tilted sheet foreshortens it.

Both residuals are the median point distance after the best fit, divided by the outer
eye-corner distance, so they do not depend on the face's size in the frame.

The landmarker does not make a sheet look flat, though: it fits its 3D face model to the
warped picture, so a print turned 35 deg or more already leaves a homography residual
in the range of a real head. ``head_vs_plane`` asks the question the other way round as
well: which explains the turn better, a plane (homography, 8 parameters) or the
baseline's own 3D landmarks turned as a rigid body and seen from afar (rotation, scale
and shift: 6 parameters)? A head turning is explained by its 3D shape, not by a plane.
The picture of a sheet turned about one axis and tilted about another shrinks the face
by different amounts across and down; the landmarker follows with a face squashed out of
its 3D shape, which no rotation of the baseline's landmarks gives, so the plane fits
about as well as the head, or better.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Shape = Sequence[tuple[float, float]]


def _arrays(a: Shape, b: Shape) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    first = np.asarray(a, dtype=np.float64)
    second = np.asarray(b, dtype=np.float64)
    if first.shape != second.shape or first.ndim != 2 or first.shape[0] < 8:
        raise ValueError("two shapes of the same >= 8 points are needed")
    return first, second


def _scale(points: npt.NDArray[np.float64]) -> float:
    # Outer eye corners are entries 7 and 10 of signals.RIGID_POINTS.
    return max(float(np.linalg.norm(points[7] - points[10])), 1e-6)


def homography_residual(reference: Shape, current: Shape) -> float:
    """How far *current* is from the best plane-to-plane mapping of *reference*.

    ~0 for a sheet (only landmark noise), clearly above it for a head turned in 3D.
    """
    import cv2

    src, dst = _arrays(reference, current)
    matrix, _ = cv2.findHomography(src, dst, 0)
    if matrix is None:
        return 0.0
    ones = np.ones((src.shape[0], 1))
    homogeneous = np.hstack([src, ones])
    # Broadcast products, not BLAS: tiny matrices, and OpenBLAS's thread pool costs more
    # than it saves on a busy 2-core PC.
    mapped = (homogeneous[:, None, :] * matrix[None, :, :]).sum(axis=2)
    mapped = mapped[:, :2] / mapped[:, 2:3]
    return float(np.median(np.linalg.norm(mapped - dst, axis=1))) / _scale(dst)


def _mul2(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    product: npt.NDArray[np.float64] = (a[:, :, None] * b[None, :, :]).sum(axis=1)
    return product


def similarity_residual(reference: Shape, current: Shape) -> float:
    """How far *current* is from *reference* moved, scaled and rotated in the image plane.

    ~0 while a live face blinks or opens the mouth, large when a sheet is tilted.
    """
    src, dst = _arrays(reference, current)
    src_c, dst_c = src - src.mean(0), dst - dst.mean(0)
    # Closed-form least-squares similarity (Umeyama without reflection).
    cov = (dst_c[:, :, None] * src_c[:, None, :]).sum(axis=0) / src.shape[0]
    u, s, vt = np.linalg.svd(cov)
    sign = 1.0 if np.linalg.det(u) * np.linalg.det(vt) >= 0 else -1.0
    d = np.array([1.0, sign])
    rot = _mul2(u * d[None, :], vt)
    var = float((src_c**2).sum() / src.shape[0])
    scale = float((s * d).sum()) / var if var > 0 else 1.0
    mapped = scale * (src_c[:, None, :] * rot[None, :, :]).sum(axis=2)
    return float(np.median(np.linalg.norm(mapped - dst_c, axis=1))) / _scale(dst)


# A 3D fit better than this is landmark noise: the ratio must not grow without bound.
_HEAD_RESIDUAL_FLOOR = 0.004


def head_residual(reference: Shape, reference_depth: Sequence[float], current: Shape) -> float:
    """How far *current* is from the reference landmarks in 3D, rotated as one rigid body,
    scaled and moved (a scaled orthographic view: a head at arm's length from the camera).

    *reference_depth* is the landmarker's z of the reference points. The fit: the least
    squares linear map of the centred 3D points onto the centred 2D points, replaced by
    the nearest scaled rotation (its two rows orthogonal and of one length), the usual
    metric step of affine structure from motion. ~0.01-0.02 for a head turned 10-25 deg.
    """
    src, dst = _arrays(reference, current)
    depth = np.asarray(reference_depth, dtype=np.float64)
    if depth.shape != (src.shape[0],):
        raise ValueError("one depth per reference point is needed")
    points = np.column_stack([src, depth])
    points = points - points.mean(axis=0)
    target = dst - dst.mean(axis=0)
    linear, *_ = np.linalg.lstsq(points, target, rcond=None)      # (3, 2)
    u, s, vt = np.linalg.svd(linear.T, full_matrices=False)        # (2,2) (2,) (2,3)
    rigid = float(s.mean()) * _mul2(u, vt)                          # (2, 3)
    mapped = (points[:, None, :] * rigid[None, :, :]).sum(axis=2)
    return float(np.median(np.linalg.norm(mapped - target, axis=1))) / _scale(dst)


def head_vs_plane(reference: Shape, reference_depth: Sequence[float], current: Shape) -> float:
    """The homography residual over the rigid-head residual: how much better a turning
    head than a moving plane explains *current*. Measured (docs/camera.md, "Tilted and
    turned sheets"): rendered heads 2.8-8.9, sheets turned 38-46 deg and tilted 20-30 deg
    0.4-1.3."""
    plane = homography_residual(reference, current)
    head = head_residual(reference, reference_depth, current)
    return plane / max(head, _HEAD_RESIDUAL_FLOOR)
