"""Every Chinese text a person can see uses Chinese punctuation (tests/i18n/punctuation_rule.py),
not only the candidate's pages: the client's and the server's string literals (pages, admin
and console HTML, CLI output, error messages, f-string templates), the i18n catalogue's
Chinese sources and the Chinese in resources (console script, demo paper, integrity rules).
A new string with a half-width comma, colon or parenthesis in Chinese fails here.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from punctuation_rule import CJK, mixed_punctuation

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("client", "server", "scripts", "tools")
RESOURCE_SUFFIXES = (".json", ".js", ".html", ".ini", ".txt", ".csv")

# Texts that are not Chinese prose although they hold Chinese: formats a person must type
# exactly as shown, and file syntax. Each entry: (path, a part of the text), with why.
ALLOWED: tuple[tuple[str, str], ...] = (
    # The seating CSV's header row is typed by the admin with ASCII commas (it is CSV).
    ("server/console/cli.py", "考生,考场,座位号"),
    ("server/console/seating.py", "考生,考场,座位号"),
    ("resources/i18n/en/console.json", "考生,考场,座位号"),
    # Regular expressions that read the client's Chinese pages (the frozen build's driver).
    ("tools/frozen_exam_driver.py", "用户名 (\\S+)"),
    ("tools/frozen_exam_driver.py", "第 (\\d+) 题"),
)


def _allowed(path: str, text: str) -> bool:
    return any(path == where and part in text for where, part in ALLOWED)


def _docstring_ids(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _template(node: ast.JoinedStr) -> str:
    """An f-string with each {value} as a field, so its literal parts are checked together."""
    return "".join(part.value if isinstance(part, ast.Constant) else "{value}"
                   for part in node.values)


@functools.cache
def source_texts() -> list[tuple[str, int, str]]:
    return list(_source_texts())


def _source_texts() -> Iterator[tuple[str, int, str]]:
    """(path, line, text) of every string literal and f-string template in the sources;
    docstrings are for programmers."""
    for folder in SOURCE_DIRS:
        for path in sorted(ROOT.joinpath(folder).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            if not CJK.search(source):
                continue  # nothing Chinese to check (most modules: quick)
            tree = ast.parse(source)
            docstrings = _docstring_ids(tree)
            inside_fstrings = {id(part) for node in ast.walk(tree)
                               if isinstance(node, ast.JoinedStr) for part in node.values}
            where = str(path.relative_to(ROOT))
            for node in ast.walk(tree):
                if isinstance(node, ast.JoinedStr):
                    yield where, node.lineno, _template(node)
                elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
                      and id(node) not in docstrings and id(node) not in inside_fstrings):
                    yield where, node.lineno, node.value


def _json_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


@functools.cache
def resource_texts() -> list[tuple[str, int, str]]:
    return list(_resource_texts())


def _resource_texts() -> Iterator[tuple[str, int, str]]:
    """The i18n catalogue's Chinese sources (its keys) and the Chinese in other resources."""
    for path in sorted(ROOT.joinpath("resources").rglob("*")):
        if not path.is_file() or path.suffix not in RESOURCE_SUFFIXES:
            continue
        where = str(path.relative_to(ROOT))
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".json":
            data = json.loads(text)
            if "/i18n/" in where:  # the English values are checked by the English tests
                strings: Iterator[str] = iter(data.keys())
            else:
                strings = _json_strings(data)
            for value in strings:
                yield where, 0, value
        else:
            for number, line in enumerate(text.splitlines(), start=1):
                yield where, number, line


def test_the_rule_itself() -> None:
    assert mixed_punctuation("考试（演示）：已答 3 题，请检查。") == []
    assert len(mixed_punctuation("考试 (演示): 已答 3 题,请检查.")) >= 4
    for fine in ("快捷键：Ctrl+M, PgUp", "{m:02d} 分", "09:00 开始", "版本 1.5",
                 "见 https://example.org/a?b=1 的说明", "Windows 10 (64-bit) 电脑"):
        assert mixed_punctuation(fine) == [], fine


@pytest.mark.parametrize("texts", [source_texts, resource_texts],
                         ids=["string literals", "catalogue and resources"])
def test_chinese_text_uses_chinese_punctuation(texts) -> None:
    found = [f"  {where}:{line}: {mixed_punctuation(text)} in {text[:60]!r}"
             for where, line, text in texts()
             if mixed_punctuation(text) and not _allowed(where, text)]
    assert not found, "half-width punctuation in Chinese text:\n" + "\n".join(found)


def test_every_allow_list_entry_is_still_needed() -> None:
    texts = [*source_texts(), *resource_texts()]
    for where, part in ALLOWED:
        assert any(w == where and part in text and mixed_punctuation(text)
                   for w, _line, text in texts), (where, part)


def test_english_translations_have_no_chinese_punctuation() -> None:
    """The other direction: "Saved（3）：done" in the English UI."""
    chinese = re.compile(r"[，。：；！？（）、【】「」\u3400-\u4dbf\u4e00-\u9fff]")
    found = [f"  {path.name}: {source!r} -> {english!r}"
             for path in sorted(ROOT.joinpath("resources", "i18n", "en").glob("*.json"))
             for source, english in json.loads(path.read_text(encoding="utf-8")).items()
             if chinese.search(english)]
    assert not found, "Chinese punctuation in English:\n" + "\n".join(found)
