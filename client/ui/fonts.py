"""Register the shipped CJK font and make it the application font.

Bare or stripped Windows images miss CJK fonts or rare ideographs, so questions and names
showed empty boxes (试题中部分文字缺失). The client ships resources/fonts/
ExamClientCJKSC-Regular.otf (a subset of Noto Sans CJK SC, see resources/fonts/
PROVENANCE.md), registers it for this process only (nothing is installed into
C:\\Windows\\Fonts) and puts it first in the application font's family list, so every
widget renders the same glyphs on every PC; families named in rich text that the PC lacks
are substituted with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase, QRawFont
from PySide6.QtWidgets import QApplication

from client.resources import resource_path

log = logging.getLogger(__name__)

FONT_FILES = ("ExamClientCJKSC-Regular.otf",)
FAMILY = "ExamClient CJK SC"
# Families question authors and old clients name; if the PC lacks them, use ours.
SUBSTITUTED_FAMILIES = (
    "SimSun", "宋体", "NSimSun", "SimHei", "黑体", "Microsoft YaHei", "微软雅黑",
    "Microsoft YaHei UI", "KaiTi", "楷体", "FangSong", "仿宋", "PingFang SC",
    "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
)


def register_shipped_fonts(*, directory: Path | None = None) -> list[str]:
    """Add the shipped font files to Qt's font database; return the families they provide."""
    folder = directory if directory is not None else resource_path("fonts")
    families: list[str] = []
    for name in FONT_FILES:
        path = folder / name
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            # Not fatal: system fonts still render most text. Logged for diagnostics.
            log.error("cannot load shipped font %s", path)
            continue
        families += QFontDatabase.applicationFontFamilies(font_id)
    return families


def install_application_font(app: QApplication, *, family: str = FAMILY,
                             point_size: float | None = None) -> QFont:
    """Make *family* the first family of the application font and the substitute for
    common Chinese families the PC may lack."""
    font = QFont(app.font())
    font.setFamilies([family, *[f for f in font.families() if f != family]])
    if point_size is not None:
        font.setPointSizeF(point_size)
    app.setFont(font)
    installed = set(QFontDatabase.families())
    for name in SUBSTITUTED_FAMILIES:
        if name not in installed:
            QFont.insertSubstitution(name, family)
    return font


def setup_fonts(app: QApplication) -> list[str]:
    """register_shipped_fonts + install_application_font; returns the registered families."""
    families = register_shipped_fonts()
    if FAMILY in families:
        install_application_font(app, family=FAMILY)
    else:
        log.error("shipped font family %r not available; using system fonts", FAMILY)
    return families


def missing_characters(text: Iterable[str], *, family: str = FAMILY) -> list[str]:
    """Characters of *text* that *family* itself has no glyph for (no fallback counted)."""
    font = QFont(family)
    font.setStyleStrategy(QFont.StyleStrategy.NoFontMerging)
    raw = QRawFont.fromFont(font)
    if not raw.isValid() or raw.familyName() != family:
        return sorted(set(text))
    missing: list[str] = []
    for ch in dict.fromkeys(text):
        if ch.isspace():
            continue
        if not raw.supportsCharacter(ord(ch)):
            missing.append(ch)
    return missing
