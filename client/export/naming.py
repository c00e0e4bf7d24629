"""The fixed, meaningful name of an offline answer file.

``<exam>_<candidate>_<YYYYMMDD-HHMMSS+zone>.examans``, for example
``2024S-MATH01_2023000001_20240615-103000+0800.examans``. The admin can sort a USB stick by
exam and candidate; the time, in the exam's time zone and saying so, tells exports apart.
The name is signed inside the file, so a renamed file is refused at upload. Only ASCII
letters, digits and ``-`` survive inside a part (``_`` separates parts): FAT32 sticks,
Windows reserved characters and web uploads all keep such a name unchanged.
"""

from __future__ import annotations

import re
from datetime import timezone

from client.timefmt import EXAM_TIME_ZONE, file_stamp

OFFLINE_FILE_SUFFIX = ".examans"

_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")
_MAX_PART = 40


def _safe_part(text: str) -> str:
    cleaned = _UNSAFE.sub("-", text).strip("-")
    return cleaned[:_MAX_PART] or "x"


def offline_file_name(*, exam_id: str, candidate_no: str, at_ms: int,
                      tz: timezone = EXAM_TIME_ZONE) -> str:
    """Return the file name for an export made at *at_ms* (epoch ms), stamped in the
    exam's time zone (not the PC's, which a lab image may leave at UTC)."""
    stamp = file_stamp(at_ms, tz=tz)
    return f"{_safe_part(exam_id)}_{_safe_part(candidate_no)}_{stamp}{OFFLINE_FILE_SUFFIX}"
