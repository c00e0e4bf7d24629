"""Admin login throttling, per account and per address, shared by every worker.

An admin password opens every candidate's results and the offline-file import, so
guessing it must be slow: after ``MAX_FAILURES`` wrong passwords within ``WINDOW_MS`` for
one account (or ``MAX_FAILURES_PER_ADDRESS`` from one address, across accounts), further
logins for it are refused with 429 for a while that doubles with each further failure,
before any password is checked. A right password clears the account's count. Counts live
in the database, so spreading guesses over the workers of a farm does not help.
"""

from __future__ import annotations

from sqlalchemy import select

from server import schema as t
from server.db import Database

MAX_FAILURES = 5
MAX_FAILURES_PER_ADDRESS = 20
WINDOW_MS = 15 * 60 * 1000
BASE_BLOCK_MS = 30_000
MAX_BLOCK_MS = 15 * 60 * 1000


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    return [(f"account:{username.strip().lower()}", MAX_FAILURES),
            (f"address:{address}", MAX_FAILURES_PER_ADDRESS)]


def blocked_for_s(db: Database, *, username: str, address: str, now_ms: int) -> int:
    """Seconds until this login may be tried again (0: go ahead)."""
    keys = [k for k, _limit in _keys(username, address)]
    f = t.login_failures
    with db.read() as conn:
        until = conn.execute(select(f.c.blocked_until_ms).where(f.c.key.in_(keys))).scalars()
        latest = max(until, default=0)
    return max(0, -(-(latest - now_ms) // 1000))


def record_failure(db: Database, *, username: str, address: str, now_ms: int) -> None:
    f = t.login_failures
    insert = db.dialect_insert()
    with db.write() as conn:
        for key, limit in sorted(_keys(username, address)):  # fixed order: no deadlock
            row = conn.execute(select(f).where(f.c.key == key).with_for_update()).first()
            if row is None or now_ms - row.window_start_ms > WINDOW_MS:
                failures, start = 1, now_ms
            else:
                failures, start = row.failures + 1, row.window_start_ms
            blocked = 0
            if failures >= limit:
                blocked = now_ms + min(MAX_BLOCK_MS, BASE_BLOCK_MS * 2 ** (failures - limit))
            stmt = insert(f).values(key=key, failures=failures, window_start_ms=start,
                                    blocked_until_ms=blocked)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=[f.c.key],
                set_={"failures": failures, "window_start_ms": start,
                      "blocked_until_ms": blocked}))


def record_success(db: Database, *, username: str) -> None:
    f = t.login_failures
    with db.write() as conn:
        conn.execute(f.delete().where(f.c.key == f"account:{username.strip().lower()}"))
