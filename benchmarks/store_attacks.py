"""Attack review of the answer store's redo log (issue 21): runs the attack set
(tests/store/test_redo_attacks.py: real SQLCipher stores, power cuts simulated by dropping
what was not flushed, damaged, truncated, swapped and missing logs, full disks) and prints
how many attacks were stopped and how many got through, per category.

    python benchmarks/store_attacks.py

An attack gets through when an acknowledged answer is missing without a report that says
so, an older answer comes back over a newer one, or the client cannot open the store for
anything but a clear StoreError. Attacks marked as expected failures (xfail) are known to
get through (docs/durability.md, section 5b) and are counted as through. Run it with
PYTHONPATH pointing at another checkout to measure that checkout's store code.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = ROOT / "tests" / "store" / "test_redo_attacks.py"


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
        if report.failed or hasattr(report, "wasxfail"):
            self.outcome[report.nodeid] = "through"
        elif report.skipped:
            self.outcome.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            self.outcome[report.nodeid] = "stopped"


def main() -> int:
    tally = _Tally()
    started = time.perf_counter()
    pytest.main([str(ATTACKS), "-q", "-p", "no:cacheprovider", "--no-header", "-rN",
                 "--show-capture=no", "--tb=no", "-o", "console_output_style=classic"],
                plugins=[tally])
    elapsed = time.perf_counter() - started
    by_category: dict[str, list[str]] = defaultdict(list)
    for nodeid, category in tally.category.items():
        by_category[category].append(tally.outcome.get(nodeid, "skipped"))
    print()
    print(f"{'category':<12}{'attacks':>8}{'stopped':>9}{'through':>9}{'skipped':>9}")
    for category in sorted(by_category):
        outcomes = by_category[category]
        print(f"{category:<12}{len(outcomes):>8}{outcomes.count('stopped'):>9}"
              f"{outcomes.count('through'):>9}{outcomes.count('skipped'):>9}")
    everything = [o for outcomes in by_category.values() for o in outcomes]
    for nodeid, outcome in sorted(tally.outcome.items()):
        if outcome == "through":
            print(f"THROUGH: {nodeid.split('::')[-1]}")
    total, through = len(everything), everything.count("through")
    print(f"{total} attacks: {everything.count('stopped')} stopped, {through} through "
          f"({100 * through / max(total, 1):.0f}%); {everything.count('skipped')} skipped; "
          f"run took {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
