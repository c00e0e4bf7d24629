"""Keys, settings and the database schema on disk."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import update

from server import schema
from server.config import ServerSettings
from server.db import Database, SchemaVersionError
from server.keys import ensure_keys, load_keys


def test_keys_are_private_and_stable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    keys = ensure_keys(data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("signing.pem", "box.pem", "storage.key"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600
    again = ensure_keys(data)
    assert again.signing_public_raw() == keys.signing_public_raw()
    assert load_keys(data).box_public_raw() == keys.box_public_raw()


def test_sealed_secrets_are_bound_to_their_context(tmp_path: Path) -> None:
    keys = ensure_keys(tmp_path / "data")
    sealed = keys.seal(b"paper key bytes", context="paper-key:e1")
    assert b"paper key bytes" not in sealed
    assert keys.unseal(sealed, context="paper-key:e1") == b"paper key bytes"
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        keys.unseal(sealed, context="paper-key:e2")


def test_settings_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "server.toml").write_text('port = 9000\ntrust_proxy = true\nhost = "10.0.0.1"\n')
    monkeypatch.setenv("EXAM_SERVER_PORT", "9100")
    settings = ServerSettings.load(tmp_path, host="127.0.0.1")
    assert (settings.port, settings.trust_proxy, settings.host) == (9100, True, "127.0.0.1")
    assert settings.effective_database_url == f"sqlite:///{(tmp_path / 'server.db').as_posix()}"
    (tmp_path / "server.toml").write_text("prot = 1\n")
    with pytest.raises(ValueError, match="prot"):
        ServerSettings.load(tmp_path)


def test_schema_version_is_recorded_and_checked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    db = Database(url)
    db.init_schema()
    db.init_schema()  # idempotent
    assert db.schema_version() == schema.SCHEMA_VERSION
    with db.write() as conn:
        conn.execute(update(schema.schema_version).values(version=schema.SCHEMA_VERSION + 1))
    db.close()
    newer = Database(url)
    with pytest.raises(SchemaVersionError):
        newer.init_schema()
    newer.close()


def test_a_table_made_on_first_use_waits_for_a_busy_writer(tmp_path: Path) -> None:
    """The first admin login of a fresh server answered 500 "database is locked": its
    login-throttle table was created in a plain transaction (read the catalogue, then
    CREATE), which SQLite refuses at once when another connection commits meanwhile."""
    import sqlite3
    import threading

    from server.lazy_tables import create_once
    from server.staff_throttle import login_failures

    path = tmp_path / "fresh.db"
    setup = Database(f"sqlite:///{path}")
    setup.init_schema()
    setup.close()
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    raw.execute(f"DROP TABLE {login_failures.name}")
    raw.execute("BEGIN IMMEDIATE")  # another worker's write, committed while we wait
    raw.execute("CREATE TABLE other_work (x INTEGER)")
    releaser = threading.Timer(0.5, lambda: raw.execute("COMMIT"))
    releaser.start()
    db = Database(f"sqlite:///{path}")
    try:
        create_once(db, tables=[login_failures])
        with db.read() as conn:
            assert conn.execute(login_failures.select()).all() == []
    finally:
        releaser.join()
        raw.close()
        db.close()
