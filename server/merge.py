"""Merge answer revisions into an attempt: the one place that decides which answer counts.

Used by answer sync (POST /attempt/answers) and by the offline answer file import. Rules:

- Per question the highest revision wins, whatever order revisions arrive in.
- A revision already stored is a duplicate: replaying a batch changes nothing.
- A revision made after the exam ended is rejected. "Made after the end" needs both the
  server to have received it after the end *and* the client's time for it (its estimate of
  server time at save) to be after the end; an answer given before a network cut and
  delivered later (sync after reconnect, offline file) is still accepted.
- Every distinct revision is kept in ``answer_revisions`` (audit trail), even older ones.
- New answers for a submitted attempt clear its score, so it is scored again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, select

from server import schema as t
from server.db import IN_PROGRESS, Database, JsonValue

SOURCES = ("sync", "offline_file")


class Outcome(StrEnum):
    APPLIED = "applied"
    IGNORED_OLDER = "ignored_older"
    DUPLICATE = "duplicate"
    REJECTED_AFTER_END = "rejected_after_end"


@dataclass(frozen=True)
class IncomingRevision:
    question_id: str
    revision: int
    value: JsonValue
    client_time_ms: int | None


@dataclass(frozen=True)
class RevisionOutcome:
    question_id: str
    revision: int
    outcome: Outcome


@dataclass(frozen=True)
class MergeReport:
    outcomes: tuple[RevisionOutcome, ...]

    @property
    def acked(self) -> list[tuple[str, int]]:
        """Revisions the sender may forget: stored now or before (all but rejected)."""
        return [
            (o.question_id, o.revision)
            for o in self.outcomes
            if o.outcome is not Outcome.REJECTED_AFTER_END
        ]

    @property
    def rejected(self) -> list[tuple[str, int]]:
        return [
            (o.question_id, o.revision)
            for o in self.outcomes
            if o.outcome is Outcome.REJECTED_AFTER_END
        ]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o.outcome is outcome)

    @property
    def changed_answers(self) -> bool:
        return self.count(Outcome.APPLIED) > 0

    def per_question(self) -> dict[str, Outcome]:
        """One outcome per question: APPLIED if any of its revisions applied, else the last."""
        result: dict[str, Outcome] = {}
        for o in self.outcomes:
            if result.get(o.question_id) is not Outcome.APPLIED:
                result[o.question_id] = o.outcome
        return result


def merge_revisions(
    db: Database,
    *,
    attempt_id: int,
    revisions: Iterable[IncomingRevision],
    source: str,
    exam_end_ms: int,
    received_at_ms: int,
) -> MergeReport:
    """Merge *revisions* into the attempt in one transaction and report each one's fate."""
    if source not in SOURCES:
        raise ValueError(f"unknown answer source {source!r}")
    ordered = sorted(revisions, key=lambda r: (r.question_id, r.revision))
    for rev in ordered:
        if rev.revision < 1:
            raise ValueError(f"revision numbers start at 1: {rev}")
    outcomes: list[RevisionOutcome] = []
    with db.write() as conn:
        # Row lock (PostgreSQL): concurrent merges into one attempt run one after another.
        attempt = conn.execute(
            select(t.attempts.c.status).where(t.attempts.c.id == attempt_id).with_for_update()
        ).one()
        received_after_end = received_at_ms > exam_end_ms
        for rev in ordered:
            made_after_end = received_after_end and (
                rev.client_time_ms is None or rev.client_time_ms > exam_end_ms
            )
            if made_after_end:
                outcome = Outcome.REJECTED_AFTER_END
            else:
                outcome = _merge_one(
                    conn, attempt_id=attempt_id, rev=rev, source=source, at_ms=received_at_ms
                )
            outcomes.append(RevisionOutcome(rev.question_id, rev.revision, outcome))
        report = MergeReport(tuple(outcomes))
        if report.changed_answers and attempt.status != IN_PROGRESS:
            conn.execute(
                t.attempts.update()
                .where(t.attempts.c.id == attempt_id)
                .values(score=None, max_score=None, scored_at_ms=None)
            )
    return report


def _merge_one(
    conn: Connection, *, attempt_id: int, rev: IncomingRevision, source: str, at_ms: int
) -> Outcome:
    history = t.answer_revisions
    seen = conn.execute(
        select(history.c.value).where(
            (history.c.attempt_id == attempt_id)
            & (history.c.question_id == rev.question_id)
            & (history.c.revision == rev.revision)
        )
    ).first()
    if seen is not None:
        if seen.value != rev.value:
            # Same revision number, different content: the client lost its numbering
            # (e.g. a wiped answer store). Keep the first one, leave evidence for staff.
            conn.execute(
                t.events.insert().values(
                    attempt_id=attempt_id,
                    kind="revision_conflict",
                    payload={
                        "question_id": rev.question_id,
                        "revision": rev.revision,
                        "rejected_value": rev.value,
                        "source": source,
                    },
                    at_ms=at_ms,
                )
            )
        return Outcome.DUPLICATE
    values = {
        "revision": rev.revision,
        "value": rev.value,
        "client_time_ms": rev.client_time_ms,
        "received_at_ms": at_ms,
        "source": source,
    }
    conn.execute(
        history.insert().values(attempt_id=attempt_id, question_id=rev.question_id, **values)
    )
    current = conn.execute(
        select(t.answers.c.revision).where(
            (t.answers.c.attempt_id == attempt_id) & (t.answers.c.question_id == rev.question_id)
        )
    ).first()
    if current is None:
        conn.execute(
            t.answers.insert().values(attempt_id=attempt_id, question_id=rev.question_id, **values)
        )
        return Outcome.APPLIED
    if rev.revision > current.revision:
        conn.execute(
            t.answers.update()
            .where(
                (t.answers.c.attempt_id == attempt_id)
                & (t.answers.c.question_id == rev.question_id)
            )
            .values(values)
        )
        return Outcome.APPLIED
    return Outcome.IGNORED_OLDER
