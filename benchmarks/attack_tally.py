"""The runner the attack benchmarks share (login_attacks.py, console_attacks.py,
store_attacks.py): run an attack set with pytest and count, per ``@pytest.mark.attack(
"category")``, the attacks stopped (the test passed) and the attacks through (it failed,
or is marked as an expected failure: a known way through). An attack that could not run
is counted as skipped, never as stopped."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


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


@dataclass
class AttackRun:
    by_category: dict[str, list[str]] = field(default_factory=dict)  # category -> outcomes
    through: list[str] = field(default_factory=list)  # test names
    elapsed_s: float = 0.0

    @property
    def outcomes(self) -> list[str]:
        return [outcome for outcomes in self.by_category.values() for outcome in outcomes]

    def count(self, outcome: str) -> int:
        return self.outcomes.count(outcome)

    def print_table(self, *, width: int = 12, with_total: bool = False) -> None:
        """Per category: attacks, stopped, through, skipped (and an 'all' row)."""
        print()
        print(f"{'category':<{width}}{'attacks':>8}{'stopped':>9}{'through':>9}{'skipped':>9}")
        rows = sorted(self.by_category.items())
        if with_total:
            rows.append(("all", self.outcomes))
        for category, outcomes in rows:
            print(f"{category:<{width}}{len(outcomes):>8}{outcomes.count('stopped'):>9}"
                  f"{outcomes.count('through'):>9}{outcomes.count('skipped'):>9}")
        for name in self.through:
            print(f"THROUGH: {name}")


def run_attack_set(paths: Sequence[Path], *, extra_args: Sequence[str] = ()) -> AttackRun:
    tally = _Tally()
    started = time.perf_counter()
    pytest.main([*map(str, paths), "-q", "-p", "no:cacheprovider", "--no-header", "-rN",
                 "-o", "console_output_style=classic", *extra_args], plugins=[tally])
    run = AttackRun(elapsed_s=time.perf_counter() - started)
    by_category: dict[str, list[str]] = defaultdict(list)
    for nodeid, category in tally.category.items():
        by_category[category].append(tally.outcome.get(nodeid, "skipped"))
    run.by_category = dict(by_category)
    run.through = sorted(nodeid.split("::")[-1] for nodeid, outcome in tally.outcome.items()
                         if outcome == "through")
    return run
