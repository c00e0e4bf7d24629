"""Console login throttling: per account and per address, in the database.

Kept in the database rather than in process memory so that every worker of a farm sees
the same count. The limits let a proctor who mistypes a few times in, and hold a guesser
to a handful of tries per quarter hour.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from server.console import tables as ct
from server.db import Database

WINDOW_MS = 15 * 60 * 1000
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0
    # Rows written for this try (counted as failures until the password proves right).
    reserved: tuple[int, ...] = ()


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    return [(f"user:{username.lower()}", MAX_FAILURES_PER_ACCOUNT),
            (f"addr:{address}", MAX_FAILURES_PER_ADDRESS)]


def reserve(db: Database, *, username: str, address: str, now_ms: int) -> Verdict:
    """May this login be tried now? If so, count it as a failure right away.

    Checking and counting happen in one write transaction (BEGIN IMMEDIATE on SQLite, so
    across every worker process too): guesses sent at once cannot all pass the check
    while the slow password hash of each is still running. ``forgive`` takes the rows back
    when the password was right.
    """
    since = now_ms - WINDOW_MS
    with db.write() as conn:
        for key, limit in _keys(username, address):
            count, oldest = conn.execute(
                select(func.count(), func.min(ct.login_failures.c.at_ms))
                .where(ct.login_failures.c.key == key, ct.login_failures.c.at_ms > since)).one()
            if count >= limit:
                # Allowed again when the oldest failure in the window leaves it.
                wait_ms = int(oldest) + WINDOW_MS - now_ms
                return Verdict(allowed=False, retry_after_s=max(1, -(-wait_ms // 1000)))
        conn.execute(delete(ct.login_failures)
                     .where(ct.login_failures.c.at_ms <= now_ms - WINDOW_MS))
        reserved = []
        for key, _ in _keys(username, address):
            row = conn.execute(insert(ct.login_failures).values(key=key, at_ms=now_ms))
            primary_key = row.inserted_primary_key
            assert primary_key is not None
            reserved.append(int(primary_key[0]))
    return Verdict(allowed=True, reserved=tuple(reserved))


def forgive(db: Database, *, username: str, verdict: Verdict) -> None:
    """A successful login: drop this try's rows and the account's earlier failures (an
    address keeps its earlier failures: one good password does not clear a spray)."""
    with db.write() as conn:
        conn.execute(delete(ct.login_failures)
                     .where(ct.login_failures.c.id.in_(verdict.reserved)))
        conn.execute(delete(ct.login_failures)
                     .where(ct.login_failures.c.key == f"user:{username.lower()}"))
