"""AnswerStore: revisions, current answers, sync flags, meta, blobs, encryption at rest."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from client.store.database import AnswerStore
from client.store.errors import StoreCorruptError
from client.store.model import Revision, ServerAnswer


def test_every_change_is_a_numbered_revision(store: AnswerStore) -> None:
    before_ms = time.time_ns() // 1_000_000
    first = store.save(question_id="q1", value="A", server_time_ms=None)
    second = store.save(question_id="q1", value="B", server_time_ms=1_700_000_000_000)
    other = store.save(question_id="q2", value=["A", "C"], server_time_ms=None)
    cleared = store.save(question_id="q1", value=None, server_time_ms=None)

    assert [first.revision, second.revision, cleared.revision] == [1, 2, 3]
    assert other.revision == 1
    assert second.server_time_ms == 1_700_000_000_000 and first.server_time_ms is None
    assert first.wall_time_ms >= before_ms
    assert first.mono_time_ns < second.mono_time_ns < other.mono_time_ns
    assert [(r.question_id, r.revision, r.value) for r in store.revisions()] == [
        ("q1", 1, "A"), ("q1", 2, "B"), ("q2", 1, ["A", "C"]), ("q1", 3, None)]
    assert [r.value for r in store.revisions("q1")] == ["A", "B", None]
    current = store.current_answers()
    assert current["q1"] == cleared and current["q2"] == other
    assert list(current) == ["q2", "q1"]  # in the order they were last changed


def test_all_answer_shapes_round_trip(store_path: Path, key: bytes) -> None:
    values = {
        "single": "B", "multiple": ["A", "C"], "tf": False, "blanks": ["x", "中文 ∑"],
        "essay": "第一段\n\n第二段 — “引号” 😀" * 50, "empty": None, "number": 3.5,
        "nested": {"a": [1, {"b": None}]},
    }
    store = AnswerStore.open(store_path, key=key)
    for question, value in values.items():
        store.save(question_id=question, value=value, server_time_ms=None)
    store.close()
    reopened = AnswerStore.open(store_path, key=key)
    assert {q: r.value for q, r in reopened.current_answers().items()} == values
    reopened.close()


def test_a_value_that_is_not_json_is_refused_and_leaves_nothing(store: AnswerStore) -> None:
    with pytest.raises(ValueError):
        store.save(question_id="q1", value=float("nan"), server_time_ms=None)
    with pytest.raises(TypeError):
        store.save(question_id="q1", value={"x": {1, 2}}, server_time_ms=None)  # type: ignore[dict-item]
    assert store.revisions() == []
    assert store.save(question_id="q1", value="A", server_time_ms=None).revision == 1


def test_unsynced_and_mark_synced(store: AnswerStore) -> None:
    for value in ("A", "B", "C"):
        store.save(question_id="q1", value=value, server_time_ms=None)
    store.save(question_id="q2", value=True, server_time_ms=None)
    assert [(r.question_id, r.revision) for r in store.unsynced(limit=2)] == [("q1", 1), ("q1", 2)]

    store.mark_synced([("q1", 2)])  # the server acked q1@2: q1@1 is superseded too
    assert [(r.question_id, r.revision) for r in store.unsynced(limit=10)] == [("q1", 3), ("q2", 1)]
    store.mark_synced([("q1", 3), ("q2", 1)])
    assert store.unsynced(limit=10) == []
    assert all(r.synced for r in store.revisions())
    store.mark_synced([])


def test_acknowledgements_out_of_save_order_leave_nothing_behind(
    store_path: Path, key: bytes
) -> None:
    """The outbox reads from a seq watermark (no index): rows acknowledged out of order,
    restored rows, a reopen and "all synced" must all still give exactly the unsynced."""
    def unsynced(store: AnswerStore) -> list[tuple[str, int]]:
        return [(r.question_id, r.revision) for r in store.unsynced(limit=100)]

    store = AnswerStore.open(store_path, key=key)
    for question in ("q1", "q2", "q3", "q4"):
        store.save(question_id=question, value="A", server_time_ms=None)
    store.mark_synced([("q2", 1), ("q4", 1)])
    assert store.unsynced_count() == 2
    assert unsynced(store) == [("q1", 1), ("q3", 1)]
    store.mark_synced([("q3", 1)])
    assert unsynced(store) == [("q1", 1)] and store.unsynced_count() == 1
    store.mark_synced([("q1", 1)])
    assert unsynced(store) == [] and store.unsynced_count() == 0
    store.save(question_id="q3", value="B", server_time_ms=None)
    store.save(question_id="q2", value="B", server_time_ms=None)
    store.restore_revisions([Revision("q9", 5, "D", 1, 1, None, False)])
    assert unsynced(store) == [("q3", 2), ("q2", 2), ("q9", 5)]
    store.close()

    store = AnswerStore.open(store_path, key=key)
    assert unsynced(store) == [("q3", 2), ("q2", 2), ("q9", 5)]
    store.mark_synced([("q3", 2), ("q2", 2), ("q9", 5)])
    assert store.unsynced_count() == 0 and unsynced(store) == []
    store.save(question_id="q1", value="C", server_time_ms=None)
    assert unsynced(store) == [("q1", 2)] and store.unsynced_count() == 1
    store.close()


def test_import_server_answers_never_lowers_a_revision(store: AnswerStore) -> None:
    for value in ("A", "B", "C"):
        store.save(question_id="q1", value=value, server_time_ms=None)  # q1 at 3, unsynced
    imported = store.import_server_answers([
        ServerAnswer("q1", 2, "B", 111),  # older than ours: ignored, but q1@<=2 are synced
        ServerAnswer("q2", 5, ["A"], 222),  # answered on another PC
    ])
    assert [(r.question_id, r.revision, r.value, r.synced) for r in imported] == [
        ("q2", 5, ["A"], True)]
    current = store.current_answers()
    assert (current["q1"].revision, current["q1"].value) == (3, "C")
    assert (current["q2"].revision, current["q2"].server_time_ms) == (5, 222)
    assert [(r.question_id, r.revision) for r in store.unsynced(limit=10)] == [("q1", 3)]
    # The next local edit continues above the server's number.
    assert store.save(question_id="q2", value=["B"], server_time_ms=None).revision == 6
    store.import_server_answers([ServerAnswer("q2", 4, ["Z"])])
    assert store.current_answers()["q2"].value == ["B"]


def test_meta(store: AnswerStore) -> None:
    assert store.get_meta("paper_key") is None
    store.set_meta("paper_key", "abc")
    store.set_meta("paper_key", "def")
    assert store.get_meta("paper_key") == "def"
    assert store.all_meta()["paper_key"] == "def"


def test_blobs_are_stored_in_the_encrypted_store(store_path: Path, key: bytes) -> None:
    photo = b"\x89PNG\r\n\x1a\n" + b"FACE-CAPTURE-PIXELS" * 1000
    store = AnswerStore.open(store_path, key=key)
    store.put_blob(name="face/1", data=photo, content_type="image/png")
    store.put_blob(name="evidence/2", data=b"jpeg", content_type="image/jpeg")
    assert store.get_blob("face/1") == photo
    assert store.blob_names() == ["face/1", "evidence/2"]
    store.delete_blob("evidence/2")
    assert store.get_blob("evidence/2") is None
    store.close()
    for path in store_path.parent.iterdir():
        data = path.read_bytes()
        assert b"FACE-CAPTURE-PIXELS" not in data and b"PNG" not in data, path


def test_nothing_readable_on_disk(store_path: Path, key: bytes) -> None:
    secret = "我的作文答案 SECRET-ESSAY-TEXT"
    store = AnswerStore.open(store_path, key=key)
    store.save(question_id="essay-1", value=secret, server_time_ms=None)
    store.set_meta("paper_key", "PAPER-KEY-SECRET")
    # Look at the files while the store is open (WAL present) and after close.
    for when in ("open", "closed"):
        files = list(store_path.parent.iterdir())
        assert any(p.name.endswith("-wal") for p in files) or when == "closed"
        for path in files:
            data = path.read_bytes()
            for needle in (secret.encode(), b"SECRET-ESSAY", b"PAPER-KEY", b"essay-1",
                           b"SQLite format 3", b"revisions"):
                assert needle not in data, (when, path.name, needle)
        store.close()


def test_standard_sqlite3_reads_nothing(store_path: Path, key: bytes) -> None:
    store = AnswerStore.open(store_path, key=key)
    store.save(question_id="q1", value="A", server_time_ms=None)
    store.close()
    conn = sqlite3.connect(store_path)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    conn.close()


def test_another_key_reads_nothing(store_path: Path, key: bytes) -> None:
    store = AnswerStore.open(store_path, key=key)
    store.save(question_id="q1", value="A", server_time_ms=None)
    store.close()
    with pytest.raises(StoreCorruptError) as caught:
        AnswerStore.open(store_path, key=bytes(32))
    assert caught.value.code == "store.corrupt"


def test_a_second_client_instance_is_refused(store_path: Path, key: bytes) -> None:
    first = AnswerStore.open(store_path, key=key)
    first.save(question_id="q1", value="A", server_time_ms=None)
    try:
        from client.store.connection import StoreLockedError

        with pytest.raises(StoreLockedError) as caught:
            AnswerStore.open(store_path, key=key)
        assert caught.value.code == "store.locked"
    finally:
        first.close()


def test_created_atomically_and_missing_file_is_not_silently_recreated(
    store_path: Path, key: bytes
) -> None:
    AnswerStore.open(store_path, key=key).close()
    # No half-built leftovers: the store and its first backup snapshot only.
    assert sorted(p.name for p in store_path.parent.iterdir()) == [
        "answers.backup.db", "answers.db"]
    store_path.unlink()
    with pytest.raises(StoreCorruptError) as caught:
        AnswerStore.open(store_path, key=key, create=False)
    assert caught.value.code == "store.missing"


def test_durability_settings(store: AnswerStore) -> None:
    conn = store._conn  # the settings are the durability argument of docs/durability.md
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA locking_mode").fetchone()[0] == "exclusive"
    # SQLCipher 4 settings (cipher_compatibility = 4 cannot be read back, its effects can).
    assert conn.execute("PRAGMA cipher_hmac_algorithm").fetchone()[0] == "HMAC_SHA512"
    assert conn.execute("PRAGMA cipher_page_size").fetchone()[0] == "4096"
