"""What the exam window checks before and during the exam (built by the caller).

Kept as plain callables so that tests and the demo can hand in a fixture snapshot or a
file-backed camera while the real client hands in the platform collectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from client.integrity.collector import Collector
from client.integrity.rules import Rules
from client.integrity.snapshot import Snapshot


@dataclass
class IntegrityChecks:
    scan: Callable[[], Snapshot]                 # full snapshot for the pre-exam screen
    collector: Callable[[], Collector]           # for the in-exam monitor
    rules: Callable[[], Rules]
    enforce: bool = True   # False only in demo mode on a VM: findings shown, not blocking
    process_interval_s: float = 3.0
    device_interval_s: float = 45.0


def platform_integrity_checks(*, enforce: bool = True, low_end: bool = False,
                              selected_camera: str | None = None) -> IntegrityChecks:
    from client.integrity.collector import platform_collector
    from client.integrity.rules import builtin_rules

    def collector() -> Collector:
        return platform_collector(rules=builtin_rules(), selected_camera=selected_camera)

    return IntegrityChecks(scan=lambda: collector().snapshot(), collector=collector,
                           rules=builtin_rules, enforce=enforce,
                           process_interval_s=6.0 if low_end else 3.0,
                           device_interval_s=60.0 if low_end else 45.0)


def replayed_integrity_checks(snapshot_file: Path, *, enforce: bool = True) -> IntegrityChecks:
    """Checks against a recorded snapshot (support replays, demo, end-to-end tests)."""
    from client.integrity.replay import ReplayCollector
    from client.integrity.rules import builtin_rules

    collector = ReplayCollector(snapshot_file)
    return IntegrityChecks(scan=collector.snapshot, collector=lambda: collector,
                           rules=builtin_rules, enforce=enforce)
