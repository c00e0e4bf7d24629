"""server.merge.merge_revisions on a real database (SQLite, or PostgreSQL when the tests
have a cluster), no HTTP: the merge rules."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.db import Database, Exam
from server.merge import IncomingRevision, Outcome, merge_revisions

END = 1_000_000


@pytest.fixture
def db(tmp_path: Path, database_url: str):
    database = Database(database_url or f"sqlite:///{tmp_path / 'merge.db'}")
    database.init_schema()
    database.upsert_center(center_id="c1", name="考点", allowed_ips=[])
    database.upsert_exam(Exam(
        id="e1", title="t", start_ms=0, end_ms=END, paper_id="p", package_path="p.exampkg",
        package_sha256="0" * 64, package_size=1, paper_key_sealed=b"k", answer_keys_sealed=b"a",
    ))
    yield database
    database.close()


@pytest.fixture
def attempt_id(db: Database) -> int:
    candidate = db.insert_candidate(student_no="1", id_number="X1", name="n", center_id="c1",
                                    password_hash="h")
    return db.open_attempt(exam_id="e1", candidate_id=candidate, now_ms=0).id


def merge(db: Database, attempt_id: int, revisions: list[IncomingRevision], *,
          at_ms: int = 500, source: str = "sync"):
    return merge_revisions(db, attempt_id=attempt_id, revisions=revisions, source=source,
                           exam_end_ms=END, received_at_ms=at_ms)


def test_outcomes_per_revision_and_question(db: Database, attempt_id: int) -> None:
    merge(db, attempt_id, [IncomingRevision("q1", 2, "B", 100)])
    report = merge(db, attempt_id, [
        IncomingRevision("q1", 1, "A", 90),  # older than stored
        IncomingRevision("q1", 2, "B", 100),  # already stored
        IncomingRevision("q1", 3, "C", 110),  # newer
        IncomingRevision("q2", 1, True, 120),
    ])
    outcomes = {(o.question_id, o.revision): o.outcome for o in report.outcomes}
    assert outcomes == {
        ("q1", 1): Outcome.IGNORED_OLDER,
        ("q1", 2): Outcome.DUPLICATE,
        ("q1", 3): Outcome.APPLIED,
        ("q2", 1): Outcome.APPLIED,
    }
    assert report.per_question() == {"q1": Outcome.APPLIED, "q2": Outcome.APPLIED}
    assert sorted(report.acked) == [("q1", 1), ("q1", 2), ("q1", 3), ("q2", 1)]
    assert db.current_answers(attempt_id) == {"q1": "C", "q2": True}
    assert db.current_revisions(attempt_id) == {"q1": 3, "q2": 1}


def test_order_inside_a_batch_does_not_matter(db: Database, attempt_id: int) -> None:
    merge(db, attempt_id, [IncomingRevision("q1", 5, "E", 1), IncomingRevision("q1", 4, "D", 1)])
    assert db.current_answers(attempt_id) == {"q1": "E"}


def test_after_the_end_only_answers_made_before_it_count(db: Database, attempt_id: int) -> None:
    report = merge(db, attempt_id, [
        IncomingRevision("q1", 1, "A", END - 1),  # made before the end, delivered late
        IncomingRevision("q2", 1, "B", END + 1),  # made after the end
        IncomingRevision("q3", 1, "C", None),  # no time: cannot prove it was in time
    ], at_ms=END + 60_000, source="offline_file")
    assert report.per_question() == {
        "q1": Outcome.APPLIED,
        "q2": Outcome.REJECTED_AFTER_END,
        "q3": Outcome.REJECTED_AFTER_END,
    }
    assert report.rejected == [("q2", 1), ("q3", 1)]
    assert db.current_answers(attempt_id) == {"q1": "A"}


def test_received_before_the_end_is_in_time_whatever_the_client_says(db: Database,
                                                                   attempt_id: int) -> None:
    report = merge(db, attempt_id, [IncomingRevision("q1", 1, "A", END + 10_000)], at_ms=END)
    assert report.count(Outcome.APPLIED) == 1


def test_new_answers_clear_the_score_of_a_submitted_attempt(db: Database,
                                                            attempt_id: int) -> None:
    merge(db, attempt_id, [IncomingRevision("q1", 1, "A", 1)])
    db.submit_attempt(attempt_id, at_ms=600)
    seen = db.answer_change_count(attempt_id)
    assert db.record_score(attempt_id, score=1, max_score=2, at_ms=700, answers_seen=seen)
    merge(db, attempt_id, [IncomingRevision("q1", 1, "A", 1)])  # duplicate: score stays
    assert db.get_attempt(attempt_id).score == 1
    merge(db, attempt_id, [IncomingRevision("q1", 2, "B", 800)], at_ms=800)
    assert db.get_attempt(attempt_id).score is None
    # a score computed from the answers before that change is refused
    assert not db.record_score(attempt_id, score=1, max_score=2, at_ms=900, answers_seen=seen)


def test_bad_input_is_refused(db: Database, attempt_id: int) -> None:
    with pytest.raises(ValueError, match="source"):
        merge(db, attempt_id, [], source="email")
    with pytest.raises(ValueError, match="revision"):
        merge(db, attempt_id, [IncomingRevision("q1", 0, "A", 1)])
    assert db.current_answers(attempt_id) == {}


# Any sequence of batches: revisions already stored, older, newer, repeated inside one
# batch, with changed values. The merge reads the history only for revisions at or below
# the current one (server/merge.py), so the model below, which looks everything up, checks
# that shortcut too.
_revision = st.tuples(st.sampled_from(["q1", "q2", "q3"]), st.integers(1, 6),
                      st.sampled_from(["A", "B", ["A", "C"]]))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(_revision, max_size=6), min_size=1, max_size=5))
def test_merges_agree_with_a_model(db: Database, batches: list[list[tuple[str, int, Any]]]
                                   ) -> None:
    attempt_id = db.open_attempt(exam_id="e1", now_ms=0, candidate_id=db.insert_candidate(
        student_no=uuid.uuid4().hex[:12], id_number=uuid.uuid4().hex[:12], name="n",
        center_id="c1", password_hash="h")).id
    history: dict[tuple[str, int], Any] = {}
    current: dict[str, int] = {}
    conflicts = 0
    for batch in batches:
        expected = []
        for question, revision, value in sorted(batch, key=lambda r: (r[0], r[1])):
            key = (question, revision)
            if key in history:
                expected.append((key, Outcome.DUPLICATE))
                conflicts += history[key] != value
                continue
            history[key] = value
            if revision > current.get(question, 0):
                current[question] = revision
                expected.append((key, Outcome.APPLIED))
            else:
                expected.append((key, Outcome.IGNORED_OLDER))
        report = merge(db, attempt_id, [IncomingRevision(q, r, v, 1) for q, r, v in batch])
        assert [((o.question_id, o.revision), o.outcome) for o in report.outcomes] == expected
        assert report.revisions_after == {q: current[q] for q, _r, _v in batch if q in current}
    assert db.current_revisions(attempt_id) == current
    assert db.current_answers(attempt_id) == {q: history[(q, r)] for q, r in current.items()}
    assert len(db.events(attempt_id=attempt_id, kind="revision_conflict")) == conflicts
