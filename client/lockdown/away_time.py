"""How often and how long the candidate left the exam window in this exam, for the proctor.

Read from what was recorded, not from the running window's memory: every focus loss is
queued for review as a "found" item when it starts and a "resolved" one when the candidate
is back (client/lockdown/focus.py, client/review/services.py), in the exam's own store.
So a restart of the client (or a crash, deliberate or not) does not set the count back to
zero. A loss with no recorded return (the client stopped while away) counts, but its time
away is unknown and said so. Screen locks (锁屏) and sleep (睡眠唤醒) are each counted apart,
not as 切屏, and so is a loss withdrawn into one (client/lockdown/session_change.py): a
proctor who sees "锁屏 3 次" asks another question than one who sees "睡眠 3 次" (the PC's
power settings). A user switch or a remote desktop taking the session (切换用户) is 切屏 and
named: another user's desktop is another PC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from client.i18n import _

_SUFFIXES = ("-found", "-resolved")


@dataclass(frozen=True)
class AwayTotals:
    losses: int          # times the exam window lost the foreground (user switches too)
    away_ms: int         # time away, summed over the losses with a recorded return
    unknown_returns: int  # losses whose return was never recorded
    user_switches: int = 0  # of the losses, switches to another user or a remote session
    locks: int = 0  # screen locks (锁屏, not 切屏)
    locked_ms: int = 0  # their time, over those with a recorded end
    suspends: int = 0  # sleep and wake-up (睡眠唤醒, not 切屏)
    suspended_ms: int = 0

    @property
    def interruptions(self) -> int:
        """Locks and suspends together (neither is 切屏)."""
        return self.locks + self.suspends

    @property
    def interrupted_ms(self) -> int:
        return self.locked_ms + self.suspended_ms

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
        if self.locks:
            text += _("；锁屏 {count} 次，共 {duration}").format(
                count=self.locks, duration=duration_text(self.locked_ms))
        if self.suspends:
            text += _("；睡眠唤醒 {count} 次，共 {duration}").format(
                count=self.suspends, duration=duration_text(self.suspended_ms))
        if self.interruptions:
            text += _("（不计为切屏）")
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
    locks: dict[str, dict[str, int | None]] = {}
    suspends: dict[str, dict[str, int | None]] = {}
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
        elif kind == "session_locked":
            episodes = locks
        elif kind == "suspended":
            episodes = suspends
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
    locked, _open = _summed(locks.values())
    suspended, _open = _summed(suspends.values())
    return AwayTotals(losses=len(losses), away_ms=away, unknown_returns=unknown,
                      user_switches=len(switches), locks=len(locks), locked_ms=locked,
                      suspends=len(suspends), suspended_ms=suspended)


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
