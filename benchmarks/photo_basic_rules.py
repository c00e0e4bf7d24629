"""Basic base-photo rules benchmark: how often each rule of client/camera/base_photo.py
(centring, frontal, eyes open, dark, backlight, uneven light, glare, clothes against the
background, blur) fires on good photos, and how often it catches its own degradation.

Good photos, all real faces:
- real photographs as they are, in variants a collection desk produces (scale 0.8-1.25,
  JPEG quality 70-95, brightness +-10 %, sensor noise): scikit-image's astronaut portrait
  (Eileen Collins), resources/demo/photos/proctor.jpg (the same portrait cropped to head
  and shoulders) and matplotlib's grace_hopper.jpg (Grace Hopper, a second person, dark
  background, uniform);
- tests/rules/photo_synth.py's permitted photos (the astronaut on plain walls, scale,
  position, wall colour and light varied).
Only variants the rules pass count as good and get degraded; every rule's false positives
are counted on all of them before that (false+ real: real photographs and their variants,
false+ walls: the synthetic wall photos).

Degradations (synthetic, drawn on each good photo at a random clearly-bad strength,
located with the photo's own landmarks): shifted sideways 25-35 % of the width; the head
turned 28-40 deg in 3D (tests/camera/head3d.py); eyelids painted shut; light x0.20-0.35;
a window behind (background brightened, face darkened); one side of the face in shadow
(ramp to 25-40 %); a specular spot on the forehead; the wall painted the clothing's colour;
Gaussian blur sigma 3-5. Two people and one face only: the rates say the measures
separate these cases, not how they do on a center's real collection photos.

    python benchmarks/photo_basic_rules.py [--variants 6] [--seed 22]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "rules"), str(ROOT / "tests" / "camera")]

RULES = ("not_centered", "not_frontal", "eyes_closed", "too_dark", "backlit",
         "uneven_light", "glare", "low_background_contrast", "blurry")
Image = npt.NDArray[np.uint8]


def _u8(image: Any) -> Image:
    return np.asarray(image, dtype=np.uint8)


@dataclass(frozen=True)
class Good:
    name: str
    image: Image
    points: np.ndarray  # 478 landmarks (x, y, z) in pixels
    real: bool          # a real photograph as it is (not on a synthetic wall)


def real_photos() -> dict[str, Image]:
    import matplotlib
    from skimage import data as skdata

    hopper = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    astronaut = skdata.astronaut()  # type: ignore[no-untyped-call]
    photos = {"astronaut": _u8(cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))}
    for name, path in (("proctor.jpg", ROOT / "resources" / "demo" / "photos" / "proctor.jpg"),
                       ("grace_hopper", hopper)):
        image = cv2.imread(str(path))
        if image is None:
            raise SystemExit(f"missing {path}")
        photos[name] = _u8(image)
    return photos


def collection_variant(image: Image, rng: np.random.Generator) -> Image:
    """What another camera or desk makes of the same photo."""
    scale = rng.uniform(0.8, 1.25)
    out = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
                     if scale < 1 else cv2.INTER_CUBIC)
    out = np.clip(out.astype(np.float32) * rng.uniform(0.9, 1.1)
                  + rng.normal(0, 2.0, out.shape), 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 96))])
    assert ok
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    assert decoded is not None
    return _u8(decoded)


# -- degradations -------------------------------------------------------------------------
def not_centered(good: Good, rng: np.random.Generator) -> Image:
    height, width = good.image.shape[:2]
    dx = width * rng.uniform(0.25, 0.35) * rng.choice([-1, 1])
    matrix = np.array([[1, 0, dx], [0, 1, 0]], np.float32)
    return _u8(cv2.warpAffine(good.image, matrix, (width, height),
                              borderMode=cv2.BORDER_REPLICATE))


def not_frontal(good: Good, rng: np.random.Generator) -> Image:
    from head3d import Head3D

    head = Head3D(good.image, good.points)
    return _u8(head.render(good.image,
                           yaw_deg=float(rng.uniform(28, 40) * rng.choice([-1, 1]))))


def eyes_closed(good: Good, rng: np.random.Generator) -> Image:
    from camera_sequences import eyes_closed as painted_shut

    return _u8(painted_shut(good.image, good.points[:, :2]))


def too_dark(good: Good, rng: np.random.Generator) -> Image:
    return _u8(good.image.astype(np.float32) * rng.uniform(0.20, 0.35))


def _face_mask(good: Good, *, grow: float = 1.0, blur: float = 15) -> np.ndarray:
    xs, ys = good.points[:, 0], good.points[:, 1]
    mask = np.zeros(good.image.shape[:2], np.float32)
    center = (int(xs.mean()), int(ys.mean()))
    axes = (int((xs.max() - xs.min()) * 0.62 * grow), int((ys.max() - ys.min()) * 0.68 * grow))
    cv2.ellipse(mask, center, axes, 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), blur)[..., None]


def backlit(good: Good, rng: np.random.Generator) -> Image:
    as_float = good.image.astype(np.float32)
    mask = _face_mask(good, grow=1.15)
    face = as_float * rng.uniform(0.3, 0.45)
    window = np.minimum(255, as_float * 1.6 + rng.uniform(50, 80))
    return _u8(face * mask + window * (1 - mask))


def uneven_light(good: Good, rng: np.random.Generator) -> Image:
    xs = good.points[:, 0]
    left, right = xs.min(), xs.max()
    floor = rng.uniform(0.25, 0.40)
    ramp = np.clip((np.arange(good.image.shape[1]) - left) / max(right - left, 1), 0, 1)
    if rng.random() < 0.5:
        ramp = ramp[::-1]
    gain = floor + (1 - floor) * ramp
    return _u8(good.image.astype(np.float32) * gain[None, :, None])


def glare(good: Good, rng: np.random.Generator) -> Image:
    out = good.image.copy()
    xs = good.points[:, 0]
    width = xs.max() - xs.min()
    forehead = good.points[10]
    radius = int(width * rng.uniform(0.09, 0.13))
    center = (int(forehead[0] + rng.uniform(-0.1, 0.1) * width),
              int(forehead[1] + radius * 1.2))
    cv2.circle(out, center, radius, (255, 255, 255), -1)
    return out


def low_background_contrast(good: Good, rng: np.random.Generator) -> Image:
    """The wall beside the head painted in the clothing's colour (as test_camera_inference)."""
    out = good.image.copy()
    height, width = out.shape[:2]
    xs, ys = good.points[:, 0], good.points[:, 1]
    chin = ys.max()
    clothing = good.image[int(min(chin + (ys.max() - ys.min()) * 0.4, height - 2)):,
                          int(xs.min()):int(xs.max())]
    colour = clothing.reshape(-1, 3).mean(axis=0)
    strip = int(width * rng.uniform(0.14, 0.2))
    noise = rng.normal(0, 3.0, (height, strip, 3))
    out[:, :strip] = np.clip(colour + noise, 0, 255)
    out[:, -strip:] = np.clip(colour + noise, 0, 255)
    return out


def blurry(good: Good, rng: np.random.Generator) -> Image:
    return _u8(cv2.GaussianBlur(good.image, (0, 0), rng.uniform(3.0, 5.0)))


DEGRADATIONS: dict[str, Callable[[Good, np.random.Generator], Image]] = {
    "not_centered": not_centered, "not_frontal": not_frontal, "eyes_closed": eyes_closed,
    "too_dark": too_dark, "backlit": backlit, "uneven_light": uneven_light, "glare": glare,
    "low_background_contrast": low_background_contrast, "blurry": blurry,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=6, help="per real photo")
    parser.add_argument("--synthetic", type=int, default=12, help="photo_synth samples")
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()

    from photo_synth import permitted_samples

    from client.camera.analyzer import FaceAnalyzer
    from client.camera.base_photo import check_base_image

    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    checked = 0
    with FaceAnalyzer(video_mode=False) as analyzer:
        def basic(image: Image) -> set[str]:
            nonlocal checked
            checked += 1
            return {p.value for p in check_base_image(image, analyzer).problems}

        candidates: list[tuple[str, Image, bool]] = []
        for name, photo in real_photos().items():
            candidates.append((f"{name} as is", photo, True))
            candidates += [(f"{name} variant {i}", collection_variant(photo, rng), True)
                           for i in range(args.variants)]
        candidates += [(f"synthetic wall {i}", s.image, False)
                       for i, s in enumerate(permitted_samples(analyzer,
                                                               count=args.synthetic))]
        good: list[Good] = []
        refused: dict[str, list[str]] = {}
        # Per rule, how many of the good photos (before any degradation) it fires on: the
        # false positives, on the real photographs and on the synthetic walls apart.
        false_real = dict.fromkeys(RULES, 0)
        false_walls = dict.fromkeys(RULES, 0)
        for name, image, real in candidates:
            problems = basic(image)
            for rule in problems & set(RULES):
                (false_real if real else false_walls)[rule] += 1
            points = analyzer.landmarks(image, t_ms=0)
            if problems or points is None:
                report = check_base_image(image, analyzer)
                refused[name] = [f"{p} (background_contrast "
                                 f"{report.measures.get('background_contrast')})"
                                 if p == "low_background_contrast" else p
                                 for p in sorted(problems)] or ["no landmarks"]
                continue
            good.append(Good(name, image, points, real))
        caught = dict.fromkeys(RULES, 0)
        caught_real = dict.fromkeys(RULES, 0)
        cross = dict.fromkeys(RULES, 0)
        lost = dict.fromkeys(RULES, 0)
        also: dict[str, Counter[str]] = {rule: Counter() for rule in RULES}
        for rule, degrade in DEGRADATIONS.items():
            for sample in good:
                fired = basic(degrade(sample, rng))
                if "no_face" in fired:
                    lost[rule] += 1
                caught[rule] += rule in fired
                caught_real[rule] += sample.real and rule in fired
                for other in fired & set(RULES) - {rule}:
                    cross[other] += 1
                    also[rule][other] += 1
        elapsed = time.perf_counter() - started

    real_total = sum(1 for _n, _i, real in candidates if real)
    real_refused = sum(1 for name in refused if not name.startswith("synthetic"))
    n = len(good)
    others = n * (len(RULES) - 1)
    print(f"good photos: {n} ({sum(g.real for g in good)} real photographs and variants, "
          f"{sum(not g.real for g in good)} on synthetic walls); "
          f"{checked / elapsed:.1f} photos/s checked (incl. degradation)")
    print(f"real photographs refused as not good: {real_refused}/{real_total}")
    for name, why in refused.items():
        print(f"  refused: {name}: {', '.join(why)}")
    n_real = sum(g.real for g in good)
    walls_total = len(candidates) - real_total
    print(f"{'rule':<26}{'caught':>10}{'of real':>10}{'false+ real':>13}{'false+ walls':>14}"
          f"{'fires on other':>16}{'face lost':>11}  also fired on this degradation")
    for rule in RULES:
        print(f"{rule:<26}{caught[rule]:>5}/{n:<4}{caught_real[rule]:>5}/{n_real:<4}"
              f"{false_real[rule]:>7}/{real_total:<5}{false_walls[rule]:>8}/{walls_total:<5}"
              f"{cross[rule]:>9}/{others:<6}{lost[rule]:>5}/{n:<5} "
              + ", ".join(f"{k} {v}" for k, v in also[rule].most_common()))
    total = sum(caught.values())
    print(f"overall: caught {total}/{n * len(RULES)} "
          f"({100.0 * total / max(n * len(RULES), 1):.1f}%), false positives on the good "
          f"photos {sum(false_real.values())}/{real_total * len(RULES)} rule checks on real "
          f"photographs, {sum(false_walls.values())}/{walls_total * len(RULES)} on walls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
