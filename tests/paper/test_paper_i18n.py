"""Every user-facing text of client/paper has an English translation that formats."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator

import pytest
from paper_samples import sample_document, sample_media

from client import i18n
from client.errors import UserFacingError
from client.paper.model import Paper
from client.resources import resource_path, resources_dir

SOURCE_DIR = resources_dir().parent / "client" / "paper"
CATALOG = json.loads(resource_path("i18n", "en", "paper.json").read_text(encoding="utf-8"))


def _literals() -> Iterator[tuple[str, str]]:
    for path in sorted(SOURCE_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "_"):
                argument = node.args[0]
                assert isinstance(argument, ast.Constant), f"{path.name}: _() needs a literal"
                assert isinstance(argument.value, str)
                yield path.name, argument.value


def _fields(text: str) -> set[str]:
    return set(re.findall(r"(?<!\{)\{([a-z_]+)\}", text))


def test_every_literal_has_an_english_entry_with_the_same_placeholders() -> None:
    literals = list(_literals())
    assert len(literals) > 40
    for module, text in literals:
        assert text in CATALOG, f"{module}: no English for {text!r}"
        assert _fields(CATALOG[text]) == _fields(text), text


def test_no_stale_entries() -> None:
    used = {text for _module, text in _literals()}
    assert set(CATALOG) <= used


@pytest.fixture
def english() -> Iterator[None]:
    i18n.set_language("en")
    try:
        yield
    finally:
        i18n.set_language("zh_CN")


@pytest.mark.usefixtures("english")
def test_error_in_english() -> None:
    document = sample_document()
    document["sections"][0]["items"][0]["key"] = "Z"
    with pytest.raises(UserFacingError) as caught:
        Paper.from_source(document, sample_media())
    assert caught.value.message == (
        "The paper has an error (field key of question q1): expected the id of an existing option")
