"""Times as people read them: in the exam's time zone (Beijing time, UTC+8, no daylight
saving), labelled wherever staff read them, and countdowns.

Candidates see clock times on screens that already say 北京时间; staff read times in files,
CLIs and admin pages, often on a server that runs in UTC, so ``staff_datetime`` always says
which zone it is (the old pages showed the server's UTC next to the UI's Beijing time).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from client.i18n import _

BEIJING = timezone(timedelta(hours=8), "北京时间")
EXAM_TIME_ZONE = BEIJING  # the zone of every exam this deployment runs


def _moment(epoch_ms: int, tz: timezone) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=tz)


def beijing_clock(epoch_ms: int, *, seconds: bool = False) -> str:
    return _moment(epoch_ms, BEIJING).strftime("%H:%M:%S" if seconds else "%H:%M")


def beijing_datetime(epoch_ms: int) -> str:
    return _moment(epoch_ms, BEIJING).strftime("%Y-%m-%d %H:%M")


def zone_label(tz: timezone = EXAM_TIME_ZONE) -> str:
    """北京时间 / Beijing time, or UTC+09:00 for another zone."""
    if tz is BEIJING:
        return _("北京时间")
    offset = tz.utcoffset(None)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def staff_datetime(epoch_ms: int, *, short: bool = False, tz: timezone = EXAM_TIME_ZONE,
                   labelled: bool = True) -> str:
    """'2026-06-15 10:30:05（北京时间）' for admin pages, CLIs and reports; *short* drops
    the year (narrow table columns), *labelled* False where a column header says the zone."""
    text = _moment(epoch_ms, tz).strftime("%m-%d %H:%M:%S" if short else "%Y-%m-%d %H:%M:%S")
    if not labelled:
        return text
    return _("{time}（{zone}）").format(time=text, zone=zone_label(tz))


def file_stamp(epoch_ms: int, *, tz: timezone = EXAM_TIME_ZONE) -> str:
    """'20240615-103005+0800': sortable, safe in file names, and says its zone."""
    return _moment(epoch_ms, tz).strftime("%Y%m%d-%H%M%S%z")


def countdown(ms: int) -> str:
    """'01:05:09' for a duration; negative durations show 00:00:00."""
    total = max(0, (ms + 999) // 1000)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"
