"""One review record when a situation starts and one when it ends, whatever the scans do.

Why: scans see the same situation in several shapes. A remote-control service started
mid-exam is first a new process (cheap 3 s scan) and, after the next full scan, its running
service; a flickering USB device disappears for one scan. Recording every change gave three
records for one service. An episode is keyed by ``Finding.episode_key`` (code, check,
subject, severity), so a change of shape keeps the episode; it ends only after it has been
absent for *grace_s* (the debounce), so a one-scan gap does not split it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from client.integrity.findings import Finding


@dataclass(frozen=True)
class EpisodeChanges:
    started: tuple[Finding, ...] = ()  # warnings and blocks that began, with their evidence
    ended: tuple[Finding, ...] = ()  # the last evidence seen of episodes that ended

    def __bool__(self) -> bool:
        return bool(self.started or self.ended)


class EpisodeTracker:
    def __init__(self, *, grace_s: float) -> None:
        if grace_s < 0:
            raise ValueError("grace_s must not be negative")
        self._grace = grace_s
        self._open: dict[str, Finding] = {}
        self._missing_since: dict[str, float] = {}

    @property
    def open(self) -> tuple[Finding, ...]:
        return tuple(self._open.values())

    def update(self, findings: Iterable[Finding], *, now: float) -> EpisodeChanges:
        started: list[Finding] = []
        current: set[str] = set()
        for finding in findings:
            key = finding.episode_key
            current.add(key)
            self._missing_since.pop(key, None)
            if key not in self._open:
                started.append(finding)
            self._open[key] = finding  # keep the freshest evidence for the end record
        ended: list[Finding] = []
        for key in [k for k in self._open if k not in current]:
            since = self._missing_since.setdefault(key, now)
            if now - since >= self._grace:
                ended.append(self._open.pop(key))
                del self._missing_since[key]
        return EpisodeChanges(tuple(started), tuple(ended))
