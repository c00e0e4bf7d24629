"""Text in several languages: zh_CN is always present and is the fallback."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

SOURCE_LANGUAGE = "zh_CN"
PAPER_LANGUAGES = ("zh_CN", "en")


@dataclass(frozen=True)
class LocalizedText:
    """``{"zh_CN": html, "en": html}``; ``get(language)`` falls back to zh_CN.

    Stored as sorted (language, text) pairs so that the object is immutable and hashable.
    Construct it with ``LocalizedText.of({...})``; the parser checks the languages.
    """

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, texts: Mapping[str, str]) -> LocalizedText:
        if SOURCE_LANGUAGE not in texts:
            raise ValueError("LocalizedText needs a zh_CN text")
        return cls(tuple(sorted(texts.items())))

    def get(self, language: str) -> str:
        """The text in *language*, or the zh_CN text when that language is missing or empty."""
        for lang, text in self.pairs:
            if lang == language and text:
                return text
        return self[SOURCE_LANGUAGE]

    @property
    def source(self) -> str:
        return self[SOURCE_LANGUAGE]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(lang for lang, _text in self.pairs)

    def __getitem__(self, language: str) -> str:
        for lang, text in self.pairs:
            if lang == language:
                return text
        raise KeyError(language)

    def __contains__(self, language: object) -> bool:
        return any(lang == language for lang, _text in self.pairs)

    def __iter__(self) -> Iterator[str]:
        return iter(self.languages)

    def __len__(self) -> int:
        return len(self.pairs)

    def to_json(self) -> dict[str, str]:
        return dict(self.pairs)
