"""Zip reading limits: bombs, names, damage."""

from __future__ import annotations

import io
import zipfile

import pytest
from paper_forge import zip_of

from client.paper.archive import ArchiveError, is_safe_member_name, read_zip, write_zip


def test_real_compression_bomb_is_refused_before_inflating() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("paper.json", b"\x00" * (8 * 1024 * 1024))
    bomb = buffer.getvalue()
    assert len(bomb) < 64 * 1024
    with pytest.raises(ArchiveError) as caught:
        read_zip(bomb, max_total_bytes=1024 * 1024)
    assert "uncompressed size" in caught.value.reason


def test_too_many_members() -> None:
    with pytest.raises(ArchiveError):
        read_zip(zip_of({f"media/{i}.png": b"" for i in range(20)}), max_members=10)


def test_damaged_member_is_refused() -> None:
    data = bytearray(zip_of({"paper.json": b"{" + b'"a": 1, ' * 200 + b"}"}))
    data[40] ^= 0xFF  # inside the compressed stream of the only member
    with pytest.raises(ArchiveError):
        read_zip(bytes(data))


@pytest.mark.parametrize(("name", "safe"), [
    ("paper.json", True), ("media/a.png", True), ("dir/", True),
    ("../a", False), ("a/../b", False), ("/a", False), ("a\\b", False), ("C:a", False),
    ("a//b", False), ("./a", False), ("", False), ("a\x00b", False),
])
def test_member_names(name: str, safe: bool) -> None:
    assert is_safe_member_name(name) is safe


def test_write_zip_is_deterministic_and_readable() -> None:
    members = {"paper.json": b"{}", "media/a.png": b"\x89PNG...", "media/b.wav": b"RIFF"}
    assert write_zip(members) == write_zip(dict(reversed(members.items())))
    assert read_zip(write_zip(members)) == members
    with pytest.raises(ArchiveError):
        write_zip({"../x": b""})
