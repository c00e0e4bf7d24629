"""Exam-day rules carried in the signed package header: the client version floor and the
exam pledge (考试承诺书).

Both come from the server's signed header (never from the candidate or the PC), so a
client that opens the package offline still knows the lowest version the exam accepts
and the pledge text it must show. Each rule has its own ``extra`` key; other parts of the
header (proctor verifiers, integrity rules, camera policy, lockdown) are not touched here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from client.errors import UserFacingError
from client.i18n import _

VERSION_FLOOR_KEY = "client_version_floor"
PLEDGE_KEY = "pledge"

MAX_PLEDGE_CHARS = 20_000
_VERSION_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+){0,3})(?:-(\d+))?\s*$")


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.2.2-0"`` -> ``(1, 2, 2, 0, 0)``: numeric parts, then the build after ``-``.

    The exam platform writes versions like "1.2.2-0"; our own is "0.1.0". Missing parts
    count as 0, so "1.2" == "1.2.0" == "1.2.0-0". Raises ValueError for anything else.
    """
    match = _VERSION_PATTERN.match(text)
    if match is None:
        raise ValueError(f"not a version: {text!r}")
    numbers = [int(p) for p in match.group(1).split(".")]
    numbers += [0] * (4 - len(numbers))
    return (*numbers, int(match.group(2) or 0))


def version_at_least(have: str, need: str) -> bool:
    """Whether version *have* is *need* or newer; an unreadable *have* is not."""
    try:
        return parse_version(have) >= parse_version(need)
    except ValueError:
        return False


@dataclass(frozen=True)
class VersionFloor:
    """The lowest client version an exam accepts, and where the admin gets a newer one."""

    min_version: str
    download_hint: str = ""   # a URL or a place ("考试平台「客户端下载」页"); "" = default

    def __post_init__(self) -> None:
        parse_version(self.min_version)  # refuse a floor nobody can compare against

    def accepts(self, version: str) -> bool:
        return version_at_least(version, self.min_version)

    def where(self) -> str:
        return self.download_hint or _("考试平台的客户端下载页面")

    def to_extra(self) -> dict[str, object]:
        return {VERSION_FLOOR_KEY: {"min_version": self.min_version,
                                    "download_hint": self.download_hint}}


@dataclass(frozen=True)
class Pledge:
    """The exam pledge text (Chinese, English where the exam gives it) and whether the
    candidate must accept it before the waiting room."""

    text_zh: str
    text_en: str = ""
    required: bool = True

    def text_for(self, language: str) -> str:
        return self.text_en if language.startswith("en") and self.text_en else self.text_zh

    def to_extra(self) -> dict[str, object]:
        return {PLEDGE_KEY: {"text_zh": self.text_zh, "text_en": self.text_en,
                             "required": self.required}}


def _invalid(field: str) -> UserFacingError:
    return UserFacingError("package.bad_rules", _("试卷包中的考试规则格式不正确：{field}").format(
        field=field), field=field)


def version_floor_from_extra(extra: Mapping[str, object]) -> VersionFloor | None:
    """The floor in a verified header's ``extra``; None when the exam names none."""
    raw = extra.get(VERSION_FLOOR_KEY)
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("min_version"), str):
        raise _invalid(VERSION_FLOOR_KEY)
    try:
        return VersionFloor(min_version=str(raw["min_version"]),
                            download_hint=str(raw.get("download_hint") or ""))
    except ValueError as exc:
        raise _invalid(VERSION_FLOOR_KEY) from exc


def pledge_from_extra(extra: Mapping[str, object]) -> Pledge | None:
    """The pledge in a verified header's ``extra``; None when the exam has none."""
    raw = extra.get(PLEDGE_KEY)
    if raw is None:
        return None
    if (not isinstance(raw, Mapping) or not isinstance(raw.get("text_zh"), str)
            or not str(raw["text_zh"]).strip()
            or len(str(raw["text_zh"])) > MAX_PLEDGE_CHARS
            or not isinstance(raw.get("required", True), bool)):
        raise _invalid(PLEDGE_KEY)
    return Pledge(text_zh=str(raw["text_zh"]), text_en=str(raw.get("text_en") or ""),
                  required=bool(raw.get("required", True)))
