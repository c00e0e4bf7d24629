"""Runs the attack set (tests/integrity/attacks/) through the real rules, shared by
tests/integrity/test_integrity_attacks.py and benchmarks/integrity_attacks.py.

Static fixtures go through ``evaluate``; fixtures with a ``later`` state (a tool started
or a display added after the check) go through the real ``IntegrityMonitor`` at its real
cadence, on a scripted clock, with a collector that answers from the fixture: the state
changes at ``at_s`` and the monitor must report the later findings within
``DETECT_WITHIN_S``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from integrity_fixtures import ATTACKS, GoldenCase, fixture_names, load_case, signature

from client.integrity.evaluate import evaluate
from client.integrity.monitor import DEFAULT_PROCESS_INTERVAL_S, IntegrityMonitor
from client.integrity.rules import Rules
from client.integrity.snapshot import ProcessInfo, SessionInfo, Snapshot

DETECT_WITHIN_S = 5.0  # issue 17: a tool started mid-exam is reported within 5 s

Signature = frozenset[tuple[str, str, str, str]]


@dataclass(frozen=True)
class Outcome:
    case: GoldenCase
    found: Signature  # what the rules decided (for a timeline: after the change)
    latency_s: float | None = None  # timeline only: when the later findings appeared

    @property
    def is_attack(self) -> bool:
        return self.case.name.startswith("attack_")

    @property
    def wanted(self) -> Signature:
        return self.case.later_expected if self.case.later is not None else self.case.expected

    @property
    def as_expected(self) -> bool:
        return self.found == self.wanted

    @property
    def blocked(self) -> bool:
        return any(sev == "block" for (_c, _k, _s, sev) in self.found)

    @property
    def warned(self) -> bool:
        return any(sev == "warn" for (_c, _k, _s, sev) in self.found)

    @property
    def attack_passes(self) -> bool:
        """The attack got through: none of the blocking findings it should cause."""
        wanted_blocks = {f for f in self.wanted if f[3] == "block"}
        return not (wanted_blocks and wanted_blocks <= self.found)


def attack_names() -> list[str]:
    return fixture_names(ATTACKS)


def load_attack(name: str) -> GoldenCase:
    return load_case(name, ATTACKS)


def run(case: GoldenCase, rules: Rules) -> Outcome:
    in_force = case.rules(rules)
    if case.later is None:
        return Outcome(case, signature(evaluate(case.snapshot, in_force)))
    return _run_timeline(case, in_force)


class _ScriptedCollector:
    """Answers from the fixture: the first state until ``at_s``, the later one after."""

    def __init__(self, case: GoldenCase, clock: list[float]) -> None:
        self._case = case
        self._clock = clock

    def _now(self) -> Snapshot:
        later = self._case.later
        if later is not None and self._clock[0] >= self._case.later_at_s:
            return later
        return self._case.snapshot

    def snapshot(self) -> Snapshot:
        return self._now()

    def processes(self, previous: Sequence[ProcessInfo]) -> tuple[ProcessInfo, ...]:
        return self._now().processes

    def session(self) -> SessionInfo:
        return self._now().session

    def set_rules(self, rules: Rules) -> None:
        """A fixture already holds what was read."""


def _run_timeline(case: GoldenCase, rules: Rules) -> Outcome:
    clock = [0.0]
    monitor = IntegrityMonitor(collector=_ScriptedCollector(case, clock), rules=rules,
                               on_update=lambda _u: None, clock=lambda: clock[0])
    monitor.tick(full=True, wait_full_s=5.0)  # the check at t = 0
    # Ticks at the real cadence; a device change requests a full scan at once
    # (client/ui/device_changes.py -> monitor.request_full_scan()).
    times = [i * DEFAULT_PROCESS_INTERVAL_S for i in range(1, 5)]
    if case.later_device_change:
        times.append(case.later_at_s)
    found: Signature = frozenset()
    for t in sorted(times):
        clock[0] = t
        full = case.later_device_change and t == case.later_at_s
        monitor.tick(full=full, wait_full_s=5.0 if full else 0.0)
        found = signature(list(monitor.findings))
        if t >= case.later_at_s and case.later_expected <= found:
            return Outcome(case, found, latency_s=t - case.later_at_s)
    return Outcome(case, found, latency_s=None)
