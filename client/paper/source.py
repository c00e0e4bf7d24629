"""A paper source: what an exam author hands to ``exam-server import-paper``.

A directory or a .zip holding ``paper.json`` and, beside it, the media files it names
(docs/formats.md, "Paper source"). A zip may wrap everything in one top-level folder, as
"Send to > Compressed folder" on Windows does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from client.errors import UserFacingError
from client.i18n import _
from client.paper.archive import MAX_TOTAL_BYTES, ArchiveError, read_zip
from client.paper.media import is_valid_media_name
from client.paper.model import Paper

PAPER_FILE = "paper.json"


def _source_error(origin: str, problem: str, **detail: object) -> UserFacingError:
    return UserFacingError(
        "paper.invalid",
        _("试卷源文件 {origin} 无法使用：{problem}").format(origin=origin, problem=problem),
        origin=origin,
        **detail,
    )


def _parse_json(data: bytes, origin: str) -> Mapping[str, object]:
    try:
        # utf-8-sig: Windows Notepad saves UTF-8 with a byte order mark.
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _source_error(origin, _("paper.json 不是 UTF-8 编码")) from exc
    except json.JSONDecodeError as exc:
        raise _source_error(
            origin,
            _("paper.json 第 {line} 行第 {column} 列 JSON 格式错误：{error}").format(
                line=exc.lineno, column=exc.colno, error=exc.msg),
        ) from exc
    if not isinstance(document, dict):
        raise _source_error(origin, _("paper.json 的顶层应为对象"))
    return document


def _frozen_media() -> Mapping[str, bytes]:
    return MappingProxyType({})


@dataclass(frozen=True)
class PaperSource:
    """The parsed paper.json document and the candidate media files beside it.

    ``load()`` validates; only the media the paper references end up in the Paper.
    """

    document: Mapping[str, object]
    media: Mapping[str, bytes] = field(default_factory=_frozen_media)
    origin: str = "<memory>"

    @classmethod
    def from_path(cls, path: Path | str) -> PaperSource:
        path = Path(path)
        origin = str(path)
        if path.is_dir():
            return cls._from_directory(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _source_error(origin, _("无法读取文件（{error}）").format(
                error=exc.strerror or exc)) from exc
        return cls.from_zip_bytes(data, origin=origin)

    @classmethod
    def _from_directory(cls, directory: Path) -> PaperSource:
        origin = str(directory)
        paper_file = directory / PAPER_FILE
        if not paper_file.is_file():
            raise _source_error(origin, _("目录中没有 paper.json"))
        media: dict[str, bytes] = {}
        total = 0
        for entry in sorted(directory.iterdir()):
            if entry.is_file() and is_valid_media_name(entry.name):
                total += entry.stat().st_size
                if total > MAX_TOTAL_BYTES:
                    raise _source_error(origin, _("媒体文件总大小超过上限 {limit} MB").format(
                        limit=MAX_TOTAL_BYTES // (1024 * 1024)))
                media[entry.name] = entry.read_bytes()
        return cls(_parse_json(paper_file.read_bytes(), origin), media, origin)

    @classmethod
    def from_zip_bytes(cls, data: bytes, *, origin: str = "<zip>") -> PaperSource:
        try:
            members = read_zip(data)
        except ArchiveError as exc:
            raise _source_error(origin, _("不是可用的 zip 文件，或其中有不安全的文件名/超大文件"),
                                reason=exc.reason, member=exc.member) from exc
        prefix = _paper_folder(members, origin)
        media = {
            name[len(prefix):]: content
            for name, content in members.items()
            if name.startswith(prefix) and is_valid_media_name(name[len(prefix):])
        }
        return cls(_parse_json(members[prefix + PAPER_FILE], origin), media, origin)

    @classmethod
    def from_paper(cls, paper: Paper) -> PaperSource:
        return cls(paper.to_json_dict(), paper.media, f"<paper {paper.paper_id}>")

    def load(self) -> Paper:
        """The validated Paper; raise UserFacingError("paper.invalid") naming item and field."""
        return Paper.from_source(self.document, self.media)


def _paper_folder(members: Mapping[str, bytes], origin: str) -> str:
    """"" when paper.json is at the top of the zip, "folder/" when one folder wraps it."""
    if PAPER_FILE in members:
        return ""
    candidates = [name for name in members
                  if name.endswith("/" + PAPER_FILE) and name.count("/") == 1]
    if len(candidates) != 1:
        raise _source_error(origin, _("zip 中没有 paper.json（应在最外层或唯一的文件夹中）"))
    return candidates[0][: -len(PAPER_FILE)]
