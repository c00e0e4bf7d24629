"""Paper sources: a directory or a .zip with paper.json and its media."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paper_forge import zip_of
from paper_samples import sample_document, sample_media

from client.errors import UserFacingError
from client.paper.source import PaperSource


def _write_directory(folder: Path, *, bom: bool = False) -> Path:
    folder.mkdir()
    text = json.dumps(sample_document(), ensure_ascii=False)
    (folder / "paper.json").write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    for name, data in sample_media().items():
        (folder / name).write_bytes(data)
    (folder / "README.txt").write_text("notes for the author", encoding="utf-8")
    return folder


def _members() -> dict[str, bytes]:
    return {"paper.json": json.dumps(sample_document()).encode(), **sample_media()}


def test_directory_source(tmp_path: Path) -> None:
    source = PaperSource.from_path(_write_directory(tmp_path / "paper"))
    paper = source.load()
    assert paper.paper_id == "sample-1"
    assert dict(paper.media) == sample_media()


def test_directory_saved_by_notepad_with_bom(tmp_path: Path) -> None:
    assert PaperSource.from_path(_write_directory(tmp_path / "p", bom=True)).load().item_count == 6


def test_zip_source_flat_and_wrapped_in_a_folder(tmp_path: Path) -> None:
    flat = tmp_path / "flat.zip"
    flat.write_bytes(zip_of(_members()))
    wrapped = tmp_path / "wrapped.zip"
    wrapped.write_bytes(zip_of({f"试卷/{name}": data for name, data in _members().items()}))
    assert PaperSource.from_path(flat).load() == PaperSource.from_path(wrapped).load()


def test_from_paper_round_trip() -> None:
    paper = PaperSource(sample_document(), sample_media()).load()
    assert PaperSource.from_paper(paper).load() == paper


@pytest.mark.parametrize("evil", ["../paper.json", "../../x.png", "/abs/x.png", "a/../../b.png"])
def test_zip_with_path_traversal_is_refused(tmp_path: Path, evil: str) -> None:
    path = tmp_path / "evil.zip"
    path.write_bytes(zip_of(_members() | {evil: b"x"}))
    with pytest.raises(UserFacingError) as caught:
        PaperSource.from_path(path)
    assert caught.value.code == "paper.invalid"
    assert caught.value.detail["member"] == evil


def test_missing_media_is_reported(tmp_path: Path) -> None:
    folder = _write_directory(tmp_path / "paper")
    (folder / "clip.wav").unlink()
    with pytest.raises(UserFacingError) as caught:
        PaperSource.from_path(folder).load()
    assert caught.value.detail["item"] == "q3"
    assert "clip.wav" in caught.value.message


def test_broken_json_names_line_and_column(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "paper.json").write_text('{\n  "paper_id": "x",\n  oops\n}', encoding="utf-8")
    with pytest.raises(UserFacingError) as caught:
        PaperSource.from_path(folder)
    assert "第 3 行第 3 列" in caught.value.message


@pytest.mark.parametrize("content", [b"not a zip", zip_of({"other.json": b"{}"}),
                                     zip_of({"a/paper.json": b"{}", "b/paper.json": b"{}"})])
def test_unusable_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(content)
    with pytest.raises(UserFacingError) as caught:
        PaperSource.from_path(path)
    assert caught.value.code == "paper.invalid"


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(UserFacingError):
        PaperSource.from_path(tmp_path / "absent.zip")
    with pytest.raises(UserFacingError):
        PaperSource.from_path(tmp_path)
