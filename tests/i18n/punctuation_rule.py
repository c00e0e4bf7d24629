"""The punctuation rule for Chinese text: full-width punctuation, no half-width commas,
colons, semicolons, stops or parentheses mixed into a Chinese sentence.

``考试（演示）：已答 3 题，请检查。`` passes; ``考试 (演示): 已答 3 题,请检查.`` fails at each
half-width mark. Not Chinese text, so not checked: placeholders (``{m:02d}``), URLs, times
(``09:00``), numbers (``1.5``), file types (``.wav``), and marks between Latin letters or
digits (``Ctrl+M, PgUp``).
"""

from __future__ import annotations

import re

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_FIELD = re.compile(r"\{[^{}]*\}")  # str.format fields, format specs included
_URL = re.compile(r"(?:https?|wss?|file)://\S+")
_HALF_WIDTH = re.compile(r"[,;:!?.()]")
# A half-width mark right after (one space allowed) one of these is inside Chinese text.
_CHINESE_BEFORE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff，。：；！？、）」』]")


def _before(text: str, index: int) -> str:
    """The character before *index*, skipping one space."""
    if index > 0 and text[index - 1] == " ":
        index -= 1
    return text[index - 1] if index > 0 else ""


def mixed_punctuation(text: str) -> list[str]:
    """Each half-width mark used as Chinese punctuation in *text*, shown in context."""
    plain = _URL.sub("U", _FIELD.sub("X", text))
    if not CJK.search(plain):
        return []
    found = []
    for match in _HALF_WIDTH.finditer(plain):
        index, mark = match.start(), match.group()
        after_chinese = bool(_CHINESE_BEFORE.match(_before(plain, index)))
        if mark == "(":
            close = plain.find(")", index)
            inner = plain[index + 1: close] if close > 0 else plain[index + 1:]
            wrong = after_chinese or bool(CJK.search(inner))
        elif mark == ")":
            opening = plain.rfind("(", 0, index)
            wrong = bool(CJK.search(plain[opening + 1: index])) if opening >= 0 else False
        elif mark == ".":  # not a stop before a letter or digit: .wav, 1.5, example.org
            following = plain[index + 1: index + 2]
            wrong = after_chinese and not (following.isascii() and following.isalnum())
        else:
            wrong = after_chinese
        if wrong:
            found.append(plain[max(0, index - 8): index + 8])
    return found
