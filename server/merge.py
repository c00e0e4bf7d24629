"""Merge answer revisions into an attempt: the one place that decides which answer counts.

Used by answer sync (POST /attempt/answers) and by the offline answer file import. Rules:

- Per question the highest revision wins, whatever order revisions arrive in.
- A revision already stored is a duplicate: replaying a batch changes nothing.
- A revision made while the candidate's clock was paused (its server time inside one of
  the attempt's pause intervals, server/attempt_time.py) is held: never an answer, since
  the pause's length is given back at the end and counting it would give that time
  twice; kept once in ``paused_revisions`` for the proctor, and acked (it is stored).
  A PC that never heard of the pause (offline) sends such revisions on a late sync or in
  an offline file. A claimed time later than the arrival counts as the arrival,
  and so does a missing one (a PC that had no estimate of the server's clock); a
  revision once held stays held whatever time it claims when sent again.
- A revision made after the exam ended is rejected. "Made after the end" needs both the
  server to have received it after the end *and* the client's time for it (its estimate of
  server time at save) to be after the end; an answer given before a network cut and
  delivered later (sync after reconnect, offline file) is still accepted.
- Every distinct revision is kept in ``answer_revisions`` (audit trail), even older ones.
- New answers for a submitted attempt clear its score, so it is scored again.

Set-based: a batch costs a fixed handful of statements whatever its size (look up the
revisions already kept, the current revision per question, insert the history rows,
upsert the newest revision per question guarded by ``revision <``), with keys sorted so
concurrent merges lock rows in one order. The attempt row is locked first
(``FOR UPDATE`` on PostgreSQL, the write lock on SQLite), so merges into one attempt run
one after another.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Connection, TextClause, bindparam, select, text

from server import schema as t
from server.attempt_time import AttemptClock, PauseInterval, pause_at, pauses_for
from server.db import CANDIDATE_TOKEN, IN_PROGRESS, REVOKED_TOKEN, Database, JsonValue

SOURCES = ("sync", "offline_file")


class Outcome(StrEnum):
    APPLIED = "applied"
    IGNORED_OLDER = "ignored_older"
    DUPLICATE = "duplicate"
    REJECTED_AFTER_END = "rejected_after_end"
    HELD_DURING_PAUSE = "held_during_pause"
    # Decided before the merge, by the offline import (server/take_over.py): made on a PC
    # after another PC took the attempt over. The merge itself never returns it.
    REFUSED_AFTER_TAKE_OVER = "refused_after_take_over"


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
    # The stored revision of each question of the batch before and after the merge (read
    # once under the attempt's lock; questions with no answer stored are absent).
    revisions_before: dict[str, int] = field(default_factory=dict)
    revisions_after: dict[str, int] = field(default_factory=dict)

    @property
    def acked(self) -> list[tuple[str, int]]:
        """Revisions the sender may forget: stored now or before (all but rejected)."""
        return [
            (o.question_id, o.revision)
            for o in self.outcomes
            if o.outcome not in (Outcome.REJECTED_AFTER_END, Outcome.REFUSED_AFTER_TAKE_OVER)
        ]

    @property
    def held_during_pause(self) -> list[tuple[str, int]]:
        return [
            (o.question_id, o.revision)
            for o in self.outcomes
            if o.outcome is Outcome.HELD_DURING_PAUSE
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


# Bound parameters per statement stay well under SQLite's limit (32,766).
_CHUNK = 2_000

# The hot path's statements, written once as SQL that both engines accept: building and
# cache-keying SQLAlchemy expressions on every upload cost more CPU than running them.
# The candidate's clock rides along (one join): only an attempt ever paused costs the
# read of its pause intervals.
_SESSION = (
    "SELECT k.kind, k.client_id, k.expires_ms, a.status, a.submitted_at_ms, a.last_contact_ms,"
    " a.exam_id, a.candidate_id, p.paused_ms, p.paused_since_ms"
    " FROM attempts a"
    " JOIN tokens k ON k.attempt_id = a.id"
    " LEFT JOIN attempt_times p ON p.exam_id = a.exam_id AND p.candidate_id = a.candidate_id"
    " WHERE k.token_sha256 = :token AND a.id = :attempt"
)
_SESSION_SQLITE = text(_SESSION)
_SESSION_POSTGRES = text(_SESSION + " FOR UPDATE OF a")
_STORED = text(
    "SELECT question_id, revision, value FROM answer_revisions"
    " WHERE attempt_id = :attempt AND question_id IN :questions AND revision >= :lowest"
).bindparams(bindparam("questions", expanding=True)).columns(value=JSON())
_CURRENT = text(
    "SELECT question_id, revision FROM answers"
    " WHERE attempt_id = :attempt AND question_id IN :questions"
).bindparams(bindparam("questions", expanding=True))
# New revisions travel as ONE JSON parameter and are inserted by one set-based statement
# per table, whatever the batch size (an offline file holds thousands): one round trip,
# no per-row statement overhead in the driver.
_COLUMNS = "attempt_id, question_id, revision, value, client_time_ms, received_at_ms, source"
_ROWS_POSTGRES = (
    "SELECT :attempt, r.q, r.r, r.v, r.t, :received, :source"
    " FROM json_to_recordset(CAST(:rows AS json)) AS r(q text, r integer, v json, t bigint)"
)
# SQLite: "->" keeps a value's JSON text; "WHERE true" lets ON CONFLICT follow a SELECT.
_ROWS_SQLITE = (
    "SELECT :attempt, e.value ->> '$.q', e.value ->> '$.r', e.value -> '$.v',"
    " e.value ->> '$.t', :received, :source FROM json_each(:rows) AS e WHERE true"
)
_HISTORY = f"INSERT INTO answer_revisions ({_COLUMNS}) {{rows}} ON CONFLICT DO NOTHING"
# Guarded upsert: never replaces a newer revision, also against a concurrent writer.
_CURRENT_UPSERT = (
    f"INSERT INTO answers ({_COLUMNS}) {{rows}}"
    " ON CONFLICT (attempt_id, question_id) DO UPDATE SET revision = excluded.revision,"
    " value = excluded.value, client_time_ms = excluded.client_time_ms,"
    " received_at_ms = excluded.received_at_ms, source = excluded.source"
    " WHERE answers.revision < excluded.revision"
)
_INSERT_HISTORY = {
    "sqlite": text(_HISTORY.format(rows=_ROWS_SQLITE)),
    "postgresql": text(_HISTORY.format(rows=_ROWS_POSTGRES)),
}
_UPSERT_CURRENT = {
    "sqlite": text(_CURRENT_UPSERT.format(rows=_ROWS_SQLITE)),
    "postgresql": text(_CURRENT_UPSERT.format(rows=_ROWS_POSTGRES)),
}
_TOUCH = text("UPDATE attempts SET last_contact_ms = :now WHERE id = :attempt")


def merge_revisions(
    db: Database,
    *,
    attempt_id: int,
    revisions: Iterable[IncomingRevision],
    source: str,
    exam_end_ms: int,
    received_at_ms: int,
    pauses: Sequence[PauseInterval] = (),
) -> MergeReport:
    """Merge *revisions* into the attempt in one transaction and report each one's fate."""
    with db.write() as conn:
        status = lock_attempt(conn, attempt_id)
        return merge_locked(
            db, conn, attempt_id=attempt_id, attempt_status=status, revisions=revisions,
            source=source, exam_end_ms=exam_end_ms, received_at_ms=received_at_ms,
            pauses=pauses,
        )


def close_ms(*, status: str, submitted_at_ms: int | None, end_ms: int) -> int:
    """Until when a revision may have been made: the end, or the submission if earlier
    (docs/lifecycle.md; server/api_attempt.py answers_close_ms)."""
    if status != IN_PROGRESS and submitted_at_ms is not None:
        return min(end_ms, submitted_at_ms)
    return end_ms


@dataclass(frozen=True)
class UploadResult:
    report: MergeReport | None
    refusal: str | None = None  # "unauthorized" | "revoked" | "read_only": nothing merged
    status: str = IN_PROGRESS  # the attempt's status when the upload began
    client_id: str = ""

    @property
    def was_submitted(self) -> bool:
        return self.status != IN_PROGRESS


def merge_upload(
    db: Database,
    *,
    token_sha256: str,
    attempt_id: int,
    revisions: Iterable[IncomingRevision],
    exam_end_ms: int,
    received_at_ms: int,
    contact_resolution_ms: int,
) -> UploadResult:
    """An answer upload in one transaction: check the session, merge, note the contact.

    The token is checked here, under the attempt's lock, although the caller found it in
    a cache: taken over (revoked) or read-only since, nothing is merged.
    """
    session: TextClause = _SESSION_SQLITE if db.is_sqlite else _SESSION_POSTGRES
    with db.write() as conn:
        row = conn.execute(session, {"token": token_sha256, "attempt": attempt_id}).first()
        if row is None or row.expires_ms <= received_at_ms:
            return UploadResult(None, "unauthorized")
        if row.kind == REVOKED_TOKEN:
            return UploadResult(None, "revoked", row.status)
        if row.kind != CANDIDATE_TOKEN:
            return UploadResult(None, "read_only", row.status)
        pauses = pauses_for(conn, exam_id=row.exam_id, candidate_id=int(row.candidate_id),
                            clock=AttemptClock(
                                base_end_ms=exam_end_ms, paused_ms=int(row.paused_ms or 0),
                                paused_since_ms=row.paused_since_ms))
        report = merge_locked(
            db, conn, attempt_id=attempt_id, attempt_status=row.status, revisions=revisions,
            source="sync", received_at_ms=received_at_ms, pauses=pauses,
            exam_end_ms=close_ms(status=row.status, submitted_at_ms=row.submitted_at_ms,
                                 end_ms=exam_end_ms),
        )
        last = row.last_contact_ms
        if last is None or received_at_ms - last >= contact_resolution_ms:
            conn.execute(_TOUCH, {"now": received_at_ms, "attempt": attempt_id})
        return UploadResult(report, None, row.status, row.client_id or "")


def _made_by(rev: IncomingRevision, received_at_ms: int) -> int:
    """When a revision was made at the latest, for the pause check: the PC's claimed time,
    never later than the arrival; without a claimed time (a PC that had no estimate of
    the server's clock) the arrival itself, so an answer sent during a pause is held."""
    if rev.client_time_ms is None:
        return received_at_ms
    return min(rev.client_time_ms, received_at_ms)


def lock_attempt(conn: Connection, attempt_id: int) -> str:
    """Lock the attempt row (PostgreSQL) and return its status."""
    status: str = conn.execute(
        select(t.attempts.c.status).where(t.attempts.c.id == attempt_id).with_for_update()
    ).scalar_one()
    return status


def merge_locked(
    db: Database,
    conn: Connection,
    *,
    attempt_id: int,
    attempt_status: str,
    revisions: Iterable[IncomingRevision],
    source: str,
    exam_end_ms: int,
    received_at_ms: int,
    pauses: Sequence[PauseInterval] = (),
) -> MergeReport:
    """The merge inside a transaction that already holds the attempt (see lock_attempt)."""
    if source not in SOURCES:
        raise ValueError(f"unknown answer source {source!r}")
    ordered = sorted(revisions, key=lambda r: (r.question_id, r.revision))
    for rev in ordered:
        if rev.revision < 1:
            raise ValueError(f"revision numbers start at 1: {rev}")
    received_after_end = received_at_ms > exam_end_ms
    fate: dict[int, Outcome] = {}  # index in ordered -> outcome decided before the lookup
    first_of: dict[tuple[str, int], IncomingRevision] = {}
    conflicts: list[tuple[IncomingRevision, JsonValue]] = []
    repeated: set[int] = set()  # indexes of a revision's second and later copies
    # Held once, held for good: the same revision sent again with another time stays out.
    held_before = _held_before(conn, attempt_id, ordered) if pauses else set()
    for index, rev in enumerate(ordered):
        made_after_end = received_after_end and (
            rev.client_time_ms is None or rev.client_time_ms > exam_end_ms
        )
        if made_after_end:
            fate[index] = Outcome.REJECTED_AFTER_END
        elif pauses and (pause_at(pauses, _made_by(rev, received_at_ms)) is not None
                         or (rev.question_id, rev.revision) in held_before):
            fate[index] = Outcome.HELD_DURING_PAUSE
        elif (rev.question_id, rev.revision) in first_of:
            # The same revision twice in one batch: the first counts (an upsert must
            # not meet one key twice).
            fate[index] = Outcome.DUPLICATE
            repeated.add(index)
        else:
            first_of[(rev.question_id, rev.revision)] = rev

    current = _current_revisions(conn, attempt_id, sorted({r.question_id for r in ordered}))
    # Only this merge writes answers, always the highest revision it stores: a revision
    # above a question's current one cannot be stored yet. A client uploads new revisions,
    # so most uploads and first imports skip the history lookup (a round trip each).
    stored = _stored_values(conn, attempt_id,
                            [k for k in first_of if k[1] <= current.get(k[0], 0)])
    newest = dict(current)
    history: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}
    outcomes: list[RevisionOutcome] = []
    for index, rev in enumerate(ordered):
        outcome = fate.get(index)
        key = (rev.question_id, rev.revision)
        if outcome is None:
            if key in stored:
                outcome = Outcome.DUPLICATE
                if stored[key] != rev.value:
                    conflicts.append((rev, stored[key]))
            else:
                row = {"q": rev.question_id, "r": rev.revision, "v": rev.value,
                       "t": rev.client_time_ms}
                history.append(row)
                if rev.revision > newest.get(rev.question_id, 0):
                    newest[rev.question_id] = rev.revision
                    latest[rev.question_id] = row
                    outcome = Outcome.APPLIED
                else:
                    outcome = Outcome.IGNORED_OLDER
        elif index in repeated:
            # A conflict only with the value kept: the one stored before, else the first.
            kept = stored[key] if key in stored else first_of[key].value
            if kept != rev.value:
                conflicts.append((rev, kept))
        outcomes.append(RevisionOutcome(rev.question_id, rev.revision, outcome))

    engine = "sqlite" if db.is_sqlite else "postgresql"
    common = {"attempt": attempt_id, "received": received_at_ms, "source": source}
    if history:
        conn.execute(_INSERT_HISTORY[engine], {**common, "rows": _json_rows(history)})
    if latest:
        conn.execute(_UPSERT_CURRENT[engine],
                     {**common, "rows": _json_rows([latest[q] for q in sorted(latest)])})
    held = {(rev.question_id, rev.revision): (rev, pause_at(
        pauses, _made_by(rev, received_at_ms)))
        for index, rev in reversed(list(enumerate(ordered)))  # the first copy wins
        if fate.get(index) is Outcome.HELD_DURING_PAUSE}
    if held:
        conn.execute(db.dialect_insert()(t.paused_revisions).values([
            {"attempt_id": attempt_id, "question_id": rev.question_id,
             "revision": rev.revision, "value": rev.value,
             "client_time_ms": rev.client_time_ms, "received_at_ms": received_at_ms,
             "source": source, "pause_started_ms": pause.started_ms if pause else 0}
            for rev, pause in held.values()]).on_conflict_do_nothing())
    if conflicts:
        # Same revision number, different content: the client lost its numbering
        # (e.g. a wiped answer store). Keep the first one, leave evidence for staff.
        conn.execute(t.events.insert(), [
            {
                "attempt_id": attempt_id,
                "kind": "revision_conflict",
                "payload": {
                    "question_id": rev.question_id,
                    "revision": rev.revision,
                    "rejected_value": rev.value,
                    "source": source,
                },
                "at_ms": received_at_ms,
            }
            for rev, _kept in conflicts
        ])
    report = MergeReport(tuple(outcomes), revisions_before=current, revisions_after=newest)
    if report.changed_answers and attempt_status != IN_PROGRESS:
        conn.execute(
            t.attempts.update()
            .where(t.attempts.c.id == attempt_id)
            .values(score=None, max_score=None, scored_at_ms=None)
        )
    return report


def _held_before(conn: Connection, attempt_id: int,
                 revisions: Sequence[IncomingRevision]) -> set[tuple[str, int]]:
    """The batch's revisions already held as made during a pause (read only for an
    attempt that was ever paused)."""
    questions = sorted({r.question_id for r in revisions})
    found: set[tuple[str, int]] = set()
    held = t.paused_revisions
    for start in range(0, len(questions), _CHUNK):
        rows = conn.execute(select(held.c.question_id, held.c.revision).where(
            held.c.attempt_id == attempt_id,
            held.c.question_id.in_(questions[start:start + _CHUNK])))
        found.update((q, int(r)) for q, r in rows)
    return found


def _json_rows(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def _stored_values(
    conn: Connection, attempt_id: int, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], JsonValue]:
    """The kept value of each (question, revision) in *keys* that is already stored.

    Asks for the batch's questions from its lowest revision up: new revisions are above
    everything stored, so this reads little more than the batch itself.
    """
    if not keys:
        return {}
    wanted = set(keys)
    lowest = min(r for _q, r in keys)
    questions = sorted({q for q, _r in keys})
    found: dict[tuple[str, int], JsonValue] = {}
    for start in range(0, len(questions), _CHUNK):
        rows = conn.execute(_STORED, {"attempt": attempt_id, "lowest": lowest,
                                      "questions": questions[start:start + _CHUNK]})
        for question_id, revision, value in rows:
            key = (question_id, int(revision))
            if key in wanted:
                found[key] = value
    return found


def _current_revisions(
    conn: Connection, attempt_id: int, question_ids: Sequence[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(question_ids), _CHUNK):
        rows = conn.execute(_CURRENT, {"attempt": attempt_id,
                                       "questions": question_ids[start:start + _CHUNK]})
        found.update({question_id: int(revision) for question_id, revision in rows})
    return found
