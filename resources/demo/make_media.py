"""Regenerate the media files of the demo paper (resources/demo/paper/).

    python resources/demo/make_media.py

Needs, on Debian: ``apt-get install -y fonts-noto-cjk espeak-ng sox`` and, in the venv,
``pip install pillow`` (a development dependency: the client and the server never import
Pillow). Writes chart.png (a bar chart labelled in Chinese) and listen1.wav (a spoken
announcement in Mandarin, 16 kHz mono 16-bit). See resources/demo/README.md.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

PAPER_DIR = Path(__file__).resolve().parent / "paper"
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_INDEX = 2  # the .ttc holds JP, KR, SC, TC, HK faces; index 2 is Noto Sans CJK SC

CHART_TITLE = "某校各年级参加模拟考试人数"
CHART_BARS = (("一年级", 120), ("二年级", 95), ("三年级", 150))
CHART_UNIT = "人数（人）"

ANNOUNCEMENT = "本次考试上午九点开始，请提前入场。"
VOICE = "cmn"
WORDS_PER_MINUTE = 180  # espeak-ng -s: keeps the clip between 3 and 6 seconds
SAMPLE_RATE = 16_000


def make_chart(path: Path) -> None:
    width, height = 480, 300
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.truetype(str(FONT), 20, index=FONT_INDEX)
    label_font = ImageFont.truetype(str(FONT), 16, index=FONT_INDEX)
    draw.text((width // 2, 18), CHART_TITLE, font=title_font, fill="black", anchor="mt")
    left, bottom, top = 70, height - 45, 60
    draw.line((left, top, left, bottom), fill="black", width=2)
    draw.line((left, bottom, width - 20, bottom), fill="black", width=2)
    draw.text((12, top - 8), CHART_UNIT, font=label_font, fill="black", anchor="lb")
    scale = (bottom - top - 20) / max(value for _label, value in CHART_BARS)
    bar_width, gap = 80, 50
    for index, (label, value) in enumerate(CHART_BARS):
        x0 = left + gap + index * (bar_width + gap)
        y0 = bottom - round(value * scale)
        draw.rectangle((x0, y0, x0 + bar_width, bottom - 1), fill=(46, 117, 182))
        draw.text((x0 + bar_width // 2, y0 - 4), str(value), font=label_font, fill="black",
                  anchor="mb")
        draw.text((x0 + bar_width // 2, bottom + 8), label, font=label_font, fill="black",
                  anchor="mt")
    # 16 colours are plenty for a flat chart and keep the file a few KB.
    image.quantize(colors=16).save(path, optimize=True)


def make_announcement(path: Path) -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install -y espeak-ng sox")
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", str(raw),
                        ANNOUNCEMENT], check=True)
        subprocess.run(["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
                        str(path)], check=True)
    with wave.open(str(path), "rb") as clip:
        seconds = clip.getnframes() / clip.getframerate()
    if not 3.0 <= seconds <= 6.0:
        sys.exit(f"{path.name} is {seconds:.1f} s; adjust WORDS_PER_MINUTE")


def main() -> None:
    if not FONT.exists():
        sys.exit(f"{FONT} not found: apt-get install -y fonts-noto-cjk")
    make_chart(PAPER_DIR / "chart.png")
    make_announcement(PAPER_DIR / "listen1.wav")
    for name in ("chart.png", "listen1.wav"):
        print(f"{name}: {(PAPER_DIR / name).stat().st_size} bytes")


if __name__ == "__main__":
    main()
