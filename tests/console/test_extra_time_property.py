"""Property: whatever sequence of extra-time grants (minutes or multipliers, by the
console's own action) and pauses a candidate gets, the end is the exam's end plus the
sum of the grants plus the time paused, never earlier than the exam's end; and the
server's automatic submission (SQL) agrees with that end to the millisecond. Each pause is
stored as its interval: in order, apart, summing to the time paused; and an answer a PC
saved at a server time inside one of them is held, never merged, while one saved outside
every interval merges (server/merge.py)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from server import attempt_time
from server import schema as t
from server.console import actions
from server.console.roles import Account, Role
from server.db import IN_PROGRESS
from server.demo import DEMO_CENTER_ID
from server.merge import IncomingRevision, Outcome, merge_revisions
from server.testing import live_server

CHIEF = Account(username="zhukao", display_name="李主考", role=Role.CHIEF,
                center_id=DEMO_CENTER_ID, room=None)

grant = st.one_of(
    st.tuples(st.just("minutes"), st.floats(min_value=0.5, max_value=120)),
    st.tuples(st.just("multiplier"), st.floats(min_value=1.01, max_value=2.0)),
    st.tuples(st.just("pause"), st.integers(min_value=0, max_value=20 * 60_000)),
)


def test_the_end_is_the_base_end_plus_the_grants_and_pauses(tmp_path: Path) -> None:
    with live_server(tmp_path / "server", start_in_s=-600, duration_s=3600) as srv:
        demo = srv.demo
        assert demo is not None
        exam = srv.db.get_exam(demo.exam_id)
        assert exam is not None
        candidate_id = srv.db.candidates_by_username(demo.username)[0].id
        attempt = srv.db.open_attempt(exam_id=exam.id, candidate_id=candidate_id,
                                      now_ms=srv.clock.now_ms())

        @settings(max_examples=30, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(steps=st.lists(grant, max_size=6))
        def check(steps: list[tuple[str, float]]) -> None:
            with srv.db.write() as conn:
                conn.execute(delete(t.attempt_times))
                conn.execute(delete(t.attempt_pauses))
                conn.execute(delete(t.answers))
                conn.execute(delete(t.answer_revisions))
                conn.execute(delete(t.paused_revisions))
                conn.execute(update(t.attempts).where(t.attempts.c.id == attempt.id)
                             .values(status=IN_PROGRESS, submitted_at_ms=None))
            now = exam.start_ms + 60_000
            expected_extra = 0
            expected_pauses: list[tuple[int, int]] = []
            for kind, amount in steps:
                if kind == "pause":
                    expected_pauses.append((now, now + int(amount)))
                    with srv.db.write() as conn:
                        attempt_time.set_paused(conn, exam=exam, candidate_id=candidate_id,
                                                paused=True, now_ms=now)
                    now += int(amount)
                    with srv.db.write() as conn:
                        attempt_time.set_paused(conn, exam=exam, candidate_id=candidate_id,
                                                paused=False, now_ms=now)
                    expected_extra += int(amount)
                    continue
                [granted] = actions.grant_extra_time(
                    srv.db, CHIEF, exam=exam, candidate_ids=[candidate_id], reason="补时",
                    now_ms=now, minutes=amount if kind == "minutes" else None,
                    multiplier=amount if kind == "multiplier" else None)
                expected_extra += attempt_time.extra_ms_for(
                    exam=exam, minutes=amount if kind == "minutes" else None,
                    multiplier=amount if kind == "multiplier" else None)
                assert granted.end_ms == exam.end_ms + expected_extra
            end = attempt_time.end_ms_for(srv.db, exam=exam, candidate_id=candidate_id,
                                          now_ms=now)
            assert end == exam.end_ms + expected_extra
            assert end >= exam.end_ms
            stored = attempt_time.pauses_of(srv.db, exam_id=exam.id, candidate_id=candidate_id)
            assert [(p.started_ms, p.ended_ms) for p in stored] == expected_pauses
            assert all(a.ended_ms is not None and a.ended_ms <= b.started_ms
                       for a, b in pairwise(stored))
            assert sum(int(p.ended_ms or 0) - p.started_ms for p in stored) == sum(
                b - a for a, b in expected_pauses)
            # Probe every pause's edges and middle with an answer saved then, delivered now.
            probes = sorted({at for a, b in expected_pauses
                             for at in (a - 1, a, (a + b) // 2, b - 1, b)})
            report = merge_revisions(
                srv.db, attempt_id=attempt.id, source="sync", exam_end_ms=end,
                received_at_ms=now, pauses=stored,
                revisions=[IncomingRevision(f"p{i}", 1, "A", at)
                           for i, at in enumerate(probes)])
            fates = report.per_question()
            for i, at in enumerate(probes):
                inside = any(a <= at < b for a, b in expected_pauses)
                expected = Outcome.HELD_DURING_PAUSE if inside else Outcome.APPLIED
                assert fates[f"p{i}"] is expected, (at, expected_pauses)
            # The sweeper's SQL reads the same end: not due a millisecond before it.
            assert attempt.id not in srv.db.auto_submit_ended(now_ms=end - 1)
            assert attempt.id in srv.db.auto_submit_ended(now_ms=end)
            after = srv.db.get_attempt(attempt.id)
            assert after is not None and after.submitted_at_ms == end

        check()
