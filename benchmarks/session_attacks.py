"""Attack review of "a lock, suspend or user switch is not 切屏" (issue 20): each attack
is a sequence of what Windows would report (focus losses with the program Windows names
as the foreground one, session notices) played into the real FocusLog; its records are
read back by away_totals as the proctor panel and the console read them. An attack gets
through when the time the candidate spent at another program or on another user's
desktop is not counted as time away, or a switch is not counted.

    python benchmarks/session_attacks.py

Target: 0 through. The Qt-side attacks (the guard re-checking the foreground during a
"lock", a notice for another session) are in tests/ui/test_session_lock_attacks.py.

Then the attack sets run with pytest (benchmarks/attack_tally.py), per category:
identity_hold (tests/session/test_identity_hold_attacks.py: a killed and restarted
client, a refusal, a wiped data folder, a replayed approval, approve and refuse at once;
real server, real sessions), lock (tests/lockdown/test_lock_disguise_attacks.py and the
marked test in tests/ui/test_session_lock_attacks.py: a renamed program passing for the
lock screen, the allowance after an unlock) and pause (tests/offline_import/
test_pause_attacks.py: answers smuggled out of a pause, a PC ending a pause;
tests/sync/test_clock_file_attacks.py: the server-clock anchor file edited offline).

Measured 2026-12-08 (attack-session8): on main at 01d1273 (before the fixes; the
adapter then recorded the process name only) 16/35 through (identity_hold 4/6, lock
9/14, pause 3/6); after, 1/35: time with the client closed is not stamped (a known way
through, xfail in tests/sync/test_clock_file_attacks.py).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from client.lockdown.away_time import away_totals, episode_id
from client.lockdown.focus import FocusLog, LockdownEvent
from client.lockdown.session_change import SessionChange

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attack_tally import run_attack_set

ROOT = Path(__file__).resolve().parents[1]
ATTACK_SETS = [
    ROOT / "tests" / "session" / "test_identity_hold_attacks.py",
    ROOT / "tests" / "lockdown" / "test_lock_disguise_attacks.py",
    Path(f"{ROOT / 'tests' / 'ui' / 'test_session_lock_attacks.py'}::"
         "test_a_renamed_program_passing_for_the_lock_screen_in_a_forged_lock_is_seen"),
    ROOT / "tests" / "offline_import" / "test_pause_attacks.py",
    ROOT / "tests" / "sync" / "test_clock_file_attacks.py",
]

Step = tuple[int, str, str]  # (ms since the previous step, step, program or via)


@dataclass(frozen=True)
class Attack:
    name: str
    script: list[Step]
    elsewhere_ms: int  # time the candidate really spent away from the exam
    leaves: int  # times the candidate really left the exam


def _peeks(count: int) -> list[Step]:
    script: list[Step] = []
    for _ in range(count):
        script += [(60_000, "lost", "msedge.exe"), (2_900, "locked", ""),
                   (4_000, "unlocked", ""), (100, "back", "")]
    return script


ATTACKS = [
    Attack("fast user switch, 20 min on another desktop",
           [(0, "lost", ""), (200, "switched_away", "console"),
            (1_200_000, "switched_back", "console"), (300, "back", "")], 1_200_000, 1),
    Attack("Win+L, switch user from the lock screen",
           [(0, "locked", ""), (100, "lost", ""), (2_000, "switched_away", "console"),
            (600_000, "switched_back", "console"), (5_000, "unlocked", ""),
            (200, "back", "")], 600_000, 1),
    Attack("switch away, client stops there",
           [(0, "switched_away", "console"), (60_000, "lost", "")], 0, 1),
    Attack("browser, then Win+L within 3 s",
           [(0, "lost", "chrome.exe"), (2_900, "locked", ""), (30_000, "unlocked", ""),
            (100, "back", "")], 2_900, 1),
    Attack("20 peeks, each excused by a lock",
           _peeks(20), 20 * 2_900, 20),
    Attack("forged lock notice, 10 min in Word",
           [(0, "locked", ""), (5_000, "lost", "WINWORD.EXE"), (600_000, "back", "")],
           600_000, 1),
    Attack("unlock before its lock, then Notepad",
           [(0, "unlocked", ""), (10, "locked", ""), (1_000, "lost", "notepad.exe"),
            (60_000, "back", "")], 60_000, 1),
    Attack("duplicated lock / unlock notices, then Notepad",
           [(0, "locked", ""), (0, "locked", ""), (50, "lost", ""), (60_000, "unlocked", ""),
            (0, "unlocked", ""), (10, "back", ""), (1_000, "lost", "notepad.exe"),
            (5_000, "back", "")], 5_000, 1),
    Attack("3 h suspend, then Chrome",
           [(0, "suspended", ""), (10_800_000, "resumed", ""), (200, "back", ""),
            (1_000, "lost", "chrome.exe"), (30_000, "back", "")], 30_000, 1),
]


def play(attack: Attack) -> list[LockdownEvent]:
    clock = [1_000_000]
    log = FocusLog(now_ms=lambda: clock[0])
    recorded: list[LockdownEvent] = []
    for delay, step, extra in attack.script:
        clock[0] += delay
        if step == "lost":
            event = log.lost(taken_by=extra)
            asked = [event] if event is not None else []
        elif step == "back":
            event = log.regained()
            asked = [event] if event is not None else []
            asked += log.back_in_front()
        else:
            asked = log.session(SessionChange(step), via=extra)
        recorded += [LockdownEvent(e.kind, e.number, e.started_ms, e.ended_ms,
                                   dict(e.detail), e.event_id) for e in asked]
    return recorded


def main() -> int:
    started = time.perf_counter()
    through = 0
    print(f"{'attack':<50}{'left':>6}{'counted':>9}{'away s':>9}{'counted s':>11}  result")
    for attack in ATTACKS:
        records = [(f"{episode_id(e.event_id)}-{'resolved' if e.ended_ms else 'found'}",
                    {"finding": e.finding()}) for e in play(attack)]
        totals = away_totals(records)
        passed = totals.losses < attack.leaves or totals.away_ms < attack.elsewhere_ms
        through += passed
        print(f"{attack.name:<50}{attack.leaves:>6}{totals.losses:>9}"
              f"{attack.elsewhere_ms / 1000:>9.1f}{totals.away_ms / 1000:>11.1f}  "
              f"{'THROUGH' if passed else 'stopped'}")
    elapsed = time.perf_counter() - started
    print(f"\n{len(ATTACKS)} attacks: {len(ATTACKS) - through} stopped, {through} through "
          f"({through / len(ATTACKS):.0%}) in {elapsed * 1000:.0f} ms")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    run = run_attack_set(ATTACK_SETS)
    run.print_table(width=14, with_total=True)
    total = len(ATTACKS) + len(run.outcomes)
    print(f"attack pass rate: {through + run.count('through')}/{total} "
          f"(scripted {through}/{len(ATTACKS)}, attack sets {run.count('through')}/"
          f"{len(run.outcomes)}, skipped {run.count('skipped')}; "
          f"attack sets took {run.elapsed_s:.0f} s)")
    return 1 if through or run.through else 0


if __name__ == "__main__":
    raise SystemExit(main())
