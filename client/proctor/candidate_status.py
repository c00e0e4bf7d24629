"""What the proctor panel shows about the candidate at this PC (plain data, Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass

from client.lockdown.away_time import AwayTotals


@dataclass(frozen=True)
class CandidateStatus:
    candidate_no: str
    candidate_name: str
    exam_id: str
    exam_title: str
    answered: int                      # questions with a saved, non-empty answer
    question_total: int
    revisions_saved: int               # every saved change, durable in the store
    unsynced: int                      # saved changes the server has not acknowledged yet
    synced_up_to_server_ms: int | None  # server time of the last acknowledged sync
    submission: str                    # answering | sealed | submitted | auto_submitted | revoked
    integrity: str                     # already translated one-line status
    identity: str                      # already translated one-line status
    # An offline file exported now will be accepted by the server (key registered or
    # certified); None: not known (no session).
    file_importable: bool | None = None
    # Focus losses (切屏) in this exam and the time away; None before the exam (held login).
    away: AwayTotals | None = None
