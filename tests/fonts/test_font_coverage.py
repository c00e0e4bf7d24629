import contextlib
import hashlib
import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontInfo, QImage, QPainter

from client.resources import resource_path
from client.ui import fonts

RARE = "𠮷堃赟喆昇犇龘䶮玥珺翀彧昉珏晔镕堉淼焱垚鑫劼旻曌嫚砼"
FONT = resource_path("fonts", "ExamClientCJKSC-Regular.otf")

pytestmark = pytest.mark.qt


@pytest.fixture(scope="module")
def family(qapp):
    families = fonts.register_shipped_fonts()
    assert families == [fonts.FAMILY]
    return families[0]


def gb2312_hanzi():
    chars = []
    for lead in range(0xB0, 0xF8):
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.append(bytes((lead, trail)).decode("gb2312"))
    return chars


def test_rare_name_characters_are_in_the_shipped_font(family):
    assert fonts.missing_characters(RARE, family=family) == []


def test_all_gb2312_hanzi_and_question_symbols_are_covered(family):
    hanzi = gb2312_hanzi()
    assert len(hanzi) == 6763
    assert fonts.missing_characters(hanzi, family=family) == []
    symbols = "，。、；：？！“”‘’（）《》【】…—①②③ⅠⅡⅢ≤≥≠±×÷√∠△○□√℃αβπΩ→āáǎà"
    assert fonts.missing_characters(symbols, family=family) == []


def test_a_character_outside_the_subset_is_reported(family):
    # Hangul is deliberately not shipped: the check must be able to fail.
    assert fonts.missing_characters("가堃", family=family) == ["가"]


def render(text, family):
    img = QImage(64, 64, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    font = QFont(family, 36)
    font.setStyleStrategy(QFont.StyleStrategy.NoFontMerging)  # no system fallback
    painter = QPainter(img)
    painter.setFont(font)
    painter.setPen(QColor("black"))
    painter.drawText(img.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return img


def test_rare_characters_render_as_their_own_glyphs(family):
    images = {ch: render(ch, family) for ch in RARE[:8]}
    white = render(" ", family)
    for ch, img in images.items():
        assert img != white, f"{ch} rendered nothing"
    # Distinct glyphs, not one "missing glyph" box repeated.
    as_bytes = {bytes(img.constBits()) for img in images.values()}
    assert len(as_bytes) == len(images)


def test_application_font_uses_the_shipped_family_first(family, qapp):
    before = qapp.font()
    try:
        font = fonts.install_application_font(qapp, family=family)
        assert font.families()[0] == family
        assert qapp.font().families()[0] == family
        # Rich text naming a family this PC lacks gets the shipped font, not a box.
        assert "SimSun" not in QFontDatabase.families()
        assert QFontInfo(QFont("SimSun", 12)).family() == family
    finally:
        qapp.setFont(before)
        for name in fonts.SUBSTITUTED_FAMILIES:
            QFont.removeSubstitutions(name)


def test_font_file_matches_its_provenance_and_budget():
    provenance = resource_path("fonts", "PROVENANCE.md").read_text(encoding="utf-8")
    recorded = re.search(r"subset SHA-256 \| `([0-9a-f]{64})`", provenance)
    assert recorded is not None
    assert hashlib.sha256(FONT.read_bytes()).hexdigest() == recorded.group(1)
    assert FONT.stat().st_size < 10 * 1024 * 1024
    assert "SIL OPEN FONT LICENSE Version 1.1" in provenance
