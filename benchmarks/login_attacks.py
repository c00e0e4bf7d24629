"""Attack review of the candidate login (issue 18): runs the attack set
(tests/server/test_login_attacks.py: a real server on 127.0.0.1 over real HTTP) and prints,
per category, how many attacks were stopped and how many got through, then

    N attacks: S stopped, T through (x%)

    python benchmarks/login_attacks.py            # SQLite
    EXAM_SERVER_TEST_POSTGRES_URL=... python benchmarks/login_attacks.py   # PostgreSQL

Categories: token (a dishonest candidate with a writing token), flood (an outsider on the
exam LAN filling the login gate), leak (whether the answers tell who exists), deploy (a
careless deployment). Target: 0 through.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from attack_tally import run_attack_set

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = ROOT / "tests" / "server" / "test_login_attacks.py"


def main() -> int:
    run = run_attack_set([ATTACKS])
    run.print_table(width=10)
    total, stopped, through = len(run.outcomes), run.count("stopped"), run.count("through")
    share = 100.0 * through / total if total else 0.0
    print(f"{total} attacks: {stopped} stopped, {through} through ({share:.0f}%)"
          f" [run took {run.elapsed_s:.0f} s]")
    return 1 if through else 0


if __name__ == "__main__":
    sys.exit(main())
