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
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = ROOT / "tests" / "server" / "test_login_attacks.py"


class _Tally:
    """A pytest plugin: the outcome of every attack, by its category marker."""

    def __init__(self) -> None:
        self.category: dict[str, str] = {}
        self.outcome: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        for item in items:
            marker = item.get_closest_marker("attack")
            if marker is not None:
                self.category[item.nodeid] = str(marker.args[0])

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.nodeid not in self.category:
            return
        if report.failed:
            self.outcome[report.nodeid] = "through"
        elif report.skipped:
            self.outcome.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            self.outcome[report.nodeid] = "stopped"


def main() -> int:
    tally = _Tally()
    started = time.perf_counter()
    pytest.main([str(ATTACKS), "-q", "-p", "no:cacheprovider", "--no-header", "-rN",
                 "-o", "console_output_style=classic"], plugins=[tally])
    elapsed = time.perf_counter() - started
    by_category: dict[str, list[str]] = defaultdict(list)
    for nodeid, category in tally.category.items():
        by_category[category].append(tally.outcome.get(nodeid, "skipped"))
    print()
    print(f"{'category':<10}{'attacks':>8}{'stopped':>9}{'through':>9}{'skipped':>9}")
    for category in sorted(by_category):
        outcomes = by_category[category]
        print(f"{category:<10}{len(outcomes):>8}{outcomes.count('stopped'):>9}"
              f"{outcomes.count('through'):>9}{outcomes.count('skipped'):>9}")
    for nodeid, outcome in tally.outcome.items():
        if outcome == "through":
            print(f"THROUGH: {nodeid.split('::')[-1]}")
    everything = [o for outcomes in by_category.values() for o in outcomes]
    stopped, through = everything.count("stopped"), everything.count("through")
    share = 100.0 * through / len(everything) if everything else 0.0
    print(f"{len(everything)} attacks: {stopped} stopped, {through} through ({share:.0f}%)"
          f" [run took {elapsed:.0f} s]")
    return 1 if through else 0


if __name__ == "__main__":
    sys.exit(main())
