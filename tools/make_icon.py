"""Draw the program icon, resources/icons/exam-client.ico: ``python tools/make_icon.py``.

A blue rounded square with 考 in the bundled CJK font, at the sizes Windows picks from for
shortcuts, the taskbar, Explorer and Settings -> Apps (16 to 256 px). build.spec gives it
to ExamClient.exe, client/ui/program_icon.py to every window, installer/exam-client.nsi to
the installer, the uninstaller and the shortcuts. Drawn by a script so it can be remade,
not edited by hand.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "resources" / "icons" / "exam-client.ico"
SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
BLUE = (21, 101, 192, 255)


def draw(size: int = 256) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    canvas = ImageDraw.Draw(image)
    canvas.rounded_rectangle((8, 8, size - 8, size - 8), radius=size // 6, fill=BLUE)
    font_file = next((ROOT / "resources" / "fonts").glob("*.otf"))
    font = ImageFont.truetype(str(font_file), int(size * 0.62))
    canvas.text((size / 2, size / 2), "考", font=font, fill="white", anchor="mm")
    return image


def main() -> None:
    draw().save(TARGET, format="ICO", sizes=SIZES)
    print(f"{TARGET} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
