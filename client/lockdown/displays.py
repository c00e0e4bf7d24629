"""Where the exam window goes when monitors come and go mid-exam, decided on plain data.

A projector plugged in to show the clock, a second monitor a candidate connects, the lab
monitor's cable pulled so that a laptop's own panel remains: the exam stays full screen
on the primary display (never on a screen the candidate could turn away or a projector
the room sees), and the change is recorded for the proctor with what was added and
removed. The UI (client/ui/lockdown_guard.py) describes Qt's screens as ``Display``s;
what to record and where to put the window is decided here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Display:
    name: str
    x: int
    y: int
    width: int
    height: int
    primary: bool = False

    @property
    def geometry(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.width, self.height


@dataclass(frozen=True)
class DisplayChange:
    before: int
    after: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    exam_display: Display | None  # where the exam window goes now

    def detail(self) -> dict[str, object]:
        """For the lockdown record (LockdownEvent.detail)."""
        detail: dict[str, object] = {"from": self.before, "to": self.after,
                                     "added": list(self.added), "removed": list(self.removed)}
        if self.exam_display is not None:
            detail["exam_display"] = self.exam_display.name
        return detail


def exam_display(displays: Sequence[Display]) -> Display | None:
    """The primary display; where none is marked (an X server without a primary output),
    the one holding the desktop's origin, else the first. None: no display at all."""
    for display in displays:
        if display.primary:
            return display
    for display in displays:
        if (display.x, display.y) == (0, 0):
            return display
    return displays[0] if displays else None


def display_change(before: Sequence[Display], after: Sequence[Display]) -> DisplayChange | None:
    """The change from *before* to *after* when a display was added or removed (by name);
    None when the same displays remain (a resolution or scaling change is the primary
    screen's geometry, followed apart)."""
    old = [display.name for display in before]
    new = [display.name for display in after]
    added = tuple(name for name in new if name not in old)
    removed = tuple(name for name in old if name not in new)
    if not added and not removed:
        return None
    return DisplayChange(before=len(before), after=len(after), added=added, removed=removed,
                         exam_display=exam_display(after))
