"""A collector that replays a recorded snapshot file (``exam-client check --dump-snapshot``).

Support replays a candidate's dump on any OS to see what the rules decide; the demo and
the end-to-end tests use it to show the check screen for a known machine. The file is
re-read at every scan, so editing it (closing a "tool") changes the next verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from client.integrity.rules import Rules
from client.integrity.snapshot import ProcessInfo, SessionInfo, Snapshot


class ReplayCollector:
    def __init__(self, path: Path) -> None:
        self.path = path

    def snapshot(self) -> Snapshot:
        return Snapshot.loads(self.path.read_text(encoding="utf-8"))

    def processes(self, previous: Sequence[ProcessInfo]) -> tuple[ProcessInfo, ...]:
        return self.snapshot().processes

    def session(self) -> SessionInfo:
        return self.snapshot().session

    def set_rules(self, rules: Rules) -> None:
        """A recording already holds what was read; the rules only change the verdict."""
