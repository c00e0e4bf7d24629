from __future__ import annotations

import hashlib

import pytest

from client.errors import UserFacingError
from client.export.atomic_write import atomic_write_verified


def test_writes_and_reports_the_digest(tmp_path):
    target = tmp_path / "a.examans"
    written = atomic_write_verified(target, b"hello")
    assert target.read_bytes() == b"hello"
    assert written.sha256 == hashlib.sha256(b"hello").hexdigest() and written.size == 5
    assert [p.name for p in tmp_path.iterdir()] == ["a.examans"]  # no temp file left


def test_replaces_an_existing_file_whole(tmp_path):
    target = tmp_path / "a.examans"
    target.write_bytes(b"old" * 1000)
    atomic_write_verified(target, b"new")
    assert target.read_bytes() == b"new"


def test_failure_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "a.examans"
    target.mkdir()  # the rename onto a directory fails
    (target / "keep").write_text("x")
    with pytest.raises(UserFacingError) as err:
        atomic_write_verified(target, b"new")
    assert err.value.code == "export.write_failed"
    assert (target / "keep").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.examans"]


def test_missing_folder_is_a_write_failure(tmp_path):
    with pytest.raises(UserFacingError) as err:
        atomic_write_verified(tmp_path / "gone" / "a.examans", b"x")
    assert err.value.code == "export.write_failed"
