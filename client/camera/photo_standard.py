"""The rest of the base-photo standard (底照标准), one check per rule, from the 478 face
landmarks, the blendshapes, face/skin regions and colour/texture measures.

client/camera/base_photo.py checks centring, frontal pose, eyes, light, backlight, glare,
clothing against background and sharpness. This module adds:

- head_covering (不得佩戴帽子、头巾): the crown above the hairline is coloured (hair is not)
  and differs from the wall;
- hair_over_brows (头发不遮挡眉毛、眼睛): the band above the eyebrows is much darker than
  the cheeks (a fringe), or one eye's region is dark while the other is not (a lock over
  one eye; lenses darken both);
- hair_over_ears (头发不遮挡耳朵): beside the face's edge at ear height (eye line to nose
  base) hair-dark pixels that are not the wall fill much of the band on either side;
- eyes_not_level (双眼水平): roll angle of the outer eye corners;
- shoulders_not_level (双肩水平): where the clothing starts beside the neck, left vs right;
- jewelry (不戴耳饰、项链): gold-coloured or specular pixels at the ear lobes and the neck;
- mouth_open (嘴唇闭合): inner-lip gap over mouth width, and the jawOpen blendshape;
- heavy_makeup (不化浓妆): lip and eyelid saturation above the skin's;
- tinted_glasses (不戴有色眼镜): the eye regions much darker than the cheeks;
- frame_over_eyes (镜框不遮挡眼睛): a dark band across the whole width of an eye;
- glasses_reflection (镜片无反光): near-white pixels in the eye regions;
- busy_clothes (衣服无复杂花纹): edge density and colour spread of the clothing;
- background_not_plain (背景单一，白墙最佳): edges and lightness spread beside the head.

Ear symmetry is the frontal check (yaw) of base_photo.py. The landmarks do not include the
ears: hair_over_ears looks where the ears sit beside landmarks 234/454, and like the
fringe rule it sees dark hair only (blond or grey hair over the ears passes). The
thresholds were calibrated on
synthetic violations made from a permitted portrait (benchmarks/photo_standard.py prints
the rates); the weak rules are named in docs/camera.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

from client.camera.analyzer import DetectedFace, Image
from client.i18n import _

Points = npt.NDArray[np.float64]

LEFT_EYE = (33, 160, 158, 133, 153, 144)
RIGHT_EYE = (362, 385, 387, 263, 373, 380)
LEFT_BROW = (70, 63, 105, 66, 107)
RIGHT_BROW = (336, 296, 334, 293, 300)
LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84,
              181, 91, 146)
FOREHEAD_TOP, CHIN, LEFT_CHEEK, RIGHT_CHEEK = 10, 152, 50, 280
LEFT_FACE_EDGE, RIGHT_FACE_EDGE = 234, 454
NOSE_BASE = 2
UPPER_LIP_INNER, LOWER_LIP_INNER, MOUTH_LEFT, MOUTH_RIGHT = 13, 14, 61, 291


@dataclass(frozen=True)
class StandardRules:
    max_crown_chroma: float = 40.0                # C*ab above the hairline (hair ~5-20)
    min_cover_background_delta: float = 25.0      # ΔE from the background
    max_forehead_to_cheek: float = 0.55           # forehead L / cheek L (hair fringe)
    max_ear_hair_fraction: float = 0.35           # hair-dark share of the band at an ear
    max_roll_deg: float = 6.0
    max_shoulder_offset: float = 0.55             # |left - right| / face height
    max_jewelry_fraction: float = 0.04
    max_mouth_gap: float = 0.28                   # inner lip gap / mouth width
    max_jaw_open: float = 0.35                    # blendshape
    max_lip_saturation_over_skin: float = 0.30
    max_lid_saturation_over_skin: float = 0.22
    min_eye_to_cheek: float = 0.50                # eye region L / cheek L
    # One eye region this much darker than the other, the other one normal: hair over
    # that eye (tinted lenses darken both; permitted photos 0.90-0.94, a lock 0.30-0.38).
    max_darker_eye_to_other: float = 0.60
    max_frame_row_darkness: float = 0.40          # darkest full-width row L / cheek L
    max_eye_glare_fraction: float = 0.02
    max_clothes_edge_density: float = 0.10
    max_clothes_chroma_spread: float = 40.0
    max_background_edge_density: float = 0.06
    max_background_lightness_std: float = 16.0


class StandardProblem(StrEnum):
    HEAD_COVERING = "head_covering"
    HAIR_OVER_BROWS = "hair_over_brows"
    HAIR_OVER_EARS = "hair_over_ears"
    EYES_NOT_LEVEL = "eyes_not_level"
    SHOULDERS_NOT_LEVEL = "shoulders_not_level"
    JEWELRY = "jewelry"
    MOUTH_OPEN = "mouth_open"
    HEAVY_MAKEUP = "heavy_makeup"
    TINTED_GLASSES = "tinted_glasses"
    FRAME_OVER_EYES = "frame_over_eyes"
    GLASSES_REFLECTION = "glasses_reflection"
    BUSY_CLOTHES = "busy_clothes"
    BACKGROUND_NOT_PLAIN = "background_not_plain"


def standard_problem_text(problem: StandardProblem) -> str:
    """The advice line (Chinese source text) the admin passes on to the candidate."""
    return {
        StandardProblem.HEAD_COVERING: _("请摘下帽子、头巾等头部遮挡物后重拍"),
        StandardProblem.HAIR_OVER_BROWS: _("头发遮住了眉毛或眼睛，请把头发拢到眉毛以上后重拍"),
        StandardProblem.HAIR_OVER_EARS: _("头发遮住了耳朵，请把头发拢到耳后、露出双耳后重拍"),
        StandardProblem.EYES_NOT_LEVEL: _("头部歪斜，双眼不在同一水平线上，请摆正头部后重拍"),
        StandardProblem.SHOULDERS_NOT_LEVEL: _("双肩不平，请坐正、双肩保持水平后重拍"),
        StandardProblem.JEWELRY: _("请摘下耳环、项链等饰品后重拍"),
        StandardProblem.MOUTH_OPEN: _("嘴巴张开，请自然闭合嘴唇后重拍"),
        StandardProblem.HEAVY_MAKEUP: _("妆容过浓（口红、眼影颜色过重），请淡妆或素颜重拍"),
        StandardProblem.TINTED_GLASSES: _("请勿佩戴有色眼镜或墨镜，可佩戴普通透明眼镜"),
        StandardProblem.FRAME_OVER_EYES: _("眼镜框遮挡了眼睛，请调整眼镜或换细框眼镜后重拍"),
        StandardProblem.GLASSES_REFLECTION: _("眼镜片反光，请调整角度或灯光，避免镜片反光"),
        StandardProblem.BUSY_CLOTHES: _("衣服花纹过于复杂，请换纯色衣服后重拍"),
        StandardProblem.BACKGROUND_NOT_PLAIN: _("背景不单一，请在白墙或纯色背景前重拍"),
    }[problem]


@dataclass(frozen=True)
class StandardReport:
    problems: tuple[StandardProblem, ...]
    measures: dict[str, float | None]


def _lab(region: Image) -> npt.NDArray[np.float64] | None:
    if region.size == 0:
        return None
    raw = cv2.cvtColor(np.ascontiguousarray(region), cv2.COLOR_BGR2LAB).reshape(-1, 3)
    lab: npt.NDArray[np.float64] = raw.astype(np.float64)
    # OpenCV's 8-bit Lab: L scaled by 255/100, a and b offset by 128.
    lab[:, 0] *= 100.0 / 255.0
    lab[:, 1:] -= 128.0
    return lab


def _box(image: Image, x0: float, y0: float, x1: float, y1: float) -> Image:
    height, width = image.shape[:2]
    xa, xb = sorted((int(max(0, min(width, x0))), int(max(0, min(width, x1)))))
    ya, yb = sorted((int(max(0, min(height, y0))), int(max(0, min(height, y1)))))
    return image[ya:yb, xa:xb]


def _polygon_mask(shape: tuple[int, ...], points: Points, scale: float = 1.0) -> npt.NDArray[
        np.bool_]:
    center = points[:, :2].mean(axis=0)
    polygon = (center + (points[:, :2] - center) * scale).astype(np.int32)
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [polygon], 1)
    return mask.astype(bool)


def _mean_l(image: Image, mask: npt.NDArray[np.bool_]) -> float | None:
    if not mask.any():
        return None
    lab = _lab(image[mask].reshape(-1, 1, 3))
    return None if lab is None else float(lab[:, 0].mean())


def _saturation(image: Image, mask: npt.NDArray[np.bool_]) -> float | None:
    if not mask.any():
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(image[mask].reshape(-1, 1, 3)), cv2.COLOR_BGR2HSV)
    return float(hsv[:, 0, 1].mean()) / 255.0


def _edge_density(region: Image) -> float | None:
    if region.size == 0 or min(region.shape[:2]) < 8:
        return None
    gray = cv2.cvtColor(np.ascontiguousarray(region), cv2.COLOR_BGR2GRAY)
    edges = cv2.Canny(gray, 60, 160)
    return float((edges > 0).mean())


def check_standard(image: Image, face: DetectedFace, points: Points,
                   blendshapes: dict[str, float] | None = None,
                   rules: StandardRules = StandardRules()) -> StandardReport:
    """Every rule of the table above for one photo with one face (landmarks in pixels)."""
    height, width = image.shape[:2]
    measures: dict[str, float | None] = {}
    problems: list[StandardProblem] = []
    fw, fh = face.width, face.height
    pt = points[:, :2]
    cheeks = np.zeros((height, width), bool)
    for index in (LEFT_CHEEK, RIGHT_CHEEK):
        x, y = pt[index]
        r = max(3, int(fw * 0.07))
        cheeks[max(0, int(y) - r):int(y) + r, max(0, int(x) - r):int(x) + r] = True
    cheek_l = _mean_l(image, cheeks) or 1.0
    cheek_s = _saturation(image, cheeks) or 0.0
    background = _lab(np.concatenate([
        _box(image, 0, 0, width * 0.12, height * 0.3).reshape(-1, 3),
        _box(image, width * 0.88, 0, width, height * 0.3).reshape(-1, 3)]).reshape(-1, 1, 3))
    background_mean = background.mean(axis=0) if background is not None else None

    # Head covering: the crown above the hairline is neither dark hair nor the wall.
    top_y = pt[FOREHEAD_TOP][1]
    crown = _box(image, pt[FOREHEAD_TOP][0] - fw * 0.25, top_y - fh * 0.42,
                 pt[FOREHEAD_TOP][0] + fw * 0.25, top_y - fh * 0.12)
    crown_lab = _lab(crown)
    if crown_lab is not None and background_mean is not None:
        crown_mean = crown_lab.mean(axis=0)
        chroma = float(np.hypot(crown_mean[1], crown_mean[2]))
        delta = float(np.linalg.norm(crown_mean - background_mean))
        measures.update(crown_chroma=round(chroma, 1), crown_background_delta=round(delta, 1))
        # Hair is grey-brown-black (low chroma); a coloured hat or scarf is not.
        if chroma > rules.max_crown_chroma and delta > rules.min_cover_background_delta:
            problems.append(StandardProblem.HEAD_COVERING)

    # Hair over the eyebrows: the band just above the brows is hair-dark.
    brows = pt[list(LEFT_BROW + RIGHT_BROW)]
    brow_top = float(brows[:, 1].min())
    band = np.zeros((height, width), bool)
    y0 = int(brow_top - (brow_top - top_y) * 0.45)
    band[max(0, y0):max(0, int(brow_top)), int(brows[:, 0].min()):int(brows[:, 0].max())] = True
    forehead_l = _mean_l(image, band)
    ratio = None if forehead_l is None else forehead_l / max(cheek_l, 1.0)
    measures["forehead_to_cheek"] = None if ratio is None else round(ratio, 3)
    if ratio is not None and ratio < rules.max_forehead_to_cheek:
        problems.append(StandardProblem.HAIR_OVER_BROWS)

    # Hair over the ears: the ears sit just outside the face's edge between the eye line
    # and the nose base; hair there is dark like the fringe and unlike the wall.
    if background_mean is not None:
        eye_line = float(pt[33][1] + pt[263][1]) / 2
        shares = []
        for edge, outward in ((LEFT_FACE_EDGE, -1.0), (RIGHT_FACE_EDGE, 1.0)):
            x = float(pt[edge][0])
            band_lab = _lab(_box(image, x, eye_line, x + outward * fw * 0.16, pt[NOSE_BASE][1]))
            if band_lab is None:
                continue
            hair = (band_lab[:, 0] < cheek_l * 0.6) & (
                np.linalg.norm(band_lab - background_mean, axis=1) > 25.0)
            shares.append(float(hair.mean()))
        if shares:
            measures["ear_hair_fraction"] = round(max(shares), 3)
            if max(shares) > rules.max_ear_hair_fraction:
                problems.append(StandardProblem.HAIR_OVER_EARS)

    # Eyes level (head roll).
    dx, dy = pt[263] - pt[33]
    roll = math.degrees(math.atan2(dy, dx))
    measures["roll_deg"] = round(roll, 2)
    if abs(roll) > rules.max_roll_deg:
        problems.append(StandardProblem.EYES_NOT_LEVEL)

    # Shoulders level: where the clothing starts beside the neck, left and right.
    if background_mean is not None:
        chin_y = int(pt[CHIN][1])
        tops: list[int | None] = []
        for x in (face.x - fw * 0.55, face.x + fw * 1.55):
            column = _lab(_box(image, x - 2, chin_y, x + 2, height))
            if column is None:
                tops.append(None)
                continue
            rows = column.reshape(-1, max(1, _box(image, x - 2, chin_y, x + 2, height).shape[1]),
                                  3).mean(axis=1)
            far = np.linalg.norm(rows - background_mean, axis=1) > 25.0
            tops.append(chin_y + int(np.argmax(far)) if far.any() else None)
        if tops[0] is not None and tops[1] is not None:
            offset = abs(tops[0] - tops[1]) / fh
            measures["shoulder_offset"] = round(offset, 3)
            if offset > rules.max_shoulder_offset:
                problems.append(StandardProblem.SHOULDERS_NOT_LEVEL)

    # Jewelry: metallic pixels at the ear lobes and the neck.
    lobes_and_neck = np.zeros((height, width), bool)
    for index in (LEFT_FACE_EDGE, RIGHT_FACE_EDGE):
        x, y = pt[index]
        lobes_and_neck[int(max(0, y)):int(max(0, y + fh * 0.45)),
                       int(max(0, x - fw * 0.15)):int(max(0, x + fw * 0.15))] = True
    cx, cy = pt[CHIN]
    lobes_and_neck[int(cy + fh * 0.05):int(cy + fh * 0.55),
                   int(max(0, cx - fw * 0.45)):int(max(0, cx + fw * 0.45))] = True
    if lobes_and_neck.any():
        hsv = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2HSV)[lobes_and_neck]
        gold = (hsv[:, 0] >= 12) & (hsv[:, 0] <= 35) & (hsv[:, 1] > 150) & (hsv[:, 2] > 170)
        silver = (hsv[:, 1] < 25) & (hsv[:, 2] > 248)
        fraction = float((gold | silver).mean())
        measures["jewelry_fraction"] = round(fraction, 4)
        if fraction > rules.max_jewelry_fraction:
            problems.append(StandardProblem.JEWELRY)

    # Lips closed.
    mouth_width = float(np.linalg.norm(pt[MOUTH_RIGHT] - pt[MOUTH_LEFT])) or 1.0
    gap = float(np.linalg.norm(pt[LOWER_LIP_INNER] - pt[UPPER_LIP_INNER])) / mouth_width
    jaw = (blendshapes or {}).get("jawOpen")
    measures.update(mouth_gap=round(gap, 3), jaw_open=None if jaw is None else round(jaw, 3))
    if gap > rules.max_mouth_gap or (jaw is not None and jaw > rules.max_jaw_open):
        problems.append(StandardProblem.MOUTH_OPEN)

    # Heavy make-up: lips and eyelids far more saturated than the skin.
    lips = _polygon_mask(image.shape, points[list(LIPS_OUTER)])
    lip_s = _saturation(image, lips)
    lids = np.zeros((height, width), bool)
    for eye, brow in ((LEFT_EYE, LEFT_BROW), (RIGHT_EYE, RIGHT_BROW)):
        e, b = pt[list(eye)], pt[list(brow)]
        lids[int(b[:, 1].max()):int(e[:, 1].min()), int(e[:, 0].min()):int(e[:, 0].max())] = True
    lid_s = _saturation(image, lids)
    measures.update(lip_saturation_over_skin=None if lip_s is None else round(lip_s - cheek_s, 3),
                    lid_saturation_over_skin=None if lid_s is None else round(lid_s - cheek_s, 3))
    if (lip_s is not None and lip_s - cheek_s > rules.max_lip_saturation_over_skin) or \
            (lid_s is not None and lid_s - cheek_s > rules.max_lid_saturation_over_skin):
        problems.append(StandardProblem.HEAVY_MAKEUP)

    # Glasses: tinted lenses, a frame across the eyes, reflections.
    eyes = _polygon_mask(image.shape, points[list(LEFT_EYE)], 1.8) | _polygon_mask(
        image.shape, points[list(RIGHT_EYE)], 1.8)
    eye_l = _mean_l(image, eyes)
    eye_ratio = None if eye_l is None else eye_l / max(cheek_l, 1.0)
    measures["eye_to_cheek"] = None if eye_ratio is None else round(eye_ratio, 3)
    # Hair over one eye (头发不遮挡眼睛): that eye's region is dark, the other is not.
    # Lenses darken both eyes, so this is hair, and the advice is the hair's, not glasses'.
    each_eye = [_mean_l(image, _polygon_mask(image.shape, points[list(eye)], 1.8))
                for eye in (LEFT_EYE, RIGHT_EYE)]
    one_eye_hidden = False
    if None not in each_eye:
        darker, lighter = sorted(float(v) / max(cheek_l, 1.0) for v in each_eye if v is not None)
        measures["darker_eye_to_other"] = round(darker / max(lighter, 1e-6), 3)
        one_eye_hidden = (darker < rules.min_eye_to_cheek <= lighter
                          and darker / max(lighter, 1e-6) < rules.max_darker_eye_to_other)
    if one_eye_hidden and StandardProblem.HAIR_OVER_BROWS not in problems:
        problems.append(StandardProblem.HAIR_OVER_BROWS)
    if eye_ratio is not None and eye_ratio < rules.min_eye_to_cheek and not one_eye_hidden:
        problems.append(StandardProblem.TINTED_GLASSES)
    darkest_rows = []
    for eye in (LEFT_EYE, RIGHT_EYE):
        e = pt[list(eye)]
        span = float(e[:, 0].max() - e[:, 0].min())
        middle = float(e[:, 1].mean())
        # The eye's width and a band around its height: closed-looking landmarks under a
        # rim must not shrink the box to nothing.
        box = _box(image, e[:, 0].min(), middle - span * 0.3, e[:, 0].max(), middle + span * 0.3)
        region = _lab(box)
        if region is None or box.shape[0] < 2:
            continue
        rows = region[:, 0].reshape(box.shape[0], box.shape[1])
        # A frame rim is dark across the whole width; a pupil only in the middle.
        darkest_rows.append(float(np.percentile(rows, 90, axis=1).min()))
    if darkest_rows:
        frame = max(darkest_rows) / max(cheek_l, 1.0)
        measures["frame_row_darkness"] = round(frame, 3)
        if frame < rules.max_frame_row_darkness:
            problems.append(StandardProblem.FRAME_OVER_EYES)
    if eyes.any():
        glare = float((image[eyes].min(axis=1) >= 245).mean())
        measures["eye_glare_fraction"] = round(glare, 4)
        if glare > rules.max_eye_glare_fraction:
            problems.append(StandardProblem.GLASSES_REFLECTION)

    # Clothing pattern and background.
    clothes = _box(image, face.x - fw * 0.4, pt[CHIN][1] + fh * 0.35, face.x + fw * 1.4,
                   pt[CHIN][1] + fh * 1.1)
    clothes_edges = _edge_density(clothes)
    clothes_lab = _lab(clothes)
    # A pattern is many edges AND colours that change across the garment (chroma spread);
    # seams, zips and a badge alone are edges without the spread.
    spread = None if clothes_lab is None else float(np.sqrt(
        clothes_lab[:, 1].var() + clothes_lab[:, 2].var() + clothes_lab[:, 0].var()))
    measures["clothes_edge_density"] = None if clothes_edges is None else round(clothes_edges, 4)
    measures["clothes_chroma_spread"] = None if spread is None else round(spread, 1)
    if clothes_edges is not None and spread is not None and \
            clothes_edges > rules.max_clothes_edge_density and \
            spread > rules.max_clothes_chroma_spread:
        problems.append(StandardProblem.BUSY_CLOTHES)
    sides = [_box(image, 0, 0, max(0.0, face.x - fw * 0.35), pt[CHIN][1]),
             _box(image, min(float(width), face.x + fw * 1.35), 0, width, pt[CHIN][1])]
    densities = [d for d in (_edge_density(s) for s in sides) if d is not None]
    spreads = [float(lab[:, 0].std()) for lab in (_lab(s) for s in sides) if lab is not None]
    if densities:
        measures["background_edge_density"] = round(max(densities), 4)
        measures["background_lightness_std"] = round(max(spreads), 1) if spreads else None
        if max(densities) > rules.max_background_edge_density or (
                spreads and max(spreads) > rules.max_background_lightness_std):
            problems.append(StandardProblem.BACKGROUND_NOT_PLAIN)
    return StandardReport(problems=tuple(problems), measures=measures)
