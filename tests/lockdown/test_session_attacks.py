"""Attacks on "a lock, suspend or user switch is not 切屏" (issue 20), as a candidate who
wants to read other material unnoticed would try them: handwritten event sequences into
the real FocusLog, read back by the real away_totals as the proctor panel and the console
read the review records, and the Windows message mapping on real MSG structs.

What must hold: another user's desktop (or a remote session) is another PC, so a user
switch is left the exam and held for review; a program the candidate brings to the front
is 切屏 whatever lock notice came before or after it."""

from __future__ import annotations

import ctypes
import ctypes.wintypes

from client.lockdown.away_time import away_totals, episode_id
from client.lockdown.focus import LATE_NOTICE_MS, FocusLog, LockdownEvent, notice_text
from client.lockdown.session_change import SessionChange
from client.lockdown.windows import session_notify as wn

OWN_SESSION = 2


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


Step = tuple[int, str] | tuple[int, str, str]


def run(log: FocusLog, clock: Clock, script: list[Step]) -> list[LockdownEvent]:
    """*script*: (ms since the previous step, step[, program that took the foreground]);
    steps: lost, back, or a SessionChange value. Returns what the log asked to record, as
    it was when recorded (the review keeps one copy per recording)."""
    recorded: list[LockdownEvent] = []
    for delay, step, *program in script:
        clock.ms += delay
        if step == "lost":
            event = log.lost(taken_by=program[0] if program else "")
            asked = [event] if event is not None else []
        elif step == "back":
            event = log.regained()
            asked = [event] if event is not None else []
            asked += log.back_in_front()
        else:
            asked = log.session(SessionChange(step), via=program[0] if program else "")
        recorded += [LockdownEvent(e.kind, e.number, e.started_ms, e.ended_ms, dict(e.detail),
                                   e.event_id) for e in asked]
    return recorded


def review_records(events: list[LockdownEvent]) -> list[tuple[str, dict[str, object]]]:
    return [(f"{episode_id(e.event_id)}-{'resolved' if e.ended_ms else 'found'}",
             {"finding": e.finding()}) for e in events]


def attack(script: list[Step]) -> tuple[FocusLog, list[LockdownEvent]]:
    clock = Clock()
    log = FocusLog(now_ms=clock)
    return log, run(log, clock, script)


# -- user switch and remote session ------------------------------------------------------

def test_fast_user_switch_to_read_notes_is_left_the_exam_and_held_for_review() -> None:
    """Another Windows user's desktop with a browser for 20 minutes."""
    _log, recorded = attack([(0, "lost"), (200, "switched_away", "console"),
                             (1_200_000, "switched_back", "console"), (300, "back")])
    totals = away_totals(review_records(recorded))
    assert totals.losses == 1 and totals.away_ms >= 1_200_000  # the console's 切屏 badge
    assert totals.interruptions == 0  # not among the harmless locks and suspends
    assert "切换到其他用户或远程会话 1 次" in totals.proctor_text()
    assert "不计为切屏" not in totals.proctor_text()
    switch = next(e for e in recorded if e.kind == "session_switched")
    assert switch.finding()["severity"] == "block"  # the result waits for a reviewer
    assert "不计" not in str(switch.finding()["name"])


def test_switch_user_from_the_lock_screen_is_not_hidden_by_the_lock() -> None:
    """Win+L, 切换用户 on the lock screen, the other user's desktop, back, unlock."""
    _log, recorded = attack([(0, "locked"), (100, "lost"), (2_000, "switched_away", "console"),
                             (600_000, "switched_back", "console"), (5_000, "unlocked"),
                             (200, "back")])
    totals = away_totals(review_records(recorded))
    assert totals.losses == 1 and totals.away_ms >= 600_000
    assert totals.interruptions == 1  # the lock itself, apart


def test_a_user_switch_the_client_never_saw_end_still_counts() -> None:
    """The client stopped (or the PC was switched off) on the other user's desktop."""
    _log, recorded = attack([(0, "switched_away", "console"), (60_000, "lost")])
    totals = away_totals(review_records(recorded))
    assert totals.losses == 1 and totals.unknown_returns == 1


def test_a_remote_desktop_taking_over_the_switched_session_is_named() -> None:
    """Console disconnect first, then a remote desktop connects to the same session: the
    record says remote (someone elsewhere had the exam), not a console switch."""
    log, recorded = attack([(0, "switched_away", "console"), (50, "switched_away", "remote"),
                            (300_000, "switched_back", "console")])
    switch = log.events[0]
    assert switch.kind == "session_switched" and switch.detail["via"] == "remote"
    assert recorded[-1].detail["via"] == "remote"  # in the record that ends it


def test_the_candidate_is_not_told_a_user_switch_is_harmless() -> None:
    log, _recorded = attack([(0, "switched_away", "console"), (10_000, "switched_back")])
    text = notice_text(log.events[0])
    assert "不计为离开考试窗口" not in text and "监考" in text


# -- a program in front, and a lock notice to excuse it -----------------------------------

def test_browser_then_win_l_within_the_late_notice_time_stays_a_switch() -> None:
    """The loss went to chrome.exe, not to the lock screen: it is not the lock's own
    deactivation, however soon the lock follows."""
    log, recorded = attack([(0, "lost", "chrome.exe"), (LATE_NOTICE_MS - 100, "locked"),
                            (30_000, "unlocked"), (100, "back")])
    assert log.focus_losses == 1
    assert away_totals(review_records(recorded)).losses == 1


def test_the_lock_screen_taking_the_foreground_is_still_withdrawn() -> None:
    """The real Win+L: the foreground goes to the lock screen (LockApp.exe) first."""
    log, recorded = attack([(0, "lost", "LockApp.exe"), (800, "locked"),
                            (30_000, "unlocked"), (100, "back")])
    assert log.focus_losses == 0
    assert away_totals(review_records(recorded)).losses == 0


def test_many_short_peeks_each_excused_by_a_lock_all_count() -> None:
    script: list[Step] = []
    for _ in range(20):
        script += [(60_000, "lost", "msedge.exe"), (2_900, "locked"), (4_000, "unlocked"),
                   (100, "back")]
    log, recorded = attack(script)
    assert log.focus_losses == 20
    assert away_totals(review_records(recorded)).losses == 20


def test_a_forged_lock_notice_does_not_hide_a_program_brought_to_the_front() -> None:
    """A helper program posts WM_WTSSESSION_CHANGE / WTS_SESSION_LOCK to the exam window
    while the exam is in front; then the candidate reads notes in Word for 10 minutes."""
    log, recorded = attack([(0, "locked"), (5_000, "lost", "WINWORD.EXE"),
                            (600_000, "back")])
    assert log.focus_losses == 1
    totals = away_totals(review_records(recorded))
    assert totals.losses == 1 and totals.away_ms == 600_000


def test_an_unlock_delivered_before_its_lock_does_not_open_a_blind_period() -> None:
    """Out of order: the unlock is dropped (nothing open), the late lock opens a period
    while the exam is in front; the program then brought forward is 切屏."""
    log, _recorded = attack([(0, "unlocked"), (10, "locked"), (1_000, "lost", "notepad.exe"),
                             (60_000, "back")])
    assert log.focus_losses == 1


def test_duplicated_notices_open_one_period_and_the_return_ends_it() -> None:
    log, _recorded = attack([(0, "locked"), (0, "locked"), (50, "lost"), (60_000, "unlocked"),
                             (0, "unlocked"), (10, "back"), (1_000, "lost"), (5_000, "back")])
    assert [e.kind for e in log.events] == ["session_locked", "focus_lost"]
    assert log.focus_losses == 1


def test_a_three_hour_suspend_is_recorded_whole_and_hides_nothing_after_it() -> None:
    log, recorded = attack([(0, "suspended"), (10_800_000, "resumed"), (0, "resumed"),
                            (200, "back"), (1_000, "lost", "chrome.exe"), (30_000, "back")])
    assert [(e.kind, e.away_ms) for e in log.events] == [
        ("suspended", 10_800_000), ("focus_lost", 30_000)]
    totals = away_totals(review_records(recorded))
    assert (totals.losses, totals.interruptions, totals.interrupted_ms) == (1, 1, 10_800_000)
    assert "3 小时 00 分" in totals.proctor_text()


# -- the message itself ---------------------------------------------------------------------

def read(message: int, wparam: int, lparam: int) -> tuple[SessionChange, str] | None:
    msg = ctypes.wintypes.MSG()
    msg.message, msg.wParam, msg.lParam = message, wparam, lparam
    return wn.session_change(*wn.message_at(ctypes.addressof(msg)), own_session=OWN_SESSION)


def test_a_session_notice_for_another_session_is_ignored() -> None:
    """WM_WTSSESSION_CHANGE carries the session id in lParam; a lock of session 5 (or a
    forged message naming it) says nothing about the candidate's session 2."""
    assert read(wn.WM_WTSSESSION_CHANGE, wn.WTS_SESSION_LOCK, 5) is None
    assert read(wn.WM_WTSSESSION_CHANGE, wn.WTS_SESSION_LOCK, OWN_SESSION) == (
        SessionChange.LOCKED, "")
    # Power messages carry no session: lParam is not read.
    assert read(wn.WM_POWERBROADCAST, wn.PBT_APMSUSPEND, 0) == (SessionChange.SUSPENDED, "")
