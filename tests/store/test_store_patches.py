"""Long answers are stored as patches of the previous revision and always read back whole."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from client.store import database, patches, salvage
from client.store.database import AnswerStore
from client.store.errors import StoreCorruptError
from client.store.model import Revision, ServerAnswer, decode_value, encode_value

ALPHABET = "考试答案作文论述理由因此所以的一是在不了有和人这中大为上个国ab \n\"\\😀𠮷"


def typed_edits(rng: random.Random, *, start: str, edits: int) -> list[str]:
    """Texts a candidate produces: mostly typing at one place, some deletions and jumps."""
    texts, text, cursor = [], start, len(start)
    for _ in range(edits):
        roll = rng.random()
        if roll < 0.1:
            cursor = rng.randint(0, len(text))  # the candidate clicks elsewhere
        if roll < 0.2 and text:
            cut = rng.randint(1, min(40, len(text)))
            cursor = min(cursor, len(text) - cut)
            text = text[:cursor] + text[cursor + cut:]
        else:
            typed = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))
            text = text[:cursor] + typed + text[cursor:]
            cursor += len(typed)
        texts.append(text)
    return texts


def stored_rows(store: AnswerStore, question_id: str) -> list[tuple[int, str, int | None]]:
    return [(int(r[0]), str(r[1]), r[2]) for r in store._conn.execute(
        "SELECT revision, value, patch_of FROM revisions WHERE question_id = ? "
        "ORDER BY revision", (question_id,)).fetchall()]


@pytest.mark.parametrize("seed", range(5))
def test_diff_then_apply_gives_the_new_text_back(seed: int) -> None:
    rng = random.Random(seed)
    samples = ["", "a", "aaaa", "论述" * 300, *typed_edits(rng, start="", edits=300)]
    for _ in range(400):
        old, new = rng.choice(samples), rng.choice(samples)
        patch = patches.diff(old, new)
        assert patches.apply(old, patches.decode(patches.encode(patch))) == new
        assert patch.keep_start + patch.keep_end <= min(len(old), len(new))


def test_a_patch_of_typing_in_one_place_is_small() -> None:
    old = "春眠不觉晓" * 600
    new = old[:1500] + "处处闻啼鸟" + old[1500:]
    patch = patches.diff(old, new)
    assert (patch.keep_start, patch.keep_end, patch.insert) == (1500, 1500, "处处闻啼鸟")
    assert patches.diff("aaaa", "aaaaa").insert == "a"  # overlapping prefix and suffix


@pytest.mark.parametrize("stored", ['"text"', '[1,2,""]', "patch:[1,2]", 'patch:[1,"2",""]',
                                    'patch:[-1,0,""]x', "patch:{}"])
def test_something_that_is_not_a_patch_is_refused(stored: str) -> None:
    with pytest.raises(ValueError):
        patches.decode(stored)


def test_a_patch_that_does_not_fit_its_base_is_refused() -> None:
    with pytest.raises(ValueError):
        patches.apply("short", patches.TextPatch(keep_start=4, keep_end=4, insert=""))
    with pytest.raises(ValueError):
        patches.apply("short", patches.TextPatch(keep_start=-1, keep_end=0, insert=""))


def test_when_a_patch_is_not_worth_it_the_whole_value_is_stored() -> None:
    essay = '"' + "论述" * 400 + '"'
    assert patches.storage_form(previous=None, new=essay, chain_depth=0) == (essay, False)
    short = '"' + "短" * 100 + '"'
    assert patches.storage_form(previous=short[:-2] + '"', new=short, chain_depth=0)[1] is False
    rewritten = '"' + "重写" * 400 + '"'
    assert patches.storage_form(previous=essay, new=rewritten, chain_depth=0)[1] is False
    appended = essay[:-1] + "。" + '"'
    assert patches.storage_form(previous=essay, new=appended, chain_depth=0)[1] is True
    last_link = patches.KEYFRAME_EVERY - 1
    assert patches.storage_form(previous=essay, new=appended, chain_depth=last_link) == (
        appended, False)


def test_an_essay_typed_for_a_while_reads_back_exactly(store_path: Path, key: bytes) -> None:
    rng = random.Random(11)
    texts = typed_edits(rng, start="引言" * 300, edits=400)
    store = AnswerStore.open(store_path, key=key)
    saved = [store.save(question_id="essay", value=t, server_time_ms=None) for t in texts]
    store.save(question_id="q1", value="A", server_time_ms=None)
    assert [r.value for r in store.revisions("essay")] == texts
    rows = stored_rows(store, "essay")
    patched = [row for row in rows if row[2] is not None]
    assert len(patched) > 0.8 * len(rows), "typing in one place is stored as patches"
    stored_chars = sum(len(value) for _, value, _ in rows)
    whole_chars = sum(len(encode_value(t)) for t in texts)
    assert stored_chars < whole_chars / 10
    depth = longest = 0
    for _, _, patch_of in rows:
        depth = depth + 1 if patch_of is not None else 0
        longest = max(longest, depth)
    assert longest <= patches.KEYFRAME_EVERY - 1, "chains are bounded by whole values"
    store.close()

    # A fresh process knows nothing in memory: everything comes from the file.
    reopened = AnswerStore.open(store_path, key=key)
    try:
        assert reopened.current_answers()["essay"] == saved[-1]
        assert [r.value for r in reopened.revisions()][:-1] == texts
        assert reopened.unsynced(limit=1000) == [*saved, reopened.revisions("q1")[0]]
        reopened.mark_synced([("essay", saved[200].revision)])
        assert reopened.unsynced(limit=1)[0] == saved[201]  # its base is a synced row
        more = texts[-1] + "结语。"
        assert reopened.save(question_id="essay", value=more, server_time_ms=None).value == more
        # The main file is not covered by the WAL or a snapshot taken this session.
        assert stored_rows(reopened, "essay")[-1][2] is None, "whole after a reopen"
        even_more = more + "完。"
        reopened.save(question_id="essay", value=even_more, server_time_ms=None)
        assert stored_rows(reopened, "essay")[-1][2] is not None, "then patches again"
        assert reopened.current_answers()["essay"].value == even_more
    finally:
        reopened.close()


def test_answers_from_the_server_and_restored_revisions_become_the_base(
    store: AnswerStore,
) -> None:
    essay = "服务器上的作文" * 100
    store.save(question_id="essay", value=essay, server_time_ms=None)
    server_text = essay + "在另一台电脑上写的"
    store.import_server_answers([ServerAnswer("essay", 7, server_text)])
    after_server = server_text + "继续"
    assert store.save(question_id="essay", value=after_server,
                      server_time_ms=None).revision == 8
    assert stored_rows(store, "essay")[-1][2] == 7
    restored_text = after_server + "从备份恢复"
    restored = Revision("essay", 20, restored_text, 1, 1, None, False)
    assert store.restore_revisions([restored]) == 1
    final = restored_text + "！"
    assert store.save(question_id="essay", value=final, server_time_ms=None).revision == 21
    assert stored_rows(store, "essay")[-1][2] == 20
    assert [r.value for r in store.revisions("essay")] == [
        essay, server_text, after_server, restored_text, final]


def insert_orphan_patch(store: AnswerStore) -> None:
    """A patch whose base is missing: what losing the base's page would look like."""
    store._conn.execute(
        "INSERT INTO revisions (question_id, revision, value, wall_time_ms, mono_time_ns, "
        "synced, patch_of) VALUES ('essay', 1000, 'patch:[1,1,\"孤儿\"]', 1, 1, 0, 999)")


def test_a_broken_chain_is_reported_as_damage_not_guessed(store: AnswerStore) -> None:
    store.save(question_id="essay", value="完整" * 300, server_time_ms=None)
    insert_orphan_patch(store)
    with pytest.raises(StoreCorruptError) as caught:
        store.revisions()
    assert caught.value.code == "store.corrupt"
    with pytest.raises(StoreCorruptError):
        store.current_answers()


def test_salvage_applies_patches_and_drops_only_what_lost_its_base(
    store_path: Path, key: bytes, tmp_path: Path,
) -> None:
    texts = typed_edits(random.Random(3), start="抢救" * 300, edits=60)
    store = AnswerStore.open(store_path, key=key, snapshot_policy=None)
    for text in texts:
        store.save(question_id="essay", value=text, server_time_ms=None)
    insert_orphan_patch(store)
    store.close()
    copy = tmp_path / "copy.db"
    shutil.copyfile(store_path, copy)
    result = salvage.read_rows(copy, key=key)
    salvage.resolve_across([result])
    assert [r.value for r in result.revisions if r.question_id == "essay"] == texts
    assert "1 revisions lost with the revision they patch" in result.errors


def test_a_patch_finds_its_base_in_another_file_of_the_store(
    store_path: Path, key: bytes, tmp_path: Path,
) -> None:
    """Recovery reads the damaged file, the WAL on the backup and the backup separately;
    a patch read in one of them may have its base only in another."""
    texts = typed_edits(random.Random(5), start="跨文件" * 300, edits=10)
    store = AnswerStore.open(store_path, key=key, snapshot_policy=None)
    for text in texts:
        store.save(question_id="essay", value=text, server_time_ms=None)
    store.close()
    copy = tmp_path / "copy.db"
    shutil.copyfile(store_path, copy)
    whole = salvage.read_rows(copy, key=key)
    assert [r.value for r in whole.revisions] == texts
    # Split what was read as if the first revisions had come from another file.
    older = salvage.Salvage(revisions=whole.revisions[:3],
                            texts={k: v for k, v in whole.texts.items() if k[1] <= 3})
    conn = sqlite_rows(copy, key)
    newer = salvage.Salvage()
    salvage._resolve([row for row in conn if int(str(row[1])) > 3], newer)
    assert newer.revisions == [] and len(newer.pending) == len(texts) - 3
    salvage.resolve_across([newer, older])
    assert [r.value for r in older.revisions + newer.revisions] == texts
    assert newer.pending == [] and newer.errors == []


def rows_in_main_file(path: Path, key: bytes) -> int:
    """Rows in the main file alone (immutable: the WAL is not read)."""
    from client.store import connection

    conn = connection.connect_immutable(path, key=key)
    try:
        return int(conn.execute("SELECT count(*) FROM revisions").fetchone()[0])
    finally:
        conn.close()


def sqlite_rows(path: Path, key: bytes) -> list[tuple[object, ...]]:
    from client.store import connection

    conn = connection.connect_immutable(path, key=key)
    try:
        return [tuple(row) for row in conn.execute(
            "SELECT question_id, revision, value, wall_time_ms, mono_time_ns, "
            "server_time_ms, synced, patch_of FROM revisions ORDER BY seq").fetchall()]
    finally:
        conn.close()


def test_a_patch_is_never_valid_answer_json() -> None:
    """A reader that misses patch_of (a damaged schema page read from an older backup)
    must fail on a patch rather than return it as the answer."""
    stored = patches.encode(patches.diff('"' + "甲" * 600 + '"', '"' + "甲" * 601 + '"'))
    with pytest.raises(ValueError):
        decode_value(stored)


def test_without_snapshots_the_wal_is_bounded_and_old_bases_are_not_patched(
    store_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(database, "CHECKPOINT_WITHOUT_SNAPSHOT_COMMITS", 20)
    store = AnswerStore.open(store_path, key=key, snapshot_policy=None)
    try:
        texts = typed_edits(random.Random(8), start="无备份" * 300, edits=45)
        for text in texts:
            store.save(question_id="essay", value=text, server_time_ms=None)
        whole = [revision for revision, _, patch_of in stored_rows(store, "essay")
                 if patch_of is None]
        # The first save, and the first after each checkpoint (commits 21 and 41).
        assert whole[:3] == [1, 21, 41]
        assert [r.value for r in store.revisions()] == texts
        assert store.wal_size() < 60 * 4096
    finally:
        store.close()


def test_a_snapshot_is_followed_by_a_checkpoint_and_patches_go_on(
    store_path: Path, key: bytes,
) -> None:
    store = AnswerStore.open(store_path, key=key, snapshot_policy=None)
    try:
        texts = typed_edits(random.Random(9), start="有备份" * 300, edits=30)
        for index, text in enumerate(texts):
            store.save(question_id="essay", value=text, server_time_ms=None)
            if index == 10:
                assert rows_in_main_file(store_path, key) == 0, "all in the WAL"
                assert store.snapshot()
                assert rows_in_main_file(store_path, key) == 11, "checkpointed"
        patched = [patch_of is not None for _, _, patch_of in stored_rows(store, "essay")]
        assert patched.count(False) == 1, "a snapshot keeps every base safe"
    finally:
        store.close()
