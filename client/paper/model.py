"""The exam paper as the client and the server use it: immutable, validated, sanitized.

A ``Paper`` is built only by ``Paper.from_source`` (client/paper/parse.py validates the
paper.json document and sanitizes its HTML) or by ``dataclasses.replace`` on one, so code
that holds a Paper can trust its ids, keys, media and markup.

Answer values (what a candidate gives) are checked by ``validate_answer`` and brought to
their stored form by ``normalise_answer`` (client/paper/answers.py, re-exported here).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from client.paper.answers import normalise_answer, validate_answer
from client.paper.localized import LocalizedText
from client.paper.richtext import media_references
from client.paper.values import JsonValue, QuestionType

__all__ = [
    "AudioRef",
    "Item",
    "JsonValue",
    "LocalizedText",
    "Option",
    "Paper",
    "QuestionType",
    "Section",
    "normalise_answer",
    "validate_answer",
]

PAPER_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Option:
    id: str
    text: LocalizedText


@dataclass(frozen=True)
class AudioRef:
    """A listening clip: ``media`` names a file of the paper; the UI allows ``max_plays`` plays."""

    media: str
    max_plays: int


@dataclass(frozen=True)
class Item:
    """One question. ``key`` is None for essays and in a package built without keys."""

    id: str
    type: QuestionType
    stem: LocalizedText
    score: float
    options: tuple[Option, ...] = ()
    blanks: int = 0
    max_length: int | None = None
    key: JsonValue = None
    audio: AudioRef | None = None

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(option.id for option in self.options)

    @property
    def is_objective(self) -> bool:
        return self.type.is_objective

    def media_names(self) -> set[str]:
        """Every media file this item shows or plays (for preloading)."""
        names: set[str] = set()
        for text in (self.stem, *(option.text for option in self.options)):
            for _language, html in text.pairs:
                names |= media_references(html)
        if self.audio is not None:
            names.add(self.audio.media)
        return names


@dataclass(frozen=True)
class Section:
    id: str
    title: LocalizedText
    items: tuple[Item, ...]

    @property
    def score(self) -> float:
        return math.fsum(item.score for item in self.items)


def _frozen_media() -> Mapping[str, bytes]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Paper:
    exam_id: str
    paper_id: str
    title: LocalizedText
    duration_minutes: int
    sections: tuple[Section, ...]
    media: Mapping[str, bytes] = field(default_factory=_frozen_media)
    # The exam-time lockdown profile (client/lockdown/policy.py): "strict", or "assistive"
    # for a sitting where screen readers, on-screen keyboards and the approved IME stay on.
    # The server copies it into the signed package header, where the client reads it.
    lockdown: str = "strict"

    def __post_init__(self) -> None:
        # A caller's dict must not be able to change a built paper behind its back.
        object.__setattr__(self, "media", MappingProxyType(dict(self.media)))

    @classmethod
    def from_source(cls, document: Mapping[str, object], media: Mapping[str, bytes]) -> Paper:
        """Validate a paper.json document; raise UserFacingError("paper.invalid", ...).

        Only the media files the paper references are kept; a referenced file that is
        missing, or whose content does not match its extension, is an error.
        """
        from client.paper.parse import parse_paper  # parse builds these dataclasses

        return parse_paper(document, media)

    def items(self) -> Iterator[Item]:
        for section in self.sections:
            yield from section.items

    def item(self, item_id: str) -> Item:
        for candidate in self.items():
            if candidate.id == item_id:
                return candidate
        raise KeyError(item_id)

    @property
    def item_count(self) -> int:
        return sum(len(section.items) for section in self.sections)

    @property
    def max_score(self) -> float:
        return math.fsum(section.score for section in self.sections)

    @property
    def has_keys(self) -> bool:
        """True when every objective item carries its key (the server's copy)."""
        return all(item.key is not None for item in self.items() if item.is_objective)

    def without_keys(self) -> Paper:
        """The copy that goes to candidates' PCs: the same paper with every key removed."""
        sections = tuple(
            dataclasses.replace(section, items=tuple(
                dataclasses.replace(item, key=None) for item in section.items))
            for section in self.sections
        )
        return dataclasses.replace(self, sections=sections)

    def to_json_dict(self) -> dict[str, JsonValue]:
        """The paper.json document (``Paper.from_source(paper.to_json_dict(), media)`` == paper)."""
        return {
            "format_version": PAPER_FORMAT_VERSION,
            "exam_id": self.exam_id,
            "paper_id": self.paper_id,
            "title": _text_json(self.title),
            "duration_minutes": self.duration_minutes,
            "lockdown": self.lockdown,
            "sections": [
                {
                    "id": section.id,
                    "title": _text_json(section.title),
                    "items": [_item_json(item) for item in section.items],
                }
                for section in self.sections
            ],
        }


def _text_json(text: LocalizedText) -> dict[str, JsonValue]:
    return dict(text.to_json())


def _item_json(item: Item) -> dict[str, JsonValue]:
    document: dict[str, JsonValue] = {
        "id": item.id,
        "type": item.type.value,
        "stem": _text_json(item.stem),
        "score": item.score,
    }
    if item.type.has_options:
        document["options"] = [{"id": o.id, "text": _text_json(o.text)} for o in item.options]
    if item.type is QuestionType.FILL_BLANK:
        document["blanks"] = item.blanks
    if item.max_length is not None:
        document["max_length"] = item.max_length
    if item.key is not None:
        document["key"] = item.key
    if item.audio is not None:
        document["audio"] = {"media": item.audio.media, "max_plays": item.audio.max_plays}
    return document
