"""Permitted base photos and synthetic violations of each photo rule, made from a real face.

The permitted photos put scikit-image's astronaut (a real, frontal, public-domain portrait)
in front of a plain wall: his head and shoulders are kept by a mask, the flag and the
spacecraft behind him are replaced by a wall colour with a slight gradient and sensor
noise. Variants change scale, position, wall colour and light. Each violation is drawn on
a permitted photo where its rule looks (found from the photo's own landmarks), the way a
real one would appear: a hat, a fringe, a tilt, gold earrings, dark lenses, ...
Used by tests/rules/test_photo_standard.py and benchmarks/photo_standard.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from skimage import data as skdata

from client.camera.analyzer import DetectedFace, FaceAnalyzer, Image

WALLS = ((238, 240, 242), (235, 206, 160), (225, 228, 230), (245, 245, 245))  # BGR


@dataclass(frozen=True)
class Sample:
    image: Image
    person: npt.NDArray[np.bool_]     # True where the person is (not the wall)
    face: DetectedFace
    points: npt.NDArray[np.float64]   # 478 landmarks, pixels


def _astronaut() -> Image:
    return np.ascontiguousarray(cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))


def _person_mask(image: Image, face: DetectedFace) -> npt.NDArray[np.bool_]:
    height, width = image.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    cx, cy = face.center
    cv2.ellipse(mask, (int(cx), int(cy - face.height * 0.12)),
                (int(face.width * 0.78), int(face.height * 0.95)), 0, 0, 360, 1, -1)
    neck_y = int(face.y + face.height * 1.05)
    shoulders = np.array([[cx - face.width * 0.45, face.y + face.height * 0.7],
                          [cx + face.width * 0.45, face.y + face.height * 0.7],
                          [cx + face.width * 0.55, neck_y],
                          [cx + face.width * 1.55, neck_y + face.height * 0.45],
                          [cx + face.width * 1.7, height], [cx - face.width * 1.7, height],
                          [cx - face.width * 1.55, neck_y + face.height * 0.45],
                          [cx - face.width * 0.55, neck_y]], np.int32)
    cv2.fillPoly(mask, [shoulders], 1)
    return mask.astype(bool)


def _wall(shape: tuple[int, ...], colour: tuple[int, int, int], seed: int) -> Image:
    height, width = shape[:2]
    rng = np.random.default_rng(seed)
    gradient = np.linspace(-6, 6, height)[:, None, None]
    wall = np.array(colour, np.float64)[None, None, :] + gradient
    wall = wall + rng.normal(0, 1.5, (height, width, 3))
    return np.clip(wall, 0, 255).astype(np.uint8)


def analyse(analyzer: FaceAnalyzer, image: Image) -> tuple[DetectedFace, npt.NDArray[
        np.float64], dict[str, float]] | None:
    faces = analyzer.detect(image)
    found = analyzer.face_landmarks(image, t_ms=0)
    if len(faces) != 1 or found is None:
        return None
    return faces[0], found[0], found[2]


def permitted_samples(analyzer: FaceAnalyzer, count: int = 8) -> list[Sample]:
    """*count* permitted photos (plain wall, whole head and shoulders, even light)."""
    base = _astronaut()
    [face] = analyzer.detect(base)
    person = _person_mask(base, face)
    # The portrait is off-centre and high: the standard wants the head centred.
    centre_dx, centre_dy = 256 - face.center[0], 190 - face.center[1]
    samples = []
    for index in range(count):
        scale = (1.15, 1.25, 1.35, 1.2)[index % 4]
        shift = ((0, 0), (10, -8), (-12, 6), (6, 10))[(index // 2) % 4]
        gain = (1.0, 1.08, 0.92, 1.0)[(index + 1) % 4]
        wall = _wall(base.shape, WALLS[index % len(WALLS)], seed=index)
        composed = np.where(person[..., None], base, wall)
        matrix = np.float32([[scale, 0, (1 - scale) * 256 + shift[0] + centre_dx * scale],
                             [0, scale, (1 - scale) * 256 + shift[1] + centre_dy * scale]])
        warped = cv2.warpAffine(composed, matrix, (512, 512), borderMode=cv2.BORDER_REPLICATE)
        mask = cv2.warpAffine(person.astype(np.uint8), matrix, (512, 512),
                              flags=cv2.INTER_NEAREST).astype(bool)
        image = np.clip(warped.astype(np.float64) * gain, 0, 255).astype(np.uint8)
        found = analyse(analyzer, image)
        if found is None:
            continue
        image = ears_visible(image, found[0], found[1], wall=WALLS[index % len(WALLS)])
        found = analyse(analyzer, image)
        if found is None:
            continue
        samples.append(Sample(image=image, person=mask, face=found[0], points=found[1]))
    return samples


def _ear_band(face: DetectedFace, points: npt.NDArray[np.float64]) -> list[tuple[
        float, float, float, float]]:
    """Per side: the face's edge x, the direction outwards, the eye line and nose base y."""
    eye_line = float(points[33][1] + points[263][1]) / 2
    return [(float(points[edge][0]), outward, eye_line, float(points[2][1]))
            for edge, outward in ((234, -1.0), (454, 1.0))]


def ears_visible(image: Image, face: DetectedFace, points: npt.NDArray[np.float64], *,
                 wall: tuple[int, int, int]) -> Image:
    """The astronaut's bob covers both her ears (the ear rule rightly refuses her as she
    is): for a permitted photo the hair beside the face at ear height is tucked away (wall
    shows) and an ear is drawn there in her cheek's skin, shaded along its rim."""
    out = image.copy()
    fw, fh = face.width, face.height
    skin = image[int(points[50][1]) - 4:int(points[50][1]) + 4,
                 int(points[50][0]) - 4:int(points[50][0]) + 4].reshape(-1, 3).mean(axis=0)
    rng = np.random.default_rng(7)
    for x, outward, eye_line, nose in _ear_band(face, points):
        x0, x1 = sorted((x, x + outward * fw * 0.24))
        y0, y1 = int(eye_line - fh * 0.12), int(nose + fh * 0.12)
        patch = np.array(wall, np.float64) + rng.normal(0, 1.5, (y1 - y0, int(x1) - int(x0), 3))
        out[y0:y1, int(x0):int(x1)] = np.clip(patch, 0, 255).astype(np.uint8)
        centre = (int(x + outward * fw * 0.05), int((eye_line + nose) / 2))
        axes = (int(fw * 0.075), int((nose - eye_line) * 0.72))
        cv2.ellipse(out, centre, axes, 0, 0, 360, skin.tolist(), -1)
        cv2.ellipse(out, centre, (int(axes[0] * 0.7), int(axes[1] * 0.75)), 0, 0, 360,
                    (skin * 0.8).tolist(), 2)
    return out


# -- violations (each returns a new image) ---------------------------------------------

def _copy(sample: Sample) -> Image:
    return sample.image.copy()


def hat(sample: Sample) -> Image:
    image = _copy(sample)
    top = sample.points[10]
    f = sample.face
    cv2.ellipse(image, (int(top[0]), int(top[1] - f.height * 0.12)),
                (int(f.width * 0.62), int(f.height * 0.42)), 0, 180, 360, (40, 40, 190), -1)
    cv2.rectangle(image, (int(top[0] - f.width * 0.7), int(top[1] - f.height * 0.16)),
                  (int(top[0] + f.width * 0.7), int(top[1] - f.height * 0.08)), (30, 30, 160), -1)
    return image


def fringe(sample: Sample) -> Image:
    image = _copy(sample)
    brows = sample.points[[70, 63, 105, 66, 107, 336, 296, 334, 293, 300], :2]
    top = sample.points[10]
    x0, x1 = brows[:, 0].min() - 10, brows[:, 0].max() + 10
    y1 = brows[:, 1].max() + 4
    hair = np.array([[x0, top[1] - 20], [x1, top[1] - 20], [x1, y1], [x0, y1]], np.int32)
    overlay = image.copy()
    cv2.fillPoly(overlay, [hair], (25, 30, 40))
    return cv2.addWeighted(overlay, 0.92, image, 0.08, 0)


def lock_over_one_eye(sample: Sample, *, own_hair: bool = False) -> Image:
    """A side-swept lock from the parting down over one eyebrow and eye to the cheekbone,
    the other brow and eye left free (the fringe rule once measured across both brows, and
    a half-covered band passed). The side alternates with the photo so both are drawn."""
    image = _copy(sample)
    p = sample.points[:, :2]
    left = int(p[10][0]) % 2 == 0
    brow = p[[70, 63, 105, 66, 107]] if left else p[[336, 296, 334, 293, 300]]
    eye = p[[33, 133, 159, 145]] if left else p[[263, 362, 386, 374]]
    outer, inner = (brow[:, 0].min(), p[168][0]) if left else (brow[:, 0].max(), p[168][0])
    step = -1 if left else 1
    parting = p[10] + np.array([step * sample.face.width * 0.05, -sample.face.height * 0.08])
    below_eye = eye[:, 1].max() + sample.face.height * 0.06
    lock = np.array([parting, [outer + step * sample.face.width * 0.06, p[10][1]],
                     [outer + step * sample.face.width * 0.04, below_eye],
                     [(outer + inner) / 2, below_eye + sample.face.height * 0.03],
                     [inner, eye[:, 1].min()], [inner - step * 4, p[10][1]]], np.int32)
    overlay = image.copy()
    if own_hair:
        # Her own hair, cut from the crown above the hairline and laid over the lock's shape.
        f = sample.face
        crown = image[max(0, int(p[10][1] - f.height * 0.26)):int(p[10][1] - f.height * 0.1),
                      int(p[10][0] - f.width * 0.22):int(p[10][0] + f.width * 0.22)]
        x, y, w, h = cv2.boundingRect(lock)
        strands = cv2.resize(crown, (w, h), interpolation=cv2.INTER_CUBIC)
        mask = np.zeros(image.shape[:2], np.uint8)
        cv2.fillPoly(mask, [lock], 1)
        region = overlay[y:y + h, x:x + w]
        inside = mask[y:y + h, x:x + w].astype(bool)
        region[inside] = strands[:region.shape[0], :region.shape[1]][inside[:strands.shape[0],
                                                                           :strands.shape[1]]]
        return overlay
    cv2.fillPoly(overlay, [lock], (25, 30, 40))
    for t in np.linspace(0.15, 0.85, 6):  # strands along the sweep
        start = parting + (lock[1] - parting) * t
        end = lock[4] + (lock[3] - lock[4]) * t
        cv2.line(overlay, tuple(int(v) for v in start), tuple(int(v) for v in end),
                 (45, 50, 62), 1)
    return cv2.addWeighted(overlay, 0.92, image, 0.08, 0)


def own_hair_over_one_eye(sample: Sample) -> Image:
    """The same lock in the portrait's own (light brown) hair, cut from her crown."""
    return lock_over_one_eye(sample, own_hair=True)


def locks_over_ears(sample: Sample) -> Image:
    """Dark hair let down over both ears, from the temple to below the ear lobe."""
    image = _copy(sample)
    overlay = image.copy()
    fw, fh = sample.face.width, sample.face.height
    for x, outward, eye_line, nose in _ear_band(sample.face, sample.points):
        inner, outer = x - outward * fw * 0.03, x + outward * fw * 0.22
        lock = np.array([[inner, eye_line - fh * 0.25], [outer, eye_line - fh * 0.2],
                         [outer, nose + fh * 0.2], [inner, nose + fh * 0.15]], np.int32)
        cv2.fillPoly(overlay, [lock], (25, 30, 40))
        for step in range(6):  # strands
            sx = int(inner + (outer - inner) * (step + 0.5) / 6)
            cv2.line(overlay, (sx, int(eye_line - fh * 0.2)), (sx, int(nose + fh * 0.15)),
                     (45, 50, 62), 1)
    return cv2.addWeighted(overlay, 0.92, image, 0.08, 0)


def tilt(sample: Sample) -> Image:
    cx, cy = sample.face.center
    matrix = cv2.getRotationMatrix2D((cx, cy), 12.0, 1.0)
    return cv2.warpAffine(sample.image, matrix, (512, 512), borderMode=cv2.BORDER_REPLICATE)


def uneven_shoulders(sample: Sample) -> Image:
    image = _copy(sample)
    f = sample.face
    chin_y = int(sample.points[152][1])
    split = int(f.center[0])
    right = image[chin_y:, split:].copy()
    drop = int(f.height * 0.55)
    wall = image[0:1, -1:].reshape(1, 1, 3)
    image[chin_y:, split:] = wall
    image[chin_y + drop:, split:] = right[:image.shape[0] - chin_y - drop]
    return image


def jewelry(sample: Sample) -> Image:
    image = _copy(sample)
    f = sample.face
    radius = max(4, int(f.width * 0.05))
    for index in (234, 454):
        x, y = sample.points[index][:2]
        cv2.circle(image, (int(x), int(y + f.height * 0.2)), radius, (0, 200, 255), -1)
    cx, cy = sample.points[152][:2]
    cv2.ellipse(image, (int(cx), int(cy + f.height * 0.12)), (int(f.width * 0.35),
                int(f.height * 0.22)), 0, 20, 160, (0, 210, 255), max(3, radius // 2))
    return image


def open_mouth(sample: Sample) -> Image:
    image = _copy(sample)
    left, right = sample.points[61][:2], sample.points[291][:2]
    upper, lower = sample.points[13][:2], sample.points[14][:2]
    width = float(np.linalg.norm(right - left))
    centre = (int((upper[0] + lower[0]) / 2), int((upper[1] + lower[1]) / 2 + width * 0.12))
    # Drop the chin below the lips by a third of the mouth width, the gap shows dark.
    y_lip = int(centre[1])
    shift = int(width * 0.3)
    band = image[y_lip:, int(left[0] - width * 0.6):int(right[0] + width * 0.6)].copy()
    image[y_lip + shift:, int(left[0] - width * 0.6):int(right[0] + width * 0.6)] = \
        band[:image.shape[0] - y_lip - shift]
    cv2.ellipse(image, (centre[0], y_lip + shift // 2 - 2), (int(width * 0.42), shift // 2 + 2),
                0, 0, 360, (30, 20, 60), -1)
    return image


def makeup(sample: Sample) -> Image:
    image = _copy(sample)
    overlay = image.copy()
    lips = sample.points[[61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314,
                          17, 84, 181, 91, 146], :2].astype(np.int32)
    cv2.fillPoly(overlay, [lips], (30, 0, 220))
    for eye, brow in (((33, 160, 158, 133), (70, 63, 105, 66, 107)),
                      ((362, 385, 387, 263), (336, 296, 334, 293, 300))):
        e, b = sample.points[list(eye), :2], sample.points[list(brow), :2]
        cv2.rectangle(overlay, (int(e[:, 0].min()), int(b[:, 1].max())),
                      (int(e[:, 0].max()), int(e[:, 1].min())), (200, 60, 120), -1)
    return cv2.addWeighted(overlay, 0.7, image, 0.3, 0)


def _lenses(sample: Sample, colour: tuple[int, int, int], alpha: float,
            rim: int = 2) -> Image:
    image = _copy(sample)
    overlay = image.copy()
    for eye in ((33, 160, 158, 133, 153, 144), (362, 385, 387, 263, 373, 380)):
        e = sample.points[list(eye), :2]
        centre = e.mean(axis=0)
        axes = (int((e[:, 0].max() - e[:, 0].min()) * 0.95),
                int((e[:, 0].max() - e[:, 0].min()) * 0.65))
        cv2.ellipse(overlay, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, colour, -1)
        cv2.ellipse(image, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, (20, 20, 20), rim)
    blended = cv2.addWeighted(overlay, alpha, image, 1 - alpha, 0)
    return blended


def tinted_glasses(sample: Sample) -> Image:
    return _lenses(sample, (30, 35, 30), 0.8)


def frame_over_eyes(sample: Sample) -> Image:
    image = _lenses(sample, (0, 0, 0), 0.0)
    for eye in ((33, 160, 158, 133, 153, 144), (362, 385, 387, 263, 373, 380)):
        e = sample.points[list(eye), :2]
        y = int(e[:, 1].mean())
        thickness = max(3, int((e[:, 1].max() - e[:, 1].min()) * 0.6))
        cv2.line(image, (int(e[:, 0].min() - 8), y), (int(e[:, 0].max() + 8), y), (15, 15, 15),
                 thickness)
    return image


def reflections(sample: Sample) -> Image:
    image = _lenses(sample, (0, 0, 0), 0.0)
    for eye in ((33, 160, 158, 133, 153, 144), (362, 385, 387, 263, 373, 380)):
        e = sample.points[list(eye), :2]
        centre = e.mean(axis=0)
        width = e[:, 0].max() - e[:, 0].min()
        cv2.ellipse(image, (int(centre[0] - width * 0.15), int(centre[1] - 1)),
                    (int(width * 0.35), int(width * 0.18)), -20, 0, 360, (255, 255, 255), -1)
    return image


def busy_clothes(sample: Sample) -> Image:
    image = _copy(sample)
    height, width = image.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width]
    checks = (((yy // 9) + (xx // 9)) % 2).astype(bool)
    clothes = sample.person & (yy > sample.points[152][1] + sample.face.height * 0.2)
    pattern = np.where(checks[..., None], np.array([40, 40, 160]), np.array([230, 200, 60]))
    image[clothes] = pattern[clothes].astype(np.uint8)
    return image


def busy_background(sample: Sample) -> Image:
    image = _copy(sample)
    texture = cv2.resize(cv2.cvtColor(skdata.coffee(), cv2.COLOR_RGB2BGR),
                         (image.shape[1], image.shape[0]))
    image[~sample.person] = texture[~sample.person]
    return image


VIOLATIONS: dict[str, Callable[[Sample], Image]] = {
    "head_covering": hat,
    "hair_over_brows": fringe,
    "hair_over_ears": locks_over_ears,
    "eyes_not_level": tilt,
    "shoulders_not_level": uneven_shoulders,
    "jewelry": jewelry,
    "mouth_open": open_mouth,
    "heavy_makeup": makeup,
    "tinted_glasses": tinted_glasses,
    "frame_over_eyes": frame_over_eyes,
    "glasses_reflection": reflections,
    "busy_clothes": busy_clothes,
    "background_not_plain": busy_background,
}

# Further violations of a rule above, by what they show: (rule that must catch it, drawing).
MORE_VIOLATIONS: dict[str, tuple[str, Callable[[Sample], Image]]] = {
    "lock_over_one_eye": ("hair_over_brows", lock_over_one_eye),
    # Light hair is NOT caught (both hair signals need hair darker than the skin): the
    # benchmark prints how often, the test does not ask for it.
    "own_hair_over_one_eye": ("hair_over_brows", own_hair_over_one_eye),
}
