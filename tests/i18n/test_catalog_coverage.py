"""Every user-visible zh_CN string in the code has an English translation, and back."""

from __future__ import annotations

import ast
from pathlib import Path

from client import i18n

ROOT = Path(__file__).resolve().parents[2]
MARKERS = {"_", "N_", "tr", "translate"}


def marked_strings() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted([*ROOT.joinpath("client").rglob("*.py"),
                        *ROOT.joinpath("server").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            first = node.args[0] if name != "translate" else (
                node.args[1] if len(node.args) > 1 else None)
            if name in MARKERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_marked_string_has_an_english_translation() -> None:
    catalog = i18n.load_catalog("en")
    missing = {text: where for text, where in marked_strings().items()
               if text not in catalog and any("\u4e00" <= ch <= "\u9fff" for ch in text)}
    assert not missing, "add to resources/i18n/en/<area>.json:\n" + "\n".join(
        f"  {where}: {text!r}" for text, where in sorted(missing.items(), key=lambda x: x[1]))


def test_translations_keep_placeholders() -> None:
    import string

    catalog = i18n.load_catalog("en")
    for source, target in catalog.items():
        names = {f for _, f, _, _ in string.Formatter().parse(source) if f}
        assert names == {f for _, f, _, _ in string.Formatter().parse(target) if f}, source


def test_language_switch_round_trip() -> None:
    i18n.set_language("en")
    try:
        assert i18n._("考试客户端") == "Exam Client"
    finally:
        i18n.set_language("zh_CN")
    assert i18n._("考试客户端") == "考试客户端"
