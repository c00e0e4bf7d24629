"""Attack review of the invigilation console: runs the attack sets (tests/console/
test_console_attacks.py, real server over HTTP, headless Chromium where the browser
decides; test_console_client_attacks.py, the exam PC's side: crafted heartbeat answers
over real HTTP, the message parser and banner; test_console_face_attacks.py, entry after a
failed face check: deciding another room's or one's own hold, the evidence photos,
uploads, replays; test_console_pause_attacks.py, pauses and the proctor actions exam PCs report)
and prints, per category, how many attacks were stopped and how many got through.

    python benchmarks/console_attacks.py

Target: 0 through in every category. An attack that could not run (no Chromium) is
counted as skipped, not as stopped.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from attack_tally import run_attack_set

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = [ROOT / "tests" / "console" / name
           for name in ("test_console_attacks.py", "test_console_client_attacks.py",
                        "test_console_face_attacks.py", "test_console_pause_attacks.py")]


def main() -> int:
    run = run_attack_set(ATTACKS)
    run.print_table(width=12, with_total=True)
    print(f"attack pass rate: {run.count('through')}/{len(run.outcomes)} "
          f"(run took {run.elapsed_s:.0f} s)")
    return 1 if run.through else 0


if __name__ == "__main__":
    sys.exit(main())
