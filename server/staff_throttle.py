"""Staff login throttling (the admin pages and API, and the console), in the database.

One count for every staff login: a guesser who moves from the admin login to the
console's keeps his address's count. Kept in the database rather than in process memory
so that every worker of a farm sees the same count. The limits let a proctor who mistypes
a few times in, and hold a guesser to a handful of tries per quarter hour.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    text,
)

from server import schema as t
from server.db import Database
from server.lazy_tables import create_once

WINDOW_MS = 15 * 60 * 1000
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20

# Which login an account name belongs to: admin and console accounts are separate lists,
# so "admin" on one is not "admin" on the other; an address is one address for both.
Area = Literal["admin", "console"]

login_failures = Table(
    "staff_login_failures",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),  # "<area>:user:<name>" or "addr:<ip>"
    Column("at_ms", BigInteger, nullable=False),
)
Index("ix_staff_login_failures", login_failures.c.key, login_failures.c.at_ms)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0
    # Rows written for this try (counted as failures until the password proves right).
    reserved: tuple[int, ...] = ()


def account_key(area: Area, username: str) -> str:
    return f"{area}:user:{username.strip().lower()}"


def _keys(area: Area, username: str, address: str) -> list[tuple[str, int]]:
    return sorted([(account_key(area, username), MAX_FAILURES_PER_ACCOUNT),
                   (f"addr:{address}", MAX_FAILURES_PER_ADDRESS)])


def _lock_keys(db: Database, conn: Connection, keys: list[str]) -> None:
    """PostgreSQL has no database-wide write lock: serialise the tries on one key with a
    transaction advisory lock per key (taken in sorted order, so two tries never
    deadlock). SQLite's BEGIN IMMEDIATE already holds every other writer off."""
    if not db.is_postgres:
        return
    for key in sorted(keys):
        digest = hashlib.sha256(key.encode()).digest()
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                     {"k": int.from_bytes(digest[:8], "big", signed=True)})


def reserve(db: Database, *, area: Area, username: str, address: str,
            now_ms: int) -> Verdict:
    """May this login be tried now? If so, count it as a failure right away.

    Checking and counting happen in one write transaction that holds the keys' lock
    (BEGIN IMMEDIATE on SQLite, advisory locks on PostgreSQL, so across every worker
    process too): guesses sent at once cannot all pass the check while the slow password
    hash of each is still running. ``forgive`` takes the rows back when the password was
    right.
    """
    create_once(db, tables=[login_failures])
    since = now_ms - WINDOW_MS
    keys = _keys(area, username, address)
    with db.write() as conn:
        _lock_keys(db, conn, [key for key, _ in keys])
        for key, limit in keys:
            count, oldest = conn.execute(
                select(func.count(), func.min(login_failures.c.at_ms))
                .where(login_failures.c.key == key, login_failures.c.at_ms > since)).one()
            if count >= limit:
                # Allowed again when the oldest failure in the window leaves it.
                wait_ms = int(oldest) + WINDOW_MS - now_ms
                return Verdict(allowed=False, retry_after_s=max(1, -(-wait_ms // 1000)))
        conn.execute(delete(login_failures).where(login_failures.c.at_ms <= since))
        reserved = []
        for key, _ in keys:
            row = conn.execute(insert(login_failures).values(key=key, at_ms=now_ms))
            primary_key = row.inserted_primary_key
            assert primary_key is not None
            reserved.append(int(primary_key[0]))
    return Verdict(allowed=True, reserved=tuple(reserved))


def forgive(db: Database, *, area: Area, username: str, verdict: Verdict) -> None:
    """A successful login: drop this try's rows and the account's earlier failures (an
    address keeps its earlier failures: one good password does not clear a spray)."""
    with db.write() as conn:
        conn.execute(delete(login_failures)
                     .where(login_failures.c.id.in_(verdict.reserved)))
        conn.execute(delete(login_failures)
                     .where(login_failures.c.key == account_key(area, username)))

