"""Media files inside a paper: their names, kinds, and a cheap check of their contents.

Checking the first bytes at import time catches the "missing image" / "audio does not
play" problems in the exam center's rehearsal instead of during the exam.
"""

from __future__ import annotations

import re
from enum import StrEnum

# Flat names only: they become zip members "media/NAME" and Qt resource URLs "media:NAME".
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class MediaKind(StrEnum):
    IMAGE = "image"
    AUDIO = "audio"


_EXTENSIONS: dict[str, MediaKind] = {
    ".png": MediaKind.IMAGE,
    ".jpg": MediaKind.IMAGE,
    ".jpeg": MediaKind.IMAGE,
    ".gif": MediaKind.IMAGE,
    ".wav": MediaKind.AUDIO,
    ".mp3": MediaKind.AUDIO,
}
# Already compressed: storing them in the package zip is faster and no larger.
COMPRESSED_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".mp3"})


def is_valid_media_name(name: str) -> bool:
    return bool(_NAME.match(name)) and ".." not in name and media_kind(name) is not None


def media_kind(name: str) -> MediaKind | None:
    dot = name.rfind(".")
    return _EXTENSIONS.get(name[dot:].lower()) if dot > 0 else None


def extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def content_matches_name(name: str, data: bytes) -> bool:
    """True when *data* starts like a file of the type its extension names."""
    ext = extension(name)
    if ext == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in (".jpg", ".jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if ext == ".gif":
        return data.startswith((b"GIF87a", b"GIF89a"))
    if ext == ".wav":
        return data.startswith(b"RIFF") and data[8:12] == b"WAVE"
    if ext == ".mp3":
        return data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF
                                           and data[1] & 0xE0 == 0xE0)
    return False
