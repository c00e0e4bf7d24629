"""Scoring submitted attempts, with the same scoring code the client core uses.

Scores are computed off the request path (a background task after submit, and the
sweeper for anything left over, e.g. after a restart). A score is stored only if no new
answer arrived while it was computed; otherwise the attempt is scored again.
"""

from __future__ import annotations

import logging
import threading

from client.paper.scoring import score_answers
from server.clock import Clock
from server.db import Database
from server.papers import PaperStore

log = logging.getLogger(__name__)

MAX_ROUNDS = 5


class Grader:
    def __init__(self, *, db: Database, papers: PaperStore, clock: Clock) -> None:
        self._db = db
        self._papers = papers
        self._clock = clock
        self._lock = threading.Lock()
        self._attempt_locks: dict[int, threading.Lock] = {}

    def grade(self, attempt_id: int, *, wait: bool = True) -> bool:
        """Score one submitted attempt; True when a current score is stored.

        If another thread is scoring the same attempt, wait for it (then usually find the
        score stored), or with ``wait=False`` return False at once.
        """
        with self._lock:
            attempt_lock = self._attempt_locks.setdefault(attempt_id, threading.Lock())
        if not attempt_lock.acquire(blocking=wait):
            return False
        try:
            return self._grade(attempt_id)
        finally:
            attempt_lock.release()

    def _grade(self, attempt_id: int) -> bool:
        for _round in range(MAX_ROUNDS):
            attempt = self._db.get_attempt(attempt_id)
            if attempt is None or not attempt.is_submitted:
                return False
            if attempt.score is not None:
                return True
            exam = self._db.get_exam(attempt.exam_id)
            if exam is None:
                return False
            paper = self._papers.scoring_paper(exam)
            seen = self._db.answer_change_count(attempt_id)
            result = score_answers(paper, self._db.current_answers(attempt_id))
            if self._db.record_score(
                attempt_id,
                score=result.total,
                max_score=result.max_objective,
                at_ms=self._clock.now_ms(),
                answers_seen=seen,
            ):
                return True
        log.warning("attempt %d: answers kept changing while scoring", attempt_id)
        return False

    def grade_pending(self) -> int:
        """Score every submitted, unscored attempt; returns how many were scored."""
        done = 0
        for attempt in self._db.attempts_to_score():
            try:
                done += self.grade(attempt.id, wait=False)
            except Exception:  # one broken attempt must not stop the others
                log.exception("scoring attempt %d failed", attempt.id)
        return done
