"""Times as candidates read them: Beijing time (UTC+8, no daylight saving) and countdowns."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "北京时间")


def beijing_clock(epoch_ms: int, *, seconds: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=BEIJING)
    return moment.strftime("%H:%M:%S" if seconds else "%H:%M")


def beijing_datetime(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=BEIJING).strftime("%Y-%m-%d %H:%M")


def countdown(ms: int) -> str:
    """'01:05:09' for a duration; negative durations show 00:00:00."""
    total = max(0, (ms + 999) // 1000)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"
