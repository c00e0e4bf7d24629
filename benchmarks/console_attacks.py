"""Attack review of the invigilation console: runs the attack sets (tests/console/
test_console_attacks.py, real server over HTTP, headless Chromium where the browser
decides; test_console_client_attacks.py, the exam PC's side: crafted heartbeat answers
over real HTTP, the message parser and banner) and prints, per category, how many attacks
were stopped and how many got through.

    python benchmarks/console_attacks.py

Target: 0 through in every category. An attack that could not run (no Chromium) is
counted as skipped, not as stopped.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = [ROOT / "tests" / "console" / name
           for name in ("test_console_attacks.py", "test_console_client_attacks.py")]


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
    pytest.main([*map(str, ATTACKS), "-q", "-p", "no:cacheprovider", "--no-header", "-rN",
                 "-o", "console_output_style=classic"], plugins=[tally])
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
    print(f"{'all':<12}{len(everything):>8}{everything.count('stopped'):>9}"
          f"{everything.count('through'):>9}{everything.count('skipped'):>9}")
    through = [nodeid.split("::")[-1] for nodeid, o in tally.outcome.items() if o == "through"]
    for name in through:
        print(f"THROUGH: {name}")
    print(f"attack pass rate: {everything.count('through')}/{len(everything)} "
          f"(run took {elapsed:.0f} s)")
    return 1 if through else 0


if __name__ == "__main__":
    sys.exit(main())
