"""Shared pieces of the offline tests: sessions that talk through the fault proxy, the
server's view of an attempt, and answer values for every question type."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.paper.model import Item, Paper, QuestionType
from client.session.exam_session import ExamSession, client_id_for
from client.sync.api import ExamApi
from client.sync.clock import ServerClock
from client.sync.pusher import Backoff
from server.testing import LiveServer

FAST_BACKOFF = Backoff(base_s=0.1, cap_s=0.5)


def build_session(url: str, data_dir: Path, *, center_id: str = "demo-center",
                  clock: ServerClock | None = None, timeout_s: float = 1.5,
                  sync_interval_s: float = 0.2,
                  heartbeat_interval_s: float = 12.0) -> ExamSession:
    """What client/session/factory.py builds, with test timings and an optional clock."""
    data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or ServerClock()
    api = ExamApi(url, clock=clock, timeout_s=timeout_s, client_id=client_id_for(data_dir))
    return ExamSession(api=api, clock=clock, data_dir=data_dir, center_id=center_id,
                       sync_interval_s=sync_interval_s, sync_backoff=FAST_BACKOFF,
                       heartbeat_interval_s=heartbeat_interval_s)


def wait_until(predicate: Callable[[], object], *, timeout_s: float = 15.0,
               message: str | Callable[[], str] = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text} not reached within {timeout_s} s")
        time.sleep(0.05)


def answer_value(item: Item, round_no: int) -> Any:
    """A valid answer for *item*, different in each round (the last round is "final")."""
    kind = item.type
    if kind is QuestionType.SINGLE:
        ids = item.option_ids
        return ids[round_no % len(ids)]
    if kind is QuestionType.MULTIPLE:
        ids = item.option_ids
        return sorted({ids[round_no % len(ids)], ids[(round_no + 1) % len(ids)]})
    if kind is QuestionType.TRUE_FALSE:
        return round_no % 2 == 0
    if kind is QuestionType.FILL_BLANK:
        return [f"答案{round_no}-{blank}" for blank in range(item.blanks)]
    return f"第 {round_no} 稿：网络断了也要把答案写完。"


def attempt_of(server: LiveServer, *, student_no: str | None = None) -> Any:
    assert server.demo is not None
    candidate = server.db.find_candidate(student_no=student_no or server.demo.username)
    assert candidate is not None
    attempt = server.db.find_attempt(exam_id=server.demo.exam_id, candidate_id=candidate.id)
    assert attempt is not None
    return attempt


def start_exam(server: LiveServer, session: ExamSession) -> Paper:
    """Move server time to the start, let the client see it, open the paper."""
    assert server.demo is not None
    server.clock.set_now(server.demo.start_ms + 1_000)  # type: ignore[attr-defined]
    session.api.server_time_ms()
    return session.unlock()
