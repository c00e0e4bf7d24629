"""Every schema version ever shipped opens and upgrades (tests/fixtures/store/v<N>.db)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from client.store import connection, schema
from client.store.database import AnswerStore
from client.store.errors import StoreError
from client.store.paths import StorePaths
from client.store.recovery import open_or_recover

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "store"


def load_fixture_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("store_make_fixtures",
                                                  FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fixtures = load_fixture_script()
VERSIONS = list(range(1, schema.CURRENT_VERSION + 1))


def test_a_sample_file_exists_for_every_schema_version() -> None:
    missing = [v for v in VERSIONS if not fixtures.fixture_path(v).exists()]
    assert not missing, "run tests/fixtures/store/make_fixtures.py and commit the files"
    assert set(fixtures.SAMPLES) == set(VERSIONS)


@pytest.mark.parametrize("version", VERSIONS)
def test_sample_file_is_the_version_it_claims(version: int) -> None:
    conn = connection.connect_immutable(fixtures.fixture_path(version), key=fixtures.FIXTURE_KEY)
    try:
        assert schema.schema_version(conn) == version
    finally:
        conn.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_old_store_upgrades_and_keeps_everything(tmp_path: Path, version: int) -> None:
    paths = StorePaths(tmp_path / "store")
    paths.directory.mkdir()
    shutil.copyfile(fixtures.fixture_path(version), paths.db)
    store, report = open_or_recover(paths, key=fixtures.FIXTURE_KEY)
    try:
        assert not report.recovered
        assert schema.schema_version(store._conn) == schema.CURRENT_VERSION
        assert store.integrity_problems() == []
        got = [(r.question_id, r.revision, r.value, r.wall_time_ms, r.mono_time_ns,
                r.server_time_ms, r.synced) for r in store.revisions()]
        expected = [(q, n, json.loads(v), w, m, s, bool(y))
                    for q, n, v, w, m, s, y in fixtures.expected_revisions(version)]
        assert got == expected
        assert {n: store.get_meta(n) for n in fixtures.META_V1} == fixtures.META_V1
        if version >= 2:
            name, data, _, _ = fixtures.BLOBS_V2[0]
            assert store.get_blob(name) == data
        # Everything works on the upgraded file.
        assert store.save(question_id="q1", value="B", server_time_ms=None).revision == 3
        assert [r.question_id for r in store.unsynced(limit=10)][:2] == ["q2", "q3"]
        store.put_blob(name="face/new", data=b"jpeg", content_type="image/jpeg")
    finally:
        store.close()
    reopened = AnswerStore.open(paths.db, key=fixtures.FIXTURE_KEY)
    assert reopened.current_answers()["q1"].value == "B"
    reopened.close()


def test_a_store_from_a_newer_client_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "answers.db"
    shutil.copyfile(fixtures.fixture_path(schema.CURRENT_VERSION), path)
    conn = connection.connect(path, key=fixtures.FIXTURE_KEY)
    conn.execute(f"PRAGMA user_version = {schema.CURRENT_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        AnswerStore.open(path, key=fixtures.FIXTURE_KEY)
    assert caught.value.code == "store.too_new"
    assert "更新版本" in caught.value.message
    assert path.read_bytes() == before


def test_a_failing_upgrade_changes_nothing(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "answers.db"
    shutil.copyfile(fixtures.fixture_path(1), path)
    broken = (*schema.MIGRATIONS, ("CREATE TABLE extra (x)", "THIS IS NOT SQL"))
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    conn = connection.connect(path, key=fixtures.FIXTURE_KEY)
    try:
        with pytest.raises(connection.DatabaseError):
            schema.migrate(conn, target=len(broken))
        assert schema.schema_version(conn) == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema").fetchall()}
        assert "blobs" not in tables and "extra" not in tables
    finally:
        conn.close()
