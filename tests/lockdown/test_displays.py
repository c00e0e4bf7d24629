"""Monitors coming and going mid-exam, decided on plain display records (handwritten, as
Qt describes a lab PC's screens): what is recorded, and the display the exam window goes
to (always the primary; never the projector or the new monitor)."""

from __future__ import annotations

import pytest

from client.lockdown.displays import Display, display_change, exam_display
from client.lockdown.focus import FocusLog, notice_text

LAB = Display("LAB-24", 0, 0, 1366, 768, primary=True)
PROJECTOR_RIGHT = Display("EPSON", 1366, 0, 1024, 768)
PROJECTOR_MIRROR = Display("EPSON", 0, 0, 1024, 768)
LEFT = Display("DELL", -1920, 0, 1920, 1080)
PANEL = Display("eDP-1", 0, 0, 1920, 1080)
PANEL_NOW_PRIMARY = Display("eDP-1", 0, 0, 1920, 1080, primary=True)
TV = Display("SAMSUNG", 1366, 0, 1920, 1080)

# name: (before, after, (from, to, added, removed, exam display))
FIXTURES = {
    "projector_extends_to_the_right": (
        [LAB], [LAB, PROJECTOR_RIGHT], (1, 2, ("EPSON",), (), "LAB-24")),
    "projector_mirrors_the_desktop": (
        [LAB], [LAB, PROJECTOR_MIRROR], (1, 2, ("EPSON",), (), "LAB-24")),
    "monitor_left_of_the_primary": ([LAB], [LEFT, LAB], (1, 2, ("DELL",), (), "LAB-24")),
    "projector_unplugged": ([LAB, PROJECTOR_RIGHT], [LAB], (2, 1, (), ("EPSON",), "LAB-24")),
    "lab_monitor_cable_pulled_on_a_laptop": (
        [LAB, PANEL], [PANEL_NOW_PRIMARY], (2, 1, (), ("LAB-24",), "eDP-1")),
    "projector_swapped_for_a_tv_at_once": (
        [LAB, PROJECTOR_RIGHT], [LAB, TV], (2, 2, ("SAMSUNG",), ("EPSON",), "LAB-24")),
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_each_change_is_recorded_and_the_exam_stays_on_the_primary(name: str) -> None:
    before, after, (old, new, added, removed, target) = FIXTURES[name]
    change = display_change(before, after)
    assert change is not None
    assert (change.before, change.after, change.added, change.removed) == (
        old, new, added, removed)
    assert change.exam_display is not None and change.exam_display.name == target
    log = FocusLog(now_ms=lambda: 5_000)
    log.displays(len(before))
    event = log.display_changed(change)
    assert event.kind == "display_changed" and event.detail["exam_display"] == target
    assert (event.detail["added"], event.detail["removed"]) == (list(added), list(removed))
    assert f"（{old} → {new}）" in notice_text(event)
    assert log.focus_losses == 0  # a display change is not 切屏
    assert event.finding()["severity"] == "warn"


def test_the_same_displays_resized_are_no_display_change() -> None:
    assert display_change([LAB, PROJECTOR_RIGHT],
                          [Display("LAB-24", 0, 0, 1024, 768, primary=True),
                           PROJECTOR_RIGHT]) is None


def test_without_a_marked_primary_the_desktop_origin_gets_the_exam() -> None:
    unmarked_lab = Display("LAB-24", 0, 0, 1366, 768)
    assert exam_display([PROJECTOR_RIGHT, unmarked_lab]) == unmarked_lab
    assert exam_display([LEFT]) == LEFT
    assert exam_display([]) is None


def test_numbers_count_changes_not_screens() -> None:
    log = FocusLog(now_ms=lambda: 0)
    first = log.display_changed(display_change([LAB], [LAB, PROJECTOR_RIGHT]))  # type: ignore[arg-type]
    second = log.display_changed(display_change([LAB, PROJECTOR_RIGHT], [LAB]))  # type: ignore[arg-type]
    assert (first.number, second.number) == (1, 2)
    assert log.displays(1) is None  # the count the log now knows is the last change's
