"""Build resources/fonts/ExamClientCJKSC-Regular.otf, the CJK font the client ships.

Why ship a font: lab PCs with stripped-down Windows images lack CJK fonts or rare
ideographs, and questions or candidate names then show empty boxes (试题中部分文字缺失).
The fix used to be copying a font into C:\\Windows\\Fonts by hand.

Source: the Simplified Chinese face (index 2, "Noto Sans CJK SC") of Debian's
fonts-noto-cjk NotoSansCJK-Regular.ttc (SIL OFL 1.1). Subset with fontTools' subsetter
(the library behind pyftsubset) to:

* GB 18030 implementation level 1: every character of the GBK two-byte set (all of
  GB 2312 + the 20 902 CJK Unified Ideographs U+4E00..U+9FA5 + symbols), CJK Unified
  Ideographs Extension A (U+3400..U+4DBF) and the rest of the URO (U+9FA6..U+9FFF);
* GB 18030 level 2 adds 196 supplementary-plane ideographs of 通用规范汉字表. That list is
  not derivable from the Python standard library, so every supplementary-plane ideograph
  the source face has is kept (2 365 code points in Noto Sans CJK SC 2.004, a superset of
  what the face can offer for level 2), plus the CJK Compatibility Ideographs;
* Latin (Basic Latin, Latin-1, Latin Extended-A incl. pinyin tone letters), Greek and
  Cyrillic, general punctuation, CJK symbols and punctuation, full-width forms, number
  forms, enclosed alphanumerics, arrows and mathematical operators used in questions;
* the rare name characters listed in RARE_NAME_CHARACTERS (tests/fonts checks them).

Size (8.8 MB): hints are kept (small CJK text on Windows needs them). Only the default
horizontal features (ccmp, kern) are kept. The decisive one is ``locl``: in this face its
lookups map to the Japanese, Korean and Traditional Chinese glyph forms, and keeping it
pulls thousands of those glyphs into the subset (over 10 MB). Vertical metrics are dropped
(the client never sets text vertically) and the CFF table is re-subroutinized with
cffsubr (AFDKO's tx, shipped in its wheel).

The family is renamed ("ExamClient CJK SC") so that the subset can never shadow a full
Noto Sans CJK SC installed on the PC, and Qt picks exactly the file we registered.
WOFF2 is not used: Qt's font database does not load WOFF2 on every platform; this is a
plain CFF-flavoured OpenType file.

Usage:  python tools/make_font_subset.py [--source PATH] [--out PATH]
Needs:  pip install fonttools cffsubr ; apt-get install fonts-noto-cjk
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import cffsubr
from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

DEFAULT_SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_FACE_NAME = "Noto Sans CJK SC"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "resources" / "fonts" / (
    "ExamClientCJKSC-Regular.otf"
)
FAMILY = "ExamClient CJK SC"
POSTSCRIPT_NAME = "ExamClientCJKSC-Regular"
SIZE_LIMIT_BYTES = 10 * 1024 * 1024

# Characters seen in candidate names and question text that bare Windows images miss.
RARE_NAME_CHARACTERS = "𠮷堃赟喆昇犇龘䶮玥珺翀彧昉珏晔镕堉淼焱垚鑫劼旻曌嫚砼"

# Non-ideograph blocks kept whole (inclusive ranges).
KEPT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x0100, 0x017F),  # Latin Extended-A (pinyin ā á ǎ à ...)
    (0x01CD, 0x01DC),  # pinyin ǎ ǐ ǒ ǔ ǖ ǘ ǚ ǜ
    (0x0250, 0x02FF),  # IPA extensions, spacing modifiers (ɑ ɡ ˇ ˉ)
    (0x0370, 0x03FF),  # Greek (α β π in maths and physics)
    (0x0400, 0x045F),  # Cyrillic (part of GB 2312)
    (0x2000, 0x206F),  # General Punctuation
    (0x2070, 0x209F),  # superscripts and subscripts
    (0x20A0, 0x20CF),  # currency
    (0x2100, 0x214F),  # letterlike symbols (℃ №)
    (0x2150, 0x218F),  # number forms (Ⅰ Ⅱ ⅰ)
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators
    (0x2300, 0x23FF),  # miscellaneous technical (⌒ ⏎)
    (0x2460, 0x24FF),  # enclosed alphanumerics (① ⑴ ⒈)
    (0x2500, 0x257F),  # box drawing (GB 2312)
    (0x25A0, 0x25FF),  # geometric shapes (□ ○ △ for answer marks)
    (0x2600, 0x26FF),  # miscellaneous symbols (★ ☆)
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0x3040, 0x30FF),  # kana (part of GB 2312)
    (0x3100, 0x312F),  # Bopomofo (注音, in GB 2312)
    (0x31C0, 0x31EF),  # CJK strokes
    (0x3200, 0x32FF),  # enclosed CJK (㈠ ㊣)
    (0x3300, 0x33FF),  # CJK compatibility (㎡ ㎏)
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs (URO)
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # Halfwidth and Fullwidth Forms
    (0x20000, 0x3FFFF),  # supplementary ideographs: Extensions B..H, compatibility supplement
)


def gbk_characters() -> set[int]:
    """Every character of the GBK two-byte area (a superset of GB 2312), via Python's codec."""
    found: set[int] = set()
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            if trail == 0x7F:
                continue
            try:
                text = bytes((lead, trail)).decode("gbk")
            except UnicodeDecodeError:
                continue
            found.update(ord(ch) for ch in text)
    return found


def expand(ranges: Iterable[tuple[int, int]]) -> Iterator[int]:
    for first, last in ranges:
        yield from range(first, last + 1)


def wanted_codepoints(available: set[int]) -> set[int]:
    wanted = gbk_characters() | set(expand(KEPT_RANGES)) | {ord(c) for c in RARE_NAME_CHARACTERS}
    return wanted & available


def load_face(source: Path, face_name: str) -> TTFont:
    collection = TTCollection(str(source))
    for face in collection.fonts:
        if face["name"].getDebugName(4) == face_name:
            return face
    raise SystemExit(f"{source} has no face named {face_name!r}")


def rename(font: TTFont) -> None:
    """Give the subset its own family so it never shadows an installed full font."""
    table = font["name"]
    for record in table.names:
        if record.nameID in (1, 16):
            table.setName(FAMILY, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 4:
            table.setName(FAMILY, 4, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            table.setName(POSTSCRIPT_NAME, 6, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 3:
            table.setName(
                f"{POSTSCRIPT_NAME};subset of NotoSansCJKsc-Regular 2.004",
                3, record.platformID, record.platEncID, record.langID,
            )
    cff = font["CFF "].cff
    cff.fontNames = [POSTSCRIPT_NAME]
    top = cff.topDictIndex[0]
    top.FullName = FAMILY
    top.FamilyName = FAMILY


def build(source: Path, out: Path) -> tuple[int, int]:
    face = load_face(source, SOURCE_FACE_NAME)
    codepoints = wanted_codepoints(set(face.getBestCmap()))
    options = subset.Options()
    # Keep only the features Qt/HarfBuzz apply by default to horizontal text (ccmp, kern).
    # locl is not needed: the SC face's default glyphs already are the SC forms; halt/palt
    # are off unless asked for. Each dropped feature keeps the file under 10 MB.
    options.layout_features = ["ccmp", "kern"]
    options.drop_tables += ["vhea", "vmtx", "VORG"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_bounds = True
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(face)
    rename(face)
    cffsubr.subroutinize(face)
    out.parent.mkdir(parents=True, exist_ok=True)
    face.flavor = None
    face.save(str(out))
    return len(codepoints), out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    count, size = build(args.source, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    source_digest = hashlib.sha256(args.source.read_bytes()).hexdigest()
    print(f"{args.out}: {count} code points, {size} bytes")
    print(f"sha256 {digest}")
    print(f"source {args.source} sha256 {source_digest}")
    if size > SIZE_LIMIT_BYTES:
        print(f"subset is larger than {SIZE_LIMIT_BYTES} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
