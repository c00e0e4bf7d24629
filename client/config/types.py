"""Value types of settings: each parses the INI text and says what it allows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import urlparse

T = TypeVar("T")


class InvalidValue(ValueError):
    """The text in the INI file is not allowed for this setting."""


@dataclass(frozen=True)
class ValueType(Generic[T]):
    """Base: subclasses implement parse() and describe what is allowed."""

    def parse(self, text: str) -> T:
        raise InvalidValue(text)  # pragma: no cover - every subclass overrides

    def allowed(self) -> str:
        return ""

    def format(self, value: T) -> str:
        return "" if value is None else str(value)


@dataclass(frozen=True)
class Text(ValueType[str]):
    def parse(self, text: str) -> str:
        return text.strip()

    def allowed(self) -> str:
        return "any text"


@dataclass(frozen=True)
class Url(ValueType[str]):
    def parse(self, text: str) -> str:
        value = text.strip().rstrip("/")
        parts = urlparse(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidValue(text)
        return value

    def allowed(self) -> str:
        return "an http:// or https:// URL, e.g. https://exam.example.edu.cn"


@dataclass(frozen=True)
class OptionalPath(ValueType["Path | None"]):
    def parse(self, text: str) -> Path | None:
        value = text.strip()
        if not value:
            return None
        if "\x00" in value:
            raise InvalidValue(text)
        return Path(value).expanduser()

    def allowed(self) -> str:
        return "a file or folder path, or empty for the default"


@dataclass(frozen=True)
class Choice(ValueType[str]):
    choices: tuple[str, ...]

    def parse(self, text: str) -> str:
        value = text.strip()
        for choice in self.choices:
            if value.casefold() == choice.casefold():
                return choice
        raise InvalidValue(text)

    def allowed(self) -> str:
        return "one of: " + ", ".join(self.choices)


N = TypeVar("N", int, float)


def _in_range(convert: Callable[[str], N], text: str, minimum: N, maximum: N) -> N:
    try:
        value = convert(text.strip())
    except ValueError as exc:
        raise InvalidValue(text) from exc
    if not minimum <= value <= maximum:
        raise InvalidValue(text)
    return value


@dataclass(frozen=True)
class Integer(ValueType[int]):
    minimum: int
    maximum: int

    def parse(self, text: str) -> int:
        return _in_range(int, text, self.minimum, self.maximum)

    def allowed(self) -> str:
        return f"a whole number from {self.minimum} to {self.maximum}"


@dataclass(frozen=True)
class Decimal(ValueType[float]):
    minimum: float
    maximum: float

    def parse(self, text: str) -> float:
        return _in_range(float, text, self.minimum, self.maximum)

    def allowed(self) -> str:
        return f"a number from {self.minimum:g} to {self.maximum:g}"


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Boolean(ValueType[bool]):
    def parse(self, text: str) -> bool:
        value = text.strip().casefold()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise InvalidValue(text)

    def allowed(self) -> str:
        return "true or false"

    def format(self, value: bool) -> str:
        return "true" if value else "false"
