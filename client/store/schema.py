"""Store schema versions (PRAGMA user_version) and the steps between them.

Every version ever shipped keeps its step here unchanged, and tests/fixtures/store/ holds
a sample store file made at that version (tests/fixtures/store/make_fixtures.py), so an
upgrade from any old file is tested. To change the schema: append a step, never edit one.
"""

from __future__ import annotations

from client.i18n import _
from client.store.connection import Connection
from client.store.errors import StoreError

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: walking skeleton. seq keeps the save order across questions (export, sync);
    # (question_id, revision) is the identity the server and the merge logic use.
    (
        """CREATE TABLE revisions (
            seq INTEGER PRIMARY KEY,
            question_id TEXT NOT NULL,
            revision INTEGER NOT NULL CHECK (revision >= 1),
            value TEXT NOT NULL,
            wall_time_ms INTEGER NOT NULL,
            mono_time_ns INTEGER NOT NULL,
            server_time_ms INTEGER,
            synced INTEGER NOT NULL DEFAULT 0 CHECK (synced IN (0, 1)),
            UNIQUE (question_id, revision)
        )""",
        "CREATE INDEX revisions_unsynced ON revisions (seq) WHERE synced = 0",
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    ),
    # 2: encrypted blobs (face captures, evidence photos): never plain images on disk.
    (
        """CREATE TABLE blobs (
            name TEXT PRIMARY KEY,
            data BLOB NOT NULL,
            content_type TEXT NOT NULL,
            created_ms INTEGER NOT NULL
        )""",
    ),
    # 3: fewer encrypted pages per save (three instead of five or six for an essay, two
    # instead of three for a choice). Long values may be stored as a patch of the
    # question's revision *patch_of* (client/store/patches.py; NULL: the whole value, as
    # before). The unsynced index goes: AnswerStore finds unsynced rows from a seq
    # watermark instead (a row's seq is above every older row's, and rows never go
    # back to unsynced), so a save no longer updates a second index.
    (
        """ALTER TABLE revisions ADD COLUMN patch_of INTEGER
            CHECK (patch_of IS NULL OR patch_of < revision)""",
        "DROP INDEX revisions_unsynced",
    ),
)

CURRENT_VERSION = len(MIGRATIONS)


def schema_version(conn: Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(conn: Connection, *, target: int = CURRENT_VERSION) -> int:
    """Bring the schema to *target* in one transaction; returns the version found.

    DDL and user_version are transactional in SQLite, so a crash mid-upgrade leaves the
    old version intact and the upgrade simply runs again.
    """
    found = schema_version(conn)
    if found > CURRENT_VERSION:
        raise StoreError(
            "store.too_new",
            _("答案文件由更新版本的考试客户端创建，请使用最新版本的考试客户端。"),
            found=found,
            supported=CURRENT_VERSION,
        )
    if found >= target:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        for version in range(found + 1, target + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found
