"""Focus losses (切屏) and display changes during the exam: counted, timed, recorded.

The UI reports "the exam window lost / regained the foreground" and "the number of
displays changed"; this module turns those into numbered events for the candidate's
notice, the proctor console and the review record. It ignores a regain without a loss and
a second loss before a regain (Qt can report both on one switch).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from client.i18n import _


@dataclass
class LockdownEvent:
    kind: str  # focus_lost | display_changed
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
                 "display_changed": ("显示器数量变化", "Number of displays changed")}
        zh, en = names.get(self.kind, (self.kind, self.kind))
        return {"code": "lockdown", "check": "lockdown", "kind": self.kind, "severity": "warn",
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

    @property
    def focus_losses(self) -> int:
        return sum(1 for event in self.events if event.kind == "focus_lost")

    @property
    def away(self) -> bool:
        return self._away is not None

    def lost(self, *, taken_by: str = "", at_ms: int | None = None) -> LockdownEvent | None:
        """The exam window lost the foreground (at *at_ms*, else now)."""
        if self._away is not None:
            return None
        started = self.now_ms() if at_ms is None else at_ms
        self._away = LockdownEvent("focus_lost", self.focus_losses + 1, started,
                                   detail={"taken_by": taken_by} if taken_by else {})
        self.events.append(self._away)
        return self._away

    def regained(self) -> LockdownEvent | None:
        event, self._away = self._away, None
        if event is not None:
            event.ended_ms = self.now_ms()
        return event

    def displays(self, count: int) -> LockdownEvent | None:
        """The current number of displays; an event when it differs from the last one."""
        previous, self._displays = self._displays, count
        if previous is None or previous == count:
            return None
        changes = sum(1 for e in self.events if e.kind == "display_changed")
        event = LockdownEvent("display_changed", changes + 1, self.now_ms(), self.now_ms(),
                              detail={"from": previous, "to": count})
        self.events.append(event)
        return event


def notice_text(event: LockdownEvent) -> str:
    """What the candidate reads in the notice slot."""
    if event.kind == "display_changed":
        return _("显示器数量发生变化（{old} → {new}），已记录。考试窗口保持在主显示器上。").format(
            old=event.detail.get("from"), new=event.detail.get("to"))
    return _("检测到离开考试窗口（第 {n} 次），已记录并会告知监考教师。请留在考试窗口内答题。"
             ).format(n=event.number)
