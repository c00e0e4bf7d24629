"""Attacks that dress a switch to another program up as the lock screen (issue 20): the
guard excuses the lock screen in front during a lock (which a helper program of the same
user can announce with a forged notice) and for LATE_NOTICE_MS after an unlock. The
candidate controls their own files, so the program in front is given as Windows would
name it (client/lockdown/foreground.py, plain strings for the process name, its file and
the Windows folder) into the real FocusLog, read back by the real away_totals as the
proctor panel and the console read the review records. Each test is one attack
(benchmarks/session_attacks.py counts them)."""

from __future__ import annotations

import pytest

from client.lockdown.away_time import AwayTotals, away_totals, episode_id
from client.lockdown.focus import LATE_NOTICE_MS, FocusLog, LockdownEvent
from client.lockdown.foreground import foreground_label
from client.lockdown.session_change import SessionChange

WINDOWS = r"C:\Windows"
REAL_LOCK_APP = r"C:\Windows\SystemApps\Microsoft.LockApp_cw5n1h2txyewy\LockApp.exe"


class Clock:
    def __init__(self) -> None:
        self.ms = 5_000_000

    def __call__(self) -> int:
        return self.ms


def in_front(exe_path: str | None) -> str:
    """What the adapter records for the file *exe_path* in front."""
    name = "LockApp.exe" if exe_path is None else exe_path.rsplit("\\", 1)[-1]
    return foreground_label(name=name, exe_path=exe_path, windows_dir=WINDOWS)


def totals_of(log: FocusLog, recorded: list[LockdownEvent]) -> AwayTotals:
    records = [(f"{episode_id(e.event_id)}-{'resolved' if e.ended_ms else 'found'}",
                {"finding": e.finding()}) for e in recorded]
    return away_totals(records)


def forged_lock_then(program: str, *, minutes: int) -> tuple[FocusLog, list[LockdownEvent]]:
    """A helper posts WTS_SESSION_LOCK (same user, own session id), *program* takes the
    foreground for *minutes*, the exam window comes back."""
    clock = Clock()
    log = FocusLog(now_ms=clock, elapsed_ms=clock)
    recorded = list(log.session(SessionChange.LOCKED))
    clock.ms += 100
    event = log.lost(taken_by=program)
    recorded += [event] if event is not None else []
    clock.ms += minutes * 60_000
    back = log.regained()
    recorded += [back] if back is not None else []
    recorded += log.back_in_front()
    return log, recorded


@pytest.mark.attack("lock")
@pytest.mark.parametrize("fake", [
    r"C:\Users\kaosheng\AppData\Local\Temp\LockApp.exe",        # a browser, renamed
    r"C:\Users\kaosheng\Desktop\LogonUI.exe",
    r"C:\Windows\Temp\LockApp.exe",                               # users may write there
    r"C:\Windows\Tasks\LogonUI.exe",
    r"C:\Windows\System32\..\..\Users\kaosheng\LockApp.exe",     # a path that walks out
    r"\\?\C:\Users\kaosheng\LOCKAPP.EXE",
    r"D:\SystemApps\Microsoft.LockApp_cw5n1h2txyewy\LockApp.exe",  # the right tail, elsewhere
], ids=["temp", "desktop", "windows-temp", "windows-tasks", "dot-dot", "long-path",
        "other-drive"])
def test_a_renamed_program_is_not_the_lock_screen(fake: str) -> None:
    """Forged lock notice, then the candidate's own program named LockApp.exe / LogonUI.exe
    in front for 10 minutes: 切屏, the whole time, recorded with its file."""
    log, recorded = forged_lock_then(in_front(fake), minutes=10)
    totals = totals_of(log, recorded)
    assert log.focus_losses == 1 and totals.losses == 1
    assert totals.away_ms >= 10 * 60_000
    assert any(e.detail.get("taken_by") == fake for e in recorded)


@pytest.mark.attack("lock")
def test_a_renamed_lock_screen_right_after_an_unlock_is_seen() -> None:
    """Win+L, unlock, and within LATE_NOTICE_MS the candidate's LockApp.exe comes to the
    front: counted at once (a real lock screen lingering would not be)."""
    clock = Clock()
    log = FocusLog(now_ms=clock, elapsed_ms=clock)
    log.session(SessionChange.LOCKED)
    clock.ms += 60_000
    log.session(SessionChange.UNLOCKED)
    clock.ms += LATE_NOTICE_MS // 3
    assert log.settling
    fake = r"C:\Users\kaosheng\Downloads\LockApp.exe"
    event = log.lost(taken_by=in_front(fake))
    assert event is not None and event.detail["taken_by"] == fake
    clock.ms += 5 * 60_000
    assert log.regained() is not None
    assert log.focus_losses == 1


@pytest.mark.attack("lock")
def test_an_unnamed_window_after_an_unlock_is_counted_once_the_allowance_is_over() -> None:
    """Win+L, unlock, then a window Windows names no program for (as the guard looks
    again while the lock screen goes away): at most LATE_NOTICE_MS goes uncounted."""
    clock = Clock()
    log = FocusLog(now_ms=clock, elapsed_ms=clock)
    log.session(SessionChange.LOCKED)
    clock.ms += 30_000
    log.session(SessionChange.UNLOCKED)
    clock.ms += 200
    assert log.lost(taken_by="") is None  # the lock screen may still be going away
    clock.ms += LATE_NOTICE_MS
    event = log.lost(taken_by="")
    assert event is not None
    clock.ms += 60_000
    log.regained()
    assert log.focus_losses == 1 and (event.away_ms or 0) >= 60_000


def test_the_real_lock_screen_is_still_the_lock_screen() -> None:
    """Not an attack: Windows' own LockApp (any case, long path) and LogonUI (SYSTEM's,
    its file unreadable) are the lock screen; a lock with them in front is no 切屏."""
    for path in (REAL_LOCK_APP, REAL_LOCK_APP.upper(), "\\\\?\\" + REAL_LOCK_APP,
                 r"c:\windows\system32\logonui.exe"):
        assert in_front(path).lower() in {"lockapp.exe", "logonui.exe"}, path
    assert foreground_label(name="LogonUI.exe", exe_path=None,
                            windows_dir=WINDOWS) == "LogonUI.exe"
    assert foreground_label(name="notepad.exe", exe_path=r"C:\Windows\notepad.exe",
                            windows_dir=WINDOWS) == "notepad.exe"
    log, recorded = forged_lock_then(in_front(REAL_LOCK_APP), minutes=10)
    assert log.focus_losses == 0
    assert totals_of(log, recorded).losses == 0


@pytest.mark.attack("lock")
def test_alt_tab_to_a_browser_within_the_allowance_after_an_unlock_is_counted() -> None:
    """Win+L, unlock, and Alt+Tab to the browser within LATE_NOTICE_MS: 切屏 from that
    moment, the whole time."""
    clock = Clock()
    log = FocusLog(now_ms=clock, elapsed_ms=clock)
    log.session(SessionChange.LOCKED)
    clock.ms += 20_000
    log.session(SessionChange.UNLOCKED)
    clock.ms += 500
    switched_at = clock.ms
    event = log.lost(taken_by=in_front(r"C:\Program Files\Google\Chrome\Application\chrome.exe"))
    assert event is not None and event.started_ms == switched_at
    clock.ms += 120_000
    log.regained()
    assert log.focus_losses == 1 and (event.away_ms or 0) == 120_000


@pytest.mark.attack("lock")
@pytest.mark.parametrize("forged", [SessionChange.UNLOCKED, SessionChange.RESUMED,
                                    SessionChange.SWITCHED_BACK])
def test_an_end_notice_without_its_beginning_opens_no_allowance(forged: SessionChange) -> None:
    """A helper posts an unlock / resume / switch-back that no lock began, then an unnamed
    window (as the lock screen would be) stays in front for 5 minutes: no allowance, 切屏."""
    clock = Clock()
    log = FocusLog(now_ms=clock, elapsed_ms=clock)
    assert log.session(forged) == []
    clock.ms += 100
    assert not log.settling
    event = log.lost(taken_by="")
    assert event is not None
    clock.ms += 300_000
    log.regained()
    assert log.focus_losses == 1
