"""Focus losses (切屏) and display changes during the exam: counted, timed, recorded.

The UI reports "the exam window lost / regained the foreground", "the number of displays
changed" and what the system said about the session (client/lockdown/session_change.py);
this module turns those into numbered events for the candidate's notice, the proctor
console and the review record. It ignores a regain without a loss and a second loss before
a regain (Qt can report both on one switch).

A lock or suspend is a period of its own, not a 切屏: a loss to the lock screen while one
is open is not counted, and such a loss that began just before the system's notice of it
(Windows may deliver the deactivation first) is withdrawn into it. A loss to a program the
candidate can use (the name GetForegroundWindow gives is not the lock screen's) is 切屏
whatever notice came before or after it: another program can post a forged "lock" to the
exam window, and Win+L right after opening a browser must not excuse the browser. The exam
window getting the foreground back ends every open period: a locked or switched-away
session cannot show it, so an "unlock" that never came cannot keep later losses from
counting. A user switch or a remote desktop taking the session is recorded as a period
too, but for the proctor it is leaving the exam (another user's desktop is another PC):
it counts with the 切屏 (client/lockdown/away_time.py) and holds the result for review.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from client.i18n import _
from client.lockdown.away_time import duration_text
from client.lockdown.displays import DisplayChange
from client.lockdown.session_change import INTERRUPTION_KINDS, SessionChange

# A loss that began at most this long before a lock / suspend / switch notice is that
# lock: the notice comes after the deactivation, later on a busy old PC.
LATE_NOTICE_MS = 3000
# What has the foreground while the session is locked or at the logon screen (Windows
# 10/11: the lock screen app, or no window of this session at all, given as "").
SESSION_SCREENS = frozenset({"lockapp.exe", "logonui.exe"})


def _to_session_screen(taken_by: str) -> bool:
    return not taken_by or taken_by.lower() in SESSION_SCREENS


@dataclass
class LockdownEvent:
    kind: str  # focus_lost | display_changed | session_locked | suspended | session_switched
    number: int  # 1 for the first focus loss, ...
    started_ms: int
    ended_ms: int | None = None
    detail: dict[str, object] = field(default_factory=dict)
    # Unique across restarts of the client (numbers start again at 1 after a resume).
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def away_ms(self) -> int | None:
        return None if self.ended_ms is None else self.ended_ms - self.started_ms

    def finding(self) -> dict[str, object]:
        """As an integrity finding for the review outbox: a warning that is shown to the
        reviewer; it does not hold the result by itself."""
        names = {"focus_lost": ("离开考试窗口", "Left the exam window"),
                 "display_changed": ("显示器数量变化", "Number of displays changed"),
                 "session_locked": ("屏幕锁定（不计为切屏）",
                                    "Screen locked (not counted as leaving)"),
                 "suspended": ("电脑休眠（不计为切屏）",
                               "Computer asleep (not counted as leaving)"),
                 "session_switched": (
                     "切换到其他用户或远程会话（视同离开考试窗口）",
                     "Switched to another user or a remote session (counted as leaving)")}
        zh, en = names.get(self.kind, (self.kind, self.kind))
        # Another user's desktop is another PC: the result waits for a reviewer.
        severity = "block" if self.kind == "session_switched" else "warn"
        return {"code": "lockdown", "check": "lockdown", "kind": self.kind, "severity": severity,
                "subject": str(self.detail.get("taken_by") or self.kind),
                "name": {"zh_CN": zh, "en": en},
                "detail": {"number": self.number, "started_ms": self.started_ms,
                           "ended_ms": self.ended_ms, **self.detail}}


@dataclass
class FocusLog:
    now_ms: Callable[[], int]
    events: list[LockdownEvent] = field(default_factory=list)
    _away: LockdownEvent | None = None
    _displays: int | None = None

    _periods: dict[str, LockdownEvent] = field(default_factory=dict)
    # The settling time after a period is measured on this clock: the exam's clock can
    # stand still (not yet synchronised), a monotonic one cannot.
    elapsed_ms: Callable[[], int] = field(default=lambda: time.monotonic_ns() // 1_000_000)
    _period_ended_ms: int | None = None  # when the last period ended (elapsed_ms)

    @property
    def focus_losses(self) -> int:
        """切屏: losses not withdrawn into a lock, suspend or user switch."""
        return sum(1 for event in self.events
                   if event.kind == "focus_lost" and "withdrawn" not in event.detail)

    @property
    def away(self) -> bool:
        return self._away is not None

    @property
    def interrupted(self) -> bool:
        """A lock, suspend or user switch is going on."""
        return bool(self._periods)

    @property
    def settling(self) -> bool:
        """A lock, suspend or user switch ended at most LATE_NOTICE_MS ago: the lock screen
        may still be in front (the unlock notice comes before it has gone, later on a busy
        old PC)."""
        ended = self._period_ended_ms
        return (not self._periods and ended is not None
                and 0 <= self.elapsed_ms() - ended <= LATE_NOTICE_MS)

    def lost(self, *, taken_by: str = "", at_ms: int | None = None) -> LockdownEvent | None:
        """The exam window lost the foreground (at *at_ms*, else now) to *taken_by*."""
        if self._away is not None:
            return None
        if self._periods and (_to_session_screen(taken_by)
                              or "session_switched" in self._periods):
            return None  # the lock screen, or a user switch (recorded as one already)
        if self.settling and _to_session_screen(taken_by):
            return None  # the lock screen still going away after the unlock
        started = self.now_ms() if at_ms is None else at_ms
        detail: dict[str, object] = {"taken_by": taken_by} if taken_by else {}
        if self._periods:  # a program in front during a "lock": the notice was not true
            detail["during"] = ",".join(sorted(self._periods))
        self._away = LockdownEvent("focus_lost", self.focus_losses + 1, started, detail=detail)
        self.events.append(self._away)
        return self._away

    def regained(self) -> LockdownEvent | None:
        event, self._away = self._away, None
        if event is not None:
            event.ended_ms = self.now_ms()
        return event

    def back_in_front(self) -> list[LockdownEvent]:
        """The exam window has the foreground: every open lock / suspend / switch is over."""
        now = self.now_ms()
        ended = list(self._periods.values())
        self._periods.clear()
        self._period_ended_ms = None  # in front: the lock screen has gone
        for event in ended:
            event.ended_ms = max(now, event.started_ms)
        return ended

    def session(self, change: SessionChange, *, at_ms: int | None = None,
                via: str = "") -> list[LockdownEvent]:
        """What the system said about the session; the events to record (in order): a
        withdrawn focus loss, the period that begins or the period that ends."""
        now = self.now_ms() if at_ms is None else at_ms
        kind = change.period
        if not change.begins:
            event = self._periods.pop(kind, None)
            if event is None:  # already ended by the window's return, or never began
                return []
            event.ended_ms = max(now, event.started_ms)
            self._period_ended_ms = self.elapsed_ms()
            return [event]
        if kind in self._periods:
            if via == "remote":  # a remote desktop took the switched-away session
                self._periods[kind].detail["via"] = via
            return []
        recorded: list[LockdownEvent] = []
        started = now
        away = self._away
        if (away is not None and 0 <= now - away.started_ms <= LATE_NOTICE_MS
                and _to_session_screen(str(away.detail.get("taken_by", "")))):
            # The deactivation was this lock's: the loss is withdrawn (closed and marked,
            # so the review and the proctor's count leave it out) and the period starts then.
            self._away = None
            away.ended_ms = now
            away.detail["withdrawn"] = kind
            started = away.started_ms
            recorded.append(away)
        number = 1 + sum(1 for event in self.events if event.kind in INTERRUPTION_KINDS)
        period = LockdownEvent(kind, number, started, detail={"via": via} if via else {})
        self._periods[kind] = period
        self.events.append(period)
        recorded.append(period)
        return recorded

    def displays(self, count: int) -> LockdownEvent | None:
        """The current number of displays; an event when it differs from the last one."""
        previous, self._displays = self._displays, count
        if previous is None or previous == count:
            return None
        return self._display_event({"from": previous, "to": count})

    def display_changed(self, change: DisplayChange) -> LockdownEvent:
        """Displays were added or removed (client/lockdown/displays.py decides): recorded
        with what came and went and where the exam window is now."""
        self._displays = change.after
        return self._display_event(change.detail())

    def _display_event(self, detail: dict[str, object]) -> LockdownEvent:
        changes = sum(1 for e in self.events if e.kind == "display_changed")
        event = LockdownEvent("display_changed", changes + 1, self.now_ms(), self.now_ms(),
                              detail=detail)
        self.events.append(event)
        return event


def notice_text(event: LockdownEvent) -> str:
    """What the candidate reads in the notice slot."""
    if event.kind == "session_switched":
        return _("检测到切换到其他用户或远程会话，已记录并会告知监考教师（视同离开考试窗口）。")
    if event.kind in INTERRUPTION_KINDS:
        what = {"session_locked": _("屏幕锁定"), "suspended": _("电脑休眠")}[event.kind]
        if event.ended_ms is None:
            return _("{what}已记录（不计为离开考试窗口）。").format(what=what)
        return _("{what}已记录，持续 {duration}（不计为离开考试窗口）。").format(
            what=what, duration=duration_text(event.ended_ms - event.started_ms))
    if event.kind == "display_changed":
        return _("显示器数量发生变化（{old} → {new}），已记录。考试窗口保持在主显示器上。").format(
            old=event.detail.get("from"), new=event.detail.get("to"))
    return _("检测到离开考试窗口（第 {n} 次），已记录并会告知监考教师。请留在考试窗口内答题。"
             ).format(n=event.number)
