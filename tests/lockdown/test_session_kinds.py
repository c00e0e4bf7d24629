"""The four kinds the proctor and the console tell apart: 切屏 (another program in front),
锁屏 (Win+L), 切换用户 (another user or a remote desktop took the session, counted as 切屏)
and 睡眠唤醒 (sleep and wake-up). Handwritten event records, as the exam window receives
them (its own focus, Windows' session and power notices, Qt's application state), go
through the Qt-free decision (FocusLog, from_application_state) and the proctor's reading
of the recorded findings (away_totals); each kind is counted apart."""

from __future__ import annotations

import pytest

from client.i18n import set_language
from client.lockdown.away_time import AwayTotals, away_totals, episode_id
from client.lockdown.focus import FocusLog, LockdownEvent
from client.lockdown.session_change import SessionChange, from_application_state

# (ms since the previous record, record): "lost" / "back" for the exam window's foreground,
# a SessionChange value for a session or power notice, "qt:<state>" for Qt's application
# state (what Linux reports).
FIXTURES: dict[str, tuple[list[tuple[int, str]], tuple[int, int, int, int]]] = {
    # name: (records, (切屏, 锁屏, 切换用户, 睡眠唤醒))
    "alt_tab_to_a_browser": ([(0, "lost"), (4_000, "back")], (1, 0, 0, 0)),
    "win_l_deactivation_first": (
        [(0, "lost"), (400, "locked"), (90_000, "unlocked"), (0, "back")], (0, 1, 0, 0)),
    "lid_closed": ([(0, "lost"), (900, "suspended"), (3_600_000, "resumed"), (0, "back")],
                   (0, 0, 0, 1)),
    "sleep_then_the_lock_screen_on_wake": (
        [(0, "suspended"), (0, "locked"), (1_200_000, "resumed"), (20_000, "unlocked"),
         (0, "back")], (0, 1, 0, 1)),
    "switch_user_from_the_lock_screen": (
        [(0, "locked"), (3_000, "switched_away"), (600_000, "switched_back"),
         (1_000, "unlocked"), (0, "back")], (1, 1, 1, 0)),
    "remote_desktop_takes_the_session": (
        [(0, "lost"), (100, "switched_away"), (300_000, "switched_back"), (0, "back")],
        (1, 0, 1, 0)),
    "qt_suspends_the_application": (
        [(0, "qt:suspended"), (1_800_000, "qt:active"), (0, "back")], (0, 0, 0, 1)),
    "qt_inactive_is_only_the_foreground": (
        [(0, "qt:inactive"), (0, "lost"), (5_000, "qt:active"), (0, "back")], (1, 0, 0, 0)),
    "two_peeks_a_lock_and_a_sleep": (
        [(0, "lost"), (2_000, "back"), (60_000, "locked"), (30_000, "unlocked"),
         (0, "back"), (60_000, "lost"), (3_000, "back"), (1_000, "suspended"),
         (60_000, "resumed"), (0, "back")], (2, 1, 0, 1)),
}


def replay(records: list[tuple[int, str]]) -> tuple[FocusLog, list[LockdownEvent]]:
    """What the guard does with each record; every event it records, as recorded."""
    clock = [1_000_000]
    log = FocusLog(now_ms=lambda: clock[0])
    state = "active"
    recorded: list[LockdownEvent] = []
    for delay, record in records:
        clock[0] += delay
        if record == "lost":
            asked = [e for e in [log.lost()] if e is not None]
        elif record == "back":
            asked = [e for e in [log.regained()] if e is not None] + log.back_in_front()
        elif record.startswith("qt:"):
            previous, state = state, record[3:]
            change = from_application_state(previous=previous, current=state)
            asked = log.session(change, via="qt") if change is not None else []
        else:
            asked = log.session(SessionChange(record))
        recorded += [LockdownEvent(e.kind, e.number, e.started_ms, e.ended_ms, dict(e.detail),
                                   e.event_id) for e in asked]
    return log, recorded


def totals_of(recorded: list[LockdownEvent]) -> AwayTotals:
    return away_totals(
        (f"{episode_id(e.event_id)}-{'resolved' if e.ended_ms else 'found'}",
         {"finding": e.finding()}) for e in recorded)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_each_kind_is_counted_apart(name: str) -> None:
    records, (switches, locks, user_switches, suspends) = FIXTURES[name]
    _log, recorded = replay(records)
    totals = totals_of(recorded)
    assert (totals.losses, totals.locks, totals.user_switches, totals.suspends) == (
        switches, locks, user_switches, suspends)
    assert totals.interruptions == locks + suspends


def test_the_proctor_reads_each_kind_with_its_time() -> None:
    _log, recorded = replay(FIXTURES["two_peeks_a_lock_and_a_sleep"][0])
    totals = totals_of(recorded)
    assert (totals.away_ms, totals.locked_ms, totals.suspended_ms) == (5_000, 30_000, 60_000)
    assert totals.proctor_text() == ("离开考试窗口 2 次，共 5 秒；锁屏 1 次，共 30 秒；"
                                     "睡眠唤醒 1 次，共 1 分 00 秒（不计为切屏）")
    set_language("en")
    try:
        assert totals.proctor_text() == (
            "Left the exam window: 2 (away 5 s in total); screen locks: 1 (30 s in total); "
            "sleep: 1 (1 min 00 s in total) (not counted as leaving)")
    finally:
        set_language("zh_CN")


def test_a_sleep_reported_by_qt_is_recorded_as_a_sleep() -> None:
    log, _recorded = replay(FIXTURES["qt_suspends_the_application"][0])
    assert [(e.kind, e.away_ms, e.detail) for e in log.events] == [
        ("suspended", 1_800_000, {"via": "qt"})]
    assert log.focus_losses == 0


@pytest.mark.parametrize(("previous", "current", "change"), [
    ("active", "suspended", SessionChange.SUSPENDED),
    ("inactive", "suspended", SessionChange.SUSPENDED),
    ("hidden", "suspended", SessionChange.SUSPENDED),
    ("suspended", "active", SessionChange.RESUMED),
    ("suspended", "inactive", SessionChange.RESUMED),
    ("suspended", "suspended", None),
    ("active", "inactive", None),
    ("inactive", "active", None),
    ("active", "hidden", None),
])
def test_application_states_that_are_a_sleep(previous: str, current: str,
                                             change: SessionChange | None) -> None:
    assert from_application_state(previous=previous, current=current) is change
