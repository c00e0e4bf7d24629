"""Evidence photo (水印照片) for an entry approved by the proctor.

The photo carries, burnt into the pixels, the exam time, the center and room, the
candidate id and the time it was taken: a bottom band with the full text and a faint
diagonal line of the ids across the picture, so that cropping the band off does not
make the photo reusable.

cv2.putText draws ASCII only, and the opencv-contrib-python wheel is built without the
``cv2.freetype`` module (checked on 4.14), so Chinese text is drawn with Pillow and a CJK
font (Pillow is already installed with mediapipe via matplotlib). Without Pillow or a
CJK font the watermark falls back to ASCII fields (codes, ids, times) and says so in
``EvidencePhoto.cjk_rendered``.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from client.camera.analyzer import encode_jpeg
from client.resources import resource_path

if TYPE_CHECKING:
    from client.camera.analyzer import Image

log = logging.getLogger(__name__)

_SYSTEM_CJK_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc"),
    Path("C:/Windows/Fonts/msyh.ttc"),
    Path("C:/Windows/Fonts/simhei.ttf"),
    Path("C:/Windows/Fonts/simsun.ttc"),
)


@dataclass(frozen=True)
class WatermarkInfo:
    exam_time: str          # e.g. "2026-06-01 09:00-11:00"
    center_id: str          # platform code, ASCII
    center_name: str        # e.g. "北京市第一中学考点"
    room: str               # e.g. "第03考场"
    candidate_id: str       # student number or ID number
    taken_at: str           # server-clock time the photo was taken

    def lines(self) -> list[str]:
        # Always Chinese, whatever the UI language: the reviewers are the exam staff.
        return [
            f"考试时间 {self.exam_time}",
            f"考点 {self.center_name}（{self.center_id}） 考场 {self.room}",
            f"考生 {self.candidate_id}  拍摄 {self.taken_at}  监考核验",
        ]

    def ascii_lines(self) -> list[str]:
        room = self.room if self.room.isascii() else ""
        return [
            f"EXAM {self.exam_time}",
            f"CENTER {self.center_id} ROOM {room}".rstrip(),
            f"CANDIDATE {self.candidate_id}  TAKEN {self.taken_at}  PROCTOR CHECK",
        ]


@dataclass(frozen=True)
class EvidencePhoto:
    jpeg: bytes
    cjk_rendered: bool


def find_cjk_font(explicit: Path | None = None) -> Path | None:
    """The font to draw Chinese with: *explicit*, the shipped resources/fonts/, a system one."""
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(explicit)
    fonts_dir = resource_path("fonts")
    if fonts_dir.is_dir():
        candidates += sorted(
            path for path in fonts_dir.iterdir()
            if path.suffix.lower() in (".ttf", ".otf", ".ttc")
        )
    if sys.platform == "win32" or sys.platform.startswith("linux"):
        candidates += list(_SYSTEM_CJK_FONTS)
    return next((path for path in candidates if path.is_file()), None)


def _draw_band_pillow(image: Image, lines: list[str], font_path: Path) -> Image | None:
    try:
        from PIL import Image as PILImage
        from PIL import ImageDraw, ImageFont
    except ImportError:
        return None
    height, width = image.shape[:2]
    size = max(12, width // 36)
    try:
        font = load_font(ImageFont, font_path, size)
    except OSError as exc:
        log.warning("watermark font %s unusable: %s", font_path, exc)
        return None
    # A long line (a center's full address) would run off the right edge and lose the
    # end of the evidence: the font shrinks until the widest line fits.
    widest = max((font.getlength(line) for line in lines), default=0.0)
    if widest > width - size:
        fitted = max(8, int(size * (width - size) / widest))
        try:
            font, size = load_font(ImageFont, font_path, fitted), fitted
        except OSError as exc:
            log.warning("watermark font %s unusable: %s", font_path, exc)
            return None
    rgb = PILImage.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(rgb)
    line_height = int(size * 1.35)
    top = height - line_height * len(lines) - size // 2
    for index, line in enumerate(lines):
        draw.text((size // 2, top + index * line_height), line, font=font,
                  fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
    return cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)  # type: ignore[return-value]


def load_font(image_font: Any, font_path: Path, size: int) -> Any:
    """Open *font_path*; in a collection (.ttc) prefer the Simplified Chinese face."""
    truetype = image_font.truetype
    if font_path.suffix.lower() != ".ttc":
        return truetype(str(font_path), size)
    first = truetype(str(font_path), size, index=0)
    for index in range(1, 12):
        try:
            face = truetype(str(font_path), size, index=index)
        except OSError:
            break
        family = str(face.getname()[0])
        if family.endswith(" SC") or "SimSun" in family or "YaHei" in family:
            return face
    return first


def _draw_band_ascii(image: Image, lines: list[str]) -> Image:
    height, width = image.shape[:2]
    scale = max(0.4, width / 1400)
    line_height = int(28 * scale / 0.5)
    top = height - line_height * len(lines)
    for index, line in enumerate(lines):
        origin = (8, top + index * line_height + int(line_height * 0.75))
        cv2.putText(image, line, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3,
                    cv2.LINE_AA)
        cv2.putText(image, line, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return image


def _draw_diagonal(image: Image, text: str) -> Image:
    """A faint line of ASCII ids across the picture (Hershey fonts, rotated by warp)."""
    height, width = image.shape[:2]
    layer = np.zeros_like(image)
    diagonal = int(np.hypot(width, height))
    canvas = np.zeros((diagonal, diagonal, 3), np.uint8)
    scale = max(0.5, width / 900)
    for row in range(diagonal // 6, diagonal, diagonal // 3):
        cv2.putText(canvas, (text + "   ") * 4, (0, row), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    rotation = cv2.getRotationMatrix2D((diagonal / 2, diagonal / 2), 30, 1.0)
    rotation[0, 2] -= (diagonal - width) / 2
    rotation[1, 2] -= (diagonal - height) / 2
    layer = cv2.warpAffine(canvas, rotation, (width, height))  # type: ignore[assignment]
    blended = cv2.addWeighted(image, 1.0, layer, 0.25, 0)
    return blended  # type: ignore[return-value]


def watermark(
    image: Image, info: WatermarkInfo, *, font_path: Path | None = None
) -> tuple[Image, bool]:
    """A watermarked copy of *image* and whether the Chinese text could be drawn."""
    marked = _draw_diagonal(image.copy(), f"{info.candidate_id} {info.center_id} {info.taken_at}")
    font = find_cjk_font(font_path)
    if font is not None:
        drawn = _draw_band_pillow(marked, info.lines(), font)
        if drawn is not None:
            return drawn, True
    log.warning("no CJK font or Pillow: evidence watermark drawn in ASCII only")
    return _draw_band_ascii(marked, info.ascii_lines()), False


def evidence_photo(
    image: Image, info: WatermarkInfo, *, font_path: Path | None = None
) -> EvidencePhoto:
    """The watermarked evidence photo as JPEG bytes (store it encrypted, queue it)."""
    marked, cjk = watermark(image, info, font_path=font_path)
    return EvidencePhoto(jpeg=encode_jpeg(marked, quality=90), cjk_rendered=cjk)
