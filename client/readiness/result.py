"""One line of the readiness report: a named check, its verdict and the facts behind it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """Verdict of one check; the order is the severity (a report is as bad as its worst)."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


@dataclass(frozen=True)
class CheckResult:
    """``message`` is already translated; ``detail`` holds plain JSON-able facts for support."""

    name: str
    status: Status
    message: str
    detail: Mapping[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "status": self.status.value, "message": self.message,
                "detail": dict(self.detail)}


def worst(results: Iterable[CheckResult]) -> Status:
    """The most severe status among *results* (PASS for none)."""
    return max((r.status for r in results), key=lambda s: s.severity, default=Status.PASS)
