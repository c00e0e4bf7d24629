"""A screen lock, a suspend and a user switch are periods of their own, not 切屏: the
deciding logic (FocusLog) on handwritten event sequences, the proctor's totals read back
from the records it makes, and the Windows message mapping on real MSG structs."""

from __future__ import annotations

import ctypes
import ctypes.wintypes

import pytest

from client.lockdown.away_time import AwayTotals, away_totals, episode_id
from client.lockdown.focus import LATE_NOTICE_MS, FocusLog, LockdownEvent, notice_text
from client.lockdown.session_change import SessionChange
from client.lockdown.windows import session_notify as wn


class Clock:
    def __init__(self) -> None:
        self.ms = 100_000

    def __call__(self) -> int:
        return self.ms


def run(log: FocusLog, clock: Clock, script: list[tuple[int, str]]) -> list[LockdownEvent]:
    """*script*: (ms since the previous step, step); steps: lost, back, or a SessionChange
    value. Returns every event the log asked to record, in order, as it was when recorded
    (what the guard sends to the review)."""
    recorded: list[LockdownEvent] = []
    for delay, step in script:
        clock.ms += delay
        if step == "lost":
            event = log.lost()
            asked = [event] if event is not None else []
        elif step == "back":
            event = log.regained()
            asked = [event] if event is not None else []
            asked += log.back_in_front()
        else:
            asked = log.session(SessionChange(step))
        recorded += [LockdownEvent(e.kind, e.number, e.started_ms, e.ended_ms, dict(e.detail),
                                   e.event_id) for e in asked]
    return recorded


def records_of(events: list[LockdownEvent]) -> list[tuple[str, dict[str, object]]]:
    """As the review outbox keeps them: one record per recording, the episode's id."""
    return [(f"{episode_id(e.event_id)}-{'resolved' if e.ended_ms else 'found'}",
             {"finding": e.finding()}) for e in events]


def test_a_loss_during_a_lock_is_not_counted_and_the_lock_is_recorded() -> None:
    clock = Clock()
    log = FocusLog(now_ms=clock)
    recorded = (run(log, clock, [(0, "locked"), (50, "lost"), (300_000, "unlocked"),
                                         (20, "back")]))
    assert log.focus_losses == 0
    assert [e.kind for e in recorded] == ["session_locked", "session_locked"]
    lock = log.events[0]
    assert lock.kind == "session_locked" and lock.away_ms == 300_050
    assert lock.finding()["name"] == {"zh_CN": "屏幕锁定（不计为切屏）",
                                      "en": "Screen locked (not counted as leaving)"}
    assert notice_text(lock) == "屏幕锁定已记录，持续 5 分 00 秒（不计为离开考试窗口）。"
    assert away_totals(records_of(recorded)) == AwayTotals(
        losses=0, away_ms=0, unknown_returns=0, locks=1, locked_ms=300_050)


def test_a_loss_just_before_the_lock_notice_is_withdrawn_into_the_lock() -> None:
    """Windows may deliver the deactivation before WTS_SESSION_LOCK (later on a busy PC)."""
    clock = Clock()
    log = FocusLog(now_ms=clock)
    recorded = (run(log, clock, [(0, "lost"), (LATE_NOTICE_MS, "locked"),
                                         (60_000, "unlocked"), (10, "back")]))
    assert log.focus_losses == 0
    loss = recorded[0]
    assert loss.kind == "focus_lost" and loss.ended_ms is None  # first sent as a 切屏...
    withdrawn = recorded[1]
    assert withdrawn.event_id == loss.event_id and withdrawn.detail["withdrawn"] == "session_locked"
    lock = log.events[1]
    assert lock.started_ms == loss.started_ms  # ...and the lock began with the deactivation
    totals = away_totals(records_of(recorded))
    assert totals.losses == 0 and totals.interruptions == 1
    assert totals.interrupted_ms == LATE_NOTICE_MS + 60_000


def test_a_loss_long_before_the_lock_stays_a_loss() -> None:
    clock = Clock()
    log = FocusLog(now_ms=clock)
    recorded = (run(log, clock, [(0, "lost"), (LATE_NOTICE_MS + 1, "locked"),
                                         (1_000, "unlocked"), (0, "back")]))
    assert log.focus_losses == 1
    totals = away_totals(records_of(recorded))
    assert (totals.losses, totals.interruptions) == (1, 1)
    assert totals.proctor_text() == ("离开考试窗口 1 次，共 4 秒；锁屏 1 次，"
                                     "共 1 秒（不计为切屏）")


def test_suspend_with_a_lock_inside_and_a_user_switch_are_periods_of_their_own() -> None:
    clock = Clock()
    log = FocusLog(now_ms=clock)
    run(log, clock, [(0, "suspended"), (0, "locked"), (5_000, "lost"), (600_000, "resumed"),
                     (1_000, "unlocked"), (500, "back"),
                     (10_000, "switched_away"), (30, "lost"), (120_000, "switched_back"),
                     (100, "back")])
    assert log.focus_losses == 0
    assert [(e.kind, e.away_ms) for e in log.events] == [
        ("suspended", 605_000), ("session_locked", 606_000), ("session_switched", 120_030)]
    assert [e.number for e in log.events] == [1, 2, 3]


def test_a_lock_that_never_ends_stops_hiding_losses_once_the_exam_is_back() -> None:
    """A lost (or forged) "locked" cannot keep later 切屏 from counting: the exam window
    cannot be in front of a locked session, so its return ends the period."""
    clock = Clock()
    log = FocusLog(now_ms=clock)
    run(log, clock, [(0, "locked"), (10, "lost"), (90_000, "back"), (60_000, "lost"),
                     (5_000, "back"), (0, "unlocked")])
    assert log.focus_losses == 1
    assert [(e.kind, e.away_ms) for e in log.events] == [
        ("session_locked", 90_010), ("focus_lost", 5_000)]


def test_ends_without_a_start_and_repeated_starts_are_ignored() -> None:
    clock = Clock()
    log = FocusLog(now_ms=clock)
    assert run(log, clock, [(0, "unlocked"), (0, "resumed"), (0, "switched_back")]) == []
    assert len(run(log, clock, [(0, "locked"), (10, "locked")])) == 1
    assert not run(log, clock, [(10, "lost")]) and log.interrupted


def test_after_the_unlock_a_loss_counts_again() -> None:
    clock = Clock()
    log = FocusLog(now_ms=clock)
    run(log, clock, [(0, "locked"), (1_000, "unlocked"), (0, "back"), (5_000, "lost"),
                     (2_000, "back")])
    assert log.focus_losses == 1 and log.events[-1].number == 1


@pytest.mark.parametrize(("message", "wparam", "expected"), [
    (wn.WM_WTSSESSION_CHANGE, wn.WTS_SESSION_LOCK, (SessionChange.LOCKED, "")),
    (wn.WM_WTSSESSION_CHANGE, wn.WTS_SESSION_UNLOCK, (SessionChange.UNLOCKED, "")),
    (wn.WM_WTSSESSION_CHANGE, wn.WTS_CONSOLE_DISCONNECT, (SessionChange.SWITCHED_AWAY, "console")),
    (wn.WM_WTSSESSION_CHANGE, wn.WTS_REMOTE_CONNECT, (SessionChange.SWITCHED_AWAY, "remote")),
    (wn.WM_WTSSESSION_CHANGE, wn.WTS_CONSOLE_CONNECT, (SessionChange.SWITCHED_BACK, "console")),
    (wn.WM_WTSSESSION_CHANGE, wn.WTS_REMOTE_DISCONNECT, None),
    (wn.WM_POWERBROADCAST, wn.PBT_APMSUSPEND, (SessionChange.SUSPENDED, "")),
    (wn.WM_POWERBROADCAST, wn.PBT_APMRESUMESUSPEND, (SessionChange.RESUMED, "")),
    (wn.WM_POWERBROADCAST, wn.PBT_APMRESUMEAUTOMATIC, (SessionChange.RESUMED, "")),
    (wn.WM_POWERBROADCAST, 0x000A, None),  # PBT_APMPOWERSTATUSCHANGE: on battery, no period
    (0x0006, wn.WTS_SESSION_LOCK, None),  # WM_ACTIVATE carrying the same number
])
def test_windows_messages_read_from_a_real_msg(message: int, wparam: int,
                                               expected: tuple[SessionChange, str] | None) -> None:
    msg = ctypes.wintypes.MSG()
    msg.message, msg.wParam = message, wparam
    assert wn.session_change(*wn.message_at(ctypes.addressof(msg))) == expected


def test_the_lock_screen_going_away_after_the_unlock_is_not_a_switch() -> None:
    """Windows says "unlocked" once the password is accepted; the lock screen may stay in
    front a moment longer on a busy old PC. Not 切屏 for LATE_NOTICE_MS after the unlock;
    a program the candidate can use in front at once, or the lock screen still there
    later, is."""
    clock = Clock()
    log = FocusLog(now_ms=clock, elapsed_ms=clock)
    run(log, clock, [(0, "locked"), (60_000, "unlocked")])
    clock.ms += 500
    assert log.settling and log.lost(taken_by="LockApp.exe") is None
    clock.ms += LATE_NOTICE_MS
    assert not log.settling
    stuck = log.lost(taken_by="LockApp.exe")
    assert stuck is not None and log.focus_losses == 1
    log.regained()
    run(log, clock, [(10_000, "locked"), (5_000, "unlocked")])
    clock.ms += 100
    browser = log.lost(taken_by="chrome.exe")
    assert browser is not None and log.focus_losses == 2
