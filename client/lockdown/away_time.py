"""How often and how long the candidate left the exam window in this exam, for the proctor.

Read from what was recorded, not from the running window's memory: every focus loss is
queued for review as a "found" item when it starts and a "resolved" one when the candidate
is back (client/lockdown/focus.py, client/review/services.py), in the exam's own store.
So a restart of the client (or a crash, deliberate or not) does not set the count back to
zero. A loss with no recorded return (the client stopped while away) counts, but its time
away is unknown and said so. Locks and suspends are counted apart, not as 切屏, and so is a
loss withdrawn into one (client/lockdown/session_change.py). A user switch or a remote
desktop taking the session is 切屏 and named: another user's desktop is another PC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from client.i18n import _
from client.lockdown.session_change import INTERRUPTION_KINDS

_SUFFIXES = ("-found", "-resolved")


@dataclass(frozen=True)
class AwayTotals:
    losses: int          # times the exam window lost the foreground (user switches too)
    away_ms: int         # time away, summed over the losses with a recorded return
    unknown_returns: int  # losses whose return was never recorded
    interruptions: int = 0  # locks and suspends (not 切屏)
    interrupted_ms: int = 0  # their time, over those with a recorded end
    user_switches: int = 0  # of the losses, switches to another user or a remote session

    def proctor_text(self) -> str:
        """One line for the proctor panel."""
        if self.losses == 0:
            text = _("未离开考试窗口")
        else:
            text = _("离开考试窗口 {count} 次，共 {duration}").format(
                count=self.losses, duration=duration_text(self.away_ms))
        if self.user_switches:
            text += _("（其中切换到其他用户或远程会话 {count} 次）").format(
                count=self.user_switches)
        if self.unknown_returns:
            text += _("（其中 {count} 次未记录返回时间，程序曾中断）").format(
                count=self.unknown_returns)
        if self.interruptions:
            text += _("；锁屏或休眠 {count} 次，共 {duration}（不计为切屏）").format(
                count=self.interruptions, duration=duration_text(self.interrupted_ms))
        return text


def duration_text(ms: int) -> str:
    """12 秒, 3 分 05 秒, 1 小时 02 分: whole seconds, the largest units that matter."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("{h} 小时 {m:02d} 分").format(h=hours, m=minutes)
    if minutes:
        return _("{m} 分 {s:02d} 秒").format(m=minutes, s=seconds)
    return _("{s} 秒").format(s=seconds)


def away_totals(records: Iterable[tuple[str, Mapping[str, Any]]]) -> AwayTotals:
    """Totals from the review outbox's integrity items: (event id, record) pairs. Items
    other than focus losses and session periods are ignored; each is one episode however
    often it was queued, and a loss withdrawn into a lock in any of its records is none.
    A user switch is a loss (and its time away)."""
    losses: dict[str, dict[str, int | None]] = {}
    periods: dict[str, dict[str, int | None]] = {}
    withdrawn: set[str] = set()
    switches: set[str] = set()
    for event_id, record in records:
        finding = record.get("finding")
        if not isinstance(finding, Mapping) or finding.get("code") != "lockdown":
            continue
        kind = finding.get("kind")
        if kind == "focus_lost":
            episodes = losses
        elif kind == "session_switched":
            episodes = losses
            switches.add(_episode(event_id))
        elif kind in INTERRUPTION_KINDS:
            episodes = periods
        else:
            continue
        detail = finding.get("detail")
        detail = detail if isinstance(detail, Mapping) else {}
        key = _episode(event_id)
        if kind == "focus_lost" and detail.get("withdrawn"):
            withdrawn.add(key)
        episode = episodes.setdefault(key, {"started": None, "ended": None})
        started, ended = detail.get("started_ms"), detail.get("ended_ms")
        if isinstance(started, int):
            episode["started"] = started
        if isinstance(ended, int):
            episode["ended"] = ended
    for key in withdrawn:
        losses.pop(key, None)
    away, unknown = _summed(losses.values())
    interrupted, _open = _summed(periods.values())
    return AwayTotals(losses=len(losses), away_ms=away, unknown_returns=unknown,
                      interruptions=len(periods), interrupted_ms=interrupted,
                      user_switches=len(switches))


def _summed(episodes: Iterable[dict[str, int | None]]) -> tuple[int, int]:
    """(time over the episodes with both ends, how many lack one)."""
    total = 0
    unknown = 0
    for episode in episodes:
        started, ended = episode["started"], episode["ended"]
        if started is None or ended is None:
            unknown += 1
        else:
            total += max(0, ended - started)
    return total, unknown


def episode_id(event_id: str) -> str:
    """The review id of a focus loss (client/lockdown/focus.py LockdownEvent.event_id);
    its outbox items are this id with -found and -resolved."""
    return f"lockdown-{event_id}"


def _episode(event_id: str) -> str:
    for suffix in _SUFFIXES:
        if event_id.endswith(suffix):
            return event_id[: -len(suffix)]
    return event_id
