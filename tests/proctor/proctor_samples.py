"""Test helpers for the proctor code: a cheap hasher, an in-memory sink, a hand clock."""

from __future__ import annotations

from collections.abc import Mapping

from argon2 import PasswordHasher

# Cheaper than production (tests only): the checks are the same, the cost parameters are
# read from each hash.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


class ListSink:
    """In-memory EventSink for tests of the proctor code on its own."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []

    def append(self, kind: str, payload: Mapping[str, object]) -> None:
        self.events.append((kind, dict(payload)))

    def kinds(self) -> list[str]:
        return [kind for kind, _payload in self.events]


class FakeMonotonic:
    """A monotonic clock the test moves by hand (no sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
