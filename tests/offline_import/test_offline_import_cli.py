"""``exam-server import-offline`` against the real server database: round trip, replay,
and every refusal (each with its own code, and nothing changed)."""

from __future__ import annotations

import psutil
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from offline_helpers import db_state, rev, sit

from server.api_attempt import MAX_VALUE_BYTES
from server.cli import main
from server.offline_import import MAX_FILE_BYTES


def run_cli(srv, capsys, *paths, extra=()):
    code = main(["import-offline", "--data", str(srv.data_dir), *extra, *map(str, paths)])
    return code, capsys.readouterr().out


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_round_trip_and_replay(srv, capsys, tmp_path):
    alice = sit(srv)
    now = srv.clock.now_ms()
    name, data = alice.build_file([rev("q1", 1, "A", now), rev("q1", 2, "B", now + 1),
                                   rev("q8", 1, "离线作文", now + 2)])
    path = write(tmp_path, name, data)
    code, out = run_cli(srv, capsys, path)
    assert code == 0, out
    assert "[已合并]" in out and "题 q1：版本 - -> 2" in out and "题 q8：版本 - -> 1" in out
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    assert srv.db.current_answers(attempt.id) == {"q1": "B", "q8": "离线作文"}
    before = db_state(srv)
    code, out = run_cli(srv, capsys, path)
    assert code == 0
    assert "[无变化]" in out and "重复导入不会改变任何内容" in out and "此文件以前已导入过" in out
    assert db_state(srv) == before


def test_one_bad_file_does_not_stop_the_others(srv, capsys, tmp_path):
    alice, bob = sit(srv, 0), sit(srv, 1, client_id="pc-02")
    now = srv.clock.now_ms()
    good_a = write(tmp_path, *alice.build_file([rev("q1", 1, "B", now)]))
    name, data = bob.build_file([rev("q2", 1, "C", now)])
    broken = write(tmp_path, name, data[:-10])
    good_b = write(tmp_path, *bob.build_file([rev("q3", 1, "B", now)]))
    code, out = run_cli(srv, capsys, good_a, broken, good_b, tmp_path / "missing.examans")
    assert code == 1
    assert out.count("[已合并]") == 2 and out.count("[拒绝]") == 2
    assert "offline.truncated" in out and "offline.unreadable" in out
    assert "合并 2，无变化 0，拒绝 2" in out


def _refusal_cases(srv, tmp_path):
    alice, bob = sit(srv, 0), sit(srv, 1, client_id="pc-02")
    now = srv.clock.now_ms()
    revisions = [rev("q1", 5, "D", now)]
    cases = {}
    # Alice's real key signing a header that claims to be Bob's file.
    cases["offline.wrong_candidate"] = alice.build_file(
        revisions, identity=alice.identity(candidate_id=bob.candidate_id,
                                           candidate_no=bob.student_no))
    cases["offline.wrong_exam"] = alice.build_file(
        revisions, identity=alice.identity(exam_id="another-exam"))
    name, data = alice.build_file(revisions)
    tampered = bytearray(data)
    tampered[len(data) // 2] ^= 0x01
    cases["offline.signature_invalid"] = (name, bytes(tampered))
    name, data = alice.build_file(revisions)
    cases["offline.renamed"] = (name.replace(".examans", "-copy.examans"), data)
    name, data = alice.build_file(revisions)
    cases["offline.truncated"] = (name, data[: len(data) * 2 // 3])
    stranger = Ed25519PrivateKey.generate()  # never registered with the server
    cases["offline.unknown_client_key"] = alice.build_file(revisions, key=stranger)
    cases["offline.not_a_file"] = ("notes.examans", "这不是答卷".encode() * 20)
    # Signed by the registered key, so only the server's limits can refuse these two.
    cases["offline.unknown_question"] = alice.build_file(
        [rev("q1", 6, "A", now), rev("q999", 1, "A", now)])
    over_limit = "字" * (MAX_VALUE_BYTES // 3 + 1)  # 3 bytes each in UTF-8: one byte over
    cases["offline.value_too_large"] = alice.build_file([rev("q8", 1, over_limit, now)])
    return {code: write(tmp_path, name, data) for code, (name, data) in cases.items()}


def test_each_refusal_has_its_reason_and_changes_nothing(srv, capsys, tmp_path):
    paths = _refusal_cases(srv, tmp_path)
    before = db_state(srv)
    for code, path in paths.items():
        exit_code, out = run_cli(srv, capsys, path)
        assert exit_code == 1
        assert f"（{code}）" in out, (code, out)
    assert db_state(srv) == before


def test_an_oversized_file_is_refused_before_it_is_read(srv, capsys, tmp_path):
    path = tmp_path / "huge.examans"
    with path.open("wb") as fh:  # sparse: the size is real, the disk holds almost nothing
        fh.truncate(MAX_FILE_BYTES + 1)
    before = db_state(srv)
    read_before = psutil.Process().io_counters().read_chars
    code, out = run_cli(srv, capsys, path)
    read = psutil.Process().io_counters().read_chars - read_before
    assert code == 1 and "（offline.too_large）" in out
    # Refused from its size: reading it first would have cost 64 MiB of memory and reads.
    assert read < MAX_FILE_BYTES // 8, read
    assert db_state(srv) == before


def test_exam_filter_refuses_files_of_other_exams(srv, capsys, tmp_path):
    alice = sit(srv)
    path = write(tmp_path, *alice.build_file([rev("q1", 1, "B", srv.clock.now_ms())]))
    before = db_state(srv)
    code, out = run_cli(srv, capsys, path, extra=("--exam", "some-other-exam"))
    assert code == 1 and "offline.wrong_exam" in out
    assert db_state(srv) == before
    code, out = run_cli(srv, capsys, path, extra=("--exam", alice.exam_id))
    assert code == 0 and "[已合并]" in out


@pytest.mark.parametrize("center", ["demo-center", "other-center"])
def test_center_filter(srv, capsys, tmp_path, center):
    alice = sit(srv)
    path = write(tmp_path, *alice.build_file([rev("q1", 1, "B", srv.clock.now_ms())]))
    code, out = run_cli(srv, capsys, path, extra=("--center", center))
    if center == "demo-center":
        assert code == 0
    else:
        assert code == 1 and "offline.other_center" in out
