"""Sample answer revisions for the offline-file tests."""

from __future__ import annotations

from client.store.model import Revision


def make_revisions(count: int, *, per_question: int = 1, base_ms: int = 1_700_000_000_000,
                   secret_text: str = "") -> list[Revision]:
    revisions = []
    for q in range(count):
        for r in range(1, per_question + 1):
            value: object = f"{secret_text}答案{q}-{r}" if q % 2 else "B"
            revisions.append(Revision(question_id=f"q{q:03d}", revision=r, value=value,  # type: ignore[arg-type]
                                      wall_time_ms=base_ms + q * 1000 + r,
                                      mono_time_ns=(q * 1000 + r) * 1_000_000,
                                      server_time_ms=base_ms + q * 1000 + r, synced=r == 1))
    return revisions
