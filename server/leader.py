"""Exactly one process of a farm runs a job (the sweeper): leadership by lock.

PostgreSQL: a session-level advisory lock held on a connection of its own; it is freed
by the database when the holder's connection goes (the process died or the network
broke), and another worker takes over at its next try. SQLite (one machine): a lease row
that the holder renews on every try and that others may take once it has expired.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
import zlib

from sqlalchemy import Connection, text, update
from sqlalchemy.exc import DBAPIError

from server import schema as t
from server.db import Database


class Leadership:
    def __init__(self, db: Database, name: str, *, lease_ms: int) -> None:
        self.db = db
        self.name = name
        self.lease_ms = lease_ms
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._key = zlib.crc32(f"exam-server:{name}".encode())
        self._conn: Connection | None = None

    def try_lead(self, *, now_ms: int) -> bool:
        """True if this process leads now (call it before each run of the job)."""
        if self.db.is_postgres:
            return self._try_advisory()
        return self._try_lease(now_ms)

    def release(self) -> None:
        if self._conn is not None:
            # Unlock first: closing the session frees the lock too, but only once the server
            # has noticed the disconnect, so a successor trying at once could still be
            # refused (CI saw it under load). Then close the session itself (not back to
            # the pool), which frees the lock even if the unlock failed.
            with contextlib.suppress(DBAPIError):  # a session already gone took its lock
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
        elif not self.db.is_postgres:
            with self.db.write() as conn:
                conn.execute(update(t.leases)
                             .where((t.leases.c.name == self.name)
                                    & (t.leases.c.holder == self.holder))
                             .values(expires_ms=0))

    def _try_advisory(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))  # still our session, lock still ours
                return True
            except DBAPIError:
                self._conn.invalidate()
                self._conn = None
        conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                {"k": self._key}).scalar())
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def _try_lease(self, now_ms: int) -> bool:
        leases = t.leases
        with self.db.write() as conn:
            conn.execute(self.db.dialect_insert()(leases)
                         .values(name=self.name, holder=self.holder, expires_ms=0)
                         .on_conflict_do_nothing())
            taken = conn.execute(
                update(leases)
                .where((leases.c.name == self.name)
                       & ((leases.c.holder == self.holder) | (leases.c.expires_ms < now_ms)))
                .values(holder=self.holder, expires_ms=now_ms + self.lease_ms))
            return bool(taken.rowcount)
