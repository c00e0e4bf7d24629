"""Tables a server module adds to the shared metadata, created on first use.

Several modules (review, base photos, proctors, the console, ...) define their own tables
on ``server.schema.metadata``. ``Database.init_schema`` creates them when the module was
imported first; ``create_once`` covers a database initialised without it, and remembers
per database (weakly: tests open many) which tables this process already created, so the
check costs a dictionary lookup after the first call.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence

from sqlalchemy import Table, inspect

from server.db import Database

_created: weakref.WeakKeyDictionary[Database, set[str]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def create_once(db: Database, *, tables: Sequence[Table]) -> None:
    """Create *tables* in *db* unless this process already did (idempotent)."""
    with _lock:
        done = _created.setdefault(db, set())
        missing = [table for table in tables if table.name not in done]
        if not missing:
            return
        # A read first: tables that exist (the usual case: init_schema made them) need no
        # write lock, so a first call inside another transaction cannot wait on itself.
        existing = set(inspect(db.engine).get_table_names())
        absent = [table for table in missing if table.name not in existing]
        if absent:
            db.create_tables(absent)
        done.update(table.name for table in missing)
