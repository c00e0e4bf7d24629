"""Quality gate before liveness: one face, centred, large enough, lit, not backlit, sharp.

Each failure maps to ONE plain instruction, checked in the order a candidate should fix
things (a person cannot see whether they are centred while the room is dark).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from client.camera.analyzer import FrameAnalysis
from client.camera.settings import CameraSettings
from client.i18n import _


class QualityIssue(StrEnum):
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    TOO_DARK = "too_dark"
    BACKLIT = "backlit"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    MOVE_LEFT = "move_left"          # towards the candidate's own left
    MOVE_RIGHT = "move_right"
    FACE_TOO_HIGH = "face_too_high"
    FACE_TOO_LOW = "face_too_low"
    BLURRY = "blurry"


def instruction(issue: QualityIssue | None) -> str:
    """The sentence shown to the candidate (directions are as the candidate sees the
    mirrored preview: "move left" means towards the candidate's own left)."""
    if issue is None:
        return _("很好，请保持不动")
    return {
        QualityIssue.NO_FACE: _("请正对摄像头，让脸出现在框内"),
        QualityIssue.MULTIPLE_FACES: _("画面中只能有你一个人，请其他人离开镜头"),
        QualityIssue.TOO_DARK: _("光线太暗，请打开灯或面向光源"),
        QualityIssue.BACKLIT: _("背后太亮（逆光），请避开身后的窗户或灯光"),
        QualityIssue.TOO_SMALL: _("请靠近摄像头一些"),
        QualityIssue.TOO_LARGE: _("请离摄像头远一些"),
        QualityIssue.MOVE_LEFT: _("请向左移动一些，让脸位于框的中间"),
        QualityIssue.MOVE_RIGHT: _("请向右移动一些，让脸位于框的中间"),
        QualityIssue.FACE_TOO_HIGH: _("请坐低一些或把摄像头向上调，让脸位于框的中间"),
        QualityIssue.FACE_TOO_LOW: _("请坐直或把摄像头向下调，让脸位于框的中间"),
        QualityIssue.BLURRY: _("画面模糊，请保持不动，必要时擦拭镜头"),
    }[issue]


@dataclass(frozen=True)
class QualityVerdict:
    issue: QualityIssue | None
    instruction: str

    @property
    def ok(self) -> bool:
        return self.issue is None


def find_issue(analysis: FrameAnalysis, settings: CameraSettings) -> QualityIssue | None:
    """The first quality problem of a frame, or None if the frame is good enough."""
    if not analysis.faces:
        # A dim room hides the face: say "light", not "face the camera". (A picture
        # without any structure is black or covered: client.camera.diagnose says so.)
        dim_scene = analysis.detail is None or analysis.detail > settings.covered_max_detail
        if analysis.brightness < settings.min_face_brightness * 0.8 and dim_scene:
            return QualityIssue.TOO_DARK
        return QualityIssue.NO_FACE
    if len(analysis.faces) > 1:
        return QualityIssue.MULTIPLE_FACES
    face = analysis.faces[0]
    face_light = analysis.face_brightness if analysis.face_brightness is not None else 0.0
    if face_light < settings.min_face_brightness:
        return QualityIssue.TOO_DARK
    background = analysis.background_brightness
    if background is not None and background - face_light > settings.max_backlight_delta:
        return QualityIssue.BACKLIT
    width_ratio = face.width / analysis.width
    if width_ratio < settings.min_face_width_ratio:
        return QualityIssue.TOO_SMALL
    if width_ratio > settings.max_face_width_ratio:
        return QualityIssue.TOO_LARGE
    center_x, center_y = face.center
    offset_x = center_x / analysis.width - 0.5
    offset_y = center_y / analysis.height - 0.5
    if abs(offset_x) > settings.max_center_offset_x:
        # Face on the image's right = the candidate's left in an unmirrored frame; the
        # preview is mirrored, so the candidate must move to their right.
        return QualityIssue.MOVE_RIGHT if offset_x > 0 else QualityIssue.MOVE_LEFT
    if abs(offset_y) > settings.max_center_offset_y:
        return QualityIssue.FACE_TOO_LOW if offset_y > 0 else QualityIssue.FACE_TOO_HIGH
    if analysis.sharpness is not None and analysis.sharpness < settings.min_sharpness:
        return QualityIssue.BLURRY
    directional = analysis.directional_sharpness
    if directional is not None and directional < settings.min_directional_sharpness:
        return QualityIssue.BLURRY     # motion blur: the weaker direction has no detail
    return None


def assess(analysis: FrameAnalysis, settings: CameraSettings) -> QualityVerdict:
    issue = find_issue(analysis, settings)
    return QualityVerdict(issue=issue, instruction=instruction(issue))
