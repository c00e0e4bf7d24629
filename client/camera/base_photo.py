"""Checks a base photo (底照) against the collection rules, before any exam needs it.

The rules (domain notes, the platform's collection guidance): one face, head centred,
eyes open, even light without glare or backlight, clothing that contrasts with the
background, enough resolution and sharpness. With ``full_standard`` the rest of the
standard is checked too (client/camera/photo_standard.py: head covering, hair over the
eyebrows and the ears, eyes and shoulders level, jewelry, lips closed, make-up, glasses, clothing
pattern, plain background). Used by ``exam-server check-photos`` (server/photo_check.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from client.camera.analyzer import DetectedFace, FaceAnalyzer, Image, decode_image, face_sharpness
from client.camera.signals import face_signals
from client.i18n import _


@dataclass(frozen=True)
class PhotoRules:
    min_side_px: int = 240
    min_face_px: int = 80                 # SFace aligns faces to 112 px
    min_face_width_ratio: float = 0.15
    max_face_width_ratio: float = 0.85
    max_center_offset_x: float = 0.15     # face centre offset / image width
    min_center_y: float = 0.20            # face centre height / image height
    max_center_y: float = 0.65
    max_abs_yaw: float = 0.15             # nose offset between the eyes (frontal ~0)
    min_ear: float = 0.18                 # open eyes measure ~0.3
    min_face_brightness: float = 60.0
    max_backlight_delta: float = 60.0
    min_side_light_ratio: float = 0.65    # darker half / brighter half of the face
    max_glare_fraction: float = 0.02      # face pixels at 250+ in every channel
    min_background_contrast: float = 20.0 # CIE76 ΔE between background and clothing
    min_sharpness: float = 18.0


class PhotoProblem(StrEnum):
    UNREADABLE = "unreadable"
    LOW_RESOLUTION = "low_resolution"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    FACE_TOO_LARGE = "face_too_large"
    NOT_CENTERED = "not_centered"
    NOT_FRONTAL = "not_frontal"
    FEATURES_UNCLEAR = "features_unclear"
    EYES_CLOSED = "eyes_closed"
    TOO_DARK = "too_dark"
    BACKLIT = "backlit"
    UNEVEN_LIGHT = "uneven_light"
    GLARE = "glare"
    LOW_BACKGROUND_CONTRAST = "low_background_contrast"
    BLURRY = "blurry"
    # The rest of the standard (client/camera/photo_standard.py StandardProblem).
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


def problem_text(problem: PhotoProblem) -> str:
    from client.camera.photo_standard import StandardProblem, standard_problem_text

    if problem.value in {p.value for p in StandardProblem}:
        return standard_problem_text(StandardProblem(problem.value))
    return {
        PhotoProblem.UNREADABLE: _("文件不是可读取的图片"),
        PhotoProblem.LOW_RESOLUTION: _("分辨率太低"),
        PhotoProblem.NO_FACE: _("没有检测到人脸"),
        PhotoProblem.MULTIPLE_FACES: _("照片中有多张人脸"),
        PhotoProblem.FACE_TOO_SMALL: _("人脸太小"),
        PhotoProblem.FACE_TOO_LARGE: _("人脸太大，头部不完整"),
        PhotoProblem.NOT_CENTERED: _("头部没有居中"),
        PhotoProblem.NOT_FRONTAL: _("不是正脸"),
        PhotoProblem.FEATURES_UNCLEAR: _("看不清五官（侧脸、遮挡或模糊）"),
        PhotoProblem.EYES_CLOSED: _("眼睛没有睁开"),
        PhotoProblem.TOO_DARK: _("脸部太暗"),
        PhotoProblem.BACKLIT: _("逆光，背景比脸亮得多"),
        PhotoProblem.UNEVEN_LIGHT: _("脸部光线不均匀（一侧明显偏暗）"),
        PhotoProblem.GLARE: _("脸部有反光"),
        PhotoProblem.LOW_BACKGROUND_CONTRAST: _("衣服与背景颜色太接近"),
        PhotoProblem.BLURRY: _("照片模糊"),
    }[problem]


@dataclass(frozen=True)
class PhotoReport:
    problems: tuple[PhotoProblem, ...]
    measures: dict[str, float | int | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _mean_lab(image: Image, y0: int, y1: int, x0: int, x1: int) -> np.ndarray | None:
    region = image[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)]
    if region.size == 0:
        return None
    lab = cv2.cvtColor(region, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float64)
    # OpenCV's 8-bit Lab: L scaled by 255/100, a and b offset by 128.
    mean = lab.mean(axis=0)
    return np.array([mean[0] * 100.0 / 255.0, mean[1] - 128.0, mean[2] - 128.0])


def background_contrast(image: Image, face: DetectedFace) -> float | None:
    """ΔE between the background beside the head and the clothing below the face."""
    height, width = image.shape[:2]
    bottom = int(face.y + face.height)
    strip = max(4, int(width * 0.12))
    left = _mean_lab(image, 0, bottom, 0, strip)
    right = _mean_lab(image, 0, bottom, width - strip, width)
    margin = int(face.width * 0.5)
    below = _mean_lab(image, bottom + int(face.height * 0.25), height,
                      int(face.x) - margin, int(face.x + face.width) + margin)
    if below is None or (left is None and right is None):
        return None
    backgrounds = [lab for lab in (left, right) if lab is not None]
    return float(min(np.linalg.norm(lab - below) for lab in backgrounds))


def check_base_photo(
    data: bytes, analyzer: FaceAnalyzer, rules: PhotoRules = PhotoRules(), *,
    full_standard: bool = False,
) -> PhotoReport:
    """Every problem of one base photo (*analyzer* may be in IMAGE or VIDEO mode)."""
    image = decode_image(data)
    if image is None:
        return PhotoReport(problems=(PhotoProblem.UNREADABLE,))
    return check_base_image(image, analyzer, rules, full_standard=full_standard)


def check_base_image(
    image: Image, analyzer: FaceAnalyzer, rules: PhotoRules = PhotoRules(), *,
    full_standard: bool = False,
) -> PhotoReport:
    height, width = image.shape[:2]
    measures: dict[str, float | int | None] = {"width": width, "height": height}
    problems: list[PhotoProblem] = []
    if min(width, height) < rules.min_side_px:
        problems.append(PhotoProblem.LOW_RESOLUTION)
    faces = analyzer.detect(image)
    measures["face_count"] = len(faces)
    if not faces:
        return PhotoReport(problems=(*problems, PhotoProblem.NO_FACE), measures=measures)
    if len(faces) > 1:
        return PhotoReport(problems=(*problems, PhotoProblem.MULTIPLE_FACES), measures=measures)
    face = faces[0]
    measures["face_width"] = round(face.width)
    if face.width < rules.min_face_px or face.width / width < rules.min_face_width_ratio:
        problems.append(PhotoProblem.FACE_TOO_SMALL)
    elif face.width / width > rules.max_face_width_ratio:
        problems.append(PhotoProblem.FACE_TOO_LARGE)
    center_x, center_y = face.center
    measures["center_x"] = round(center_x / width, 3)
    measures["center_y"] = round(center_y / height, 3)
    if (
        abs(center_x / width - 0.5) > rules.max_center_offset_x
        or not rules.min_center_y <= center_y / height <= rules.max_center_y
    ):
        problems.append(PhotoProblem.NOT_CENTERED)

    measures["yaw"] = round(face.frontal_yaw, 3)
    if abs(face.frontal_yaw) > rules.max_abs_yaw:
        problems.append(PhotoProblem.NOT_FRONTAL)
    found = analyzer.face_landmarks(image, t_ms=0)
    points = None if found is None else found[0]
    ear = face_signals(points).ear if points is not None else None
    measures["eye_aspect_ratio"] = None if ear is None else round(ear, 3)
    if ear is None:
        problems.append(PhotoProblem.FEATURES_UNCLEAR)
    elif ear < rules.min_ear:
        problems.append(PhotoProblem.EYES_CLOSED)

    gray: Image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)  # type: ignore[assignment]
    x0, y0 = max(int(face.x), 0), max(int(face.y), 0)
    x1, y1 = min(int(face.x + face.width), width), min(int(face.y + face.height), height)
    face_gray = gray[y0:y1, x0:x1]
    face_light = float(face_gray.mean()) if face_gray.size else 0.0
    outside = np.ones_like(gray, dtype=bool)
    outside[y0:y1, x0:x1] = False
    background_light = float(gray[outside].mean()) if outside.any() else face_light
    middle = face_gray.shape[1] // 2
    halves = (float(face_gray[:, :middle].mean()), float(face_gray[:, middle:].mean()))
    side_ratio = min(halves) / max(max(halves), 1.0)
    face_bgr = image[y0:y1, x0:x1]
    glare = float((face_bgr.min(axis=2) >= 250).mean()) if face_bgr.size else 0.0
    sharpness = face_sharpness(gray, face)
    contrast = background_contrast(image, face)
    measures.update(
        face_brightness=round(face_light, 1),
        background_brightness=round(background_light, 1),
        side_light_ratio=round(side_ratio, 3),
        glare_fraction=round(glare, 4),
        sharpness=round(sharpness, 1),
        background_contrast=None if contrast is None else round(contrast, 1),
    )
    if face_light < rules.min_face_brightness:
        problems.append(PhotoProblem.TOO_DARK)
    if background_light - face_light > rules.max_backlight_delta:
        problems.append(PhotoProblem.BACKLIT)
    if side_ratio < rules.min_side_light_ratio:
        problems.append(PhotoProblem.UNEVEN_LIGHT)
    if glare > rules.max_glare_fraction:
        problems.append(PhotoProblem.GLARE)
    if contrast is not None and contrast < rules.min_background_contrast:
        problems.append(PhotoProblem.LOW_BACKGROUND_CONTRAST)
    if sharpness < rules.min_sharpness:
        problems.append(PhotoProblem.BLURRY)
    if full_standard and found is not None:
        from client.camera.photo_standard import check_standard

        standard = check_standard(image, face, found[0], found[2])
        problems.extend(PhotoProblem(p.value) for p in standard.problems)
        measures.update(standard.measures)
    return PhotoReport(problems=tuple(problems), measures=measures)
