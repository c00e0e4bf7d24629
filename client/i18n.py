"""User-facing text in the candidate's language.

Simplified Chinese is the source language: code writes the zh_CN text and wraps it in
``_()``. Other languages are JSON catalogs (zh_CN text -> translation) under
resources/i18n/<language>/, one file per area so that areas can be edited independently.
The Qt UI reaches the same catalogs through a QTranslator (client/ui/translator.py), so
there is one set of translations for the core, the command line and the widgets.

Placeholders use str.format names: ``_("剩余 {minutes} 分钟").format(minutes=5)``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from client.resources import resource_path

log = logging.getLogger(__name__)

SOURCE_LANGUAGE = "zh_CN"
SUPPORTED_LANGUAGES = ("zh_CN", "en")

_lock = threading.Lock()
_language = SOURCE_LANGUAGE
_catalog: dict[str, str] = {}


def load_catalog(language: str, *, directory: Path | None = None) -> dict[str, str]:
    """Merge every resources/i18n/<language>/*.json into one mapping (source -> text)."""
    if language == SOURCE_LANGUAGE:
        return {}
    folder = directory if directory is not None else resource_path("i18n", language)
    merged: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            # A broken catalog must never stop an exam: fall back to the source text.
            log.error("translation catalog %s unreadable: %s", path, exc)
            continue
        merged.update({str(k): str(v) for k, v in entries.items()})
    return merged


def set_language(language: str) -> None:
    """Switch every later ``_()`` call to *language* (unknown languages fall back to zh_CN)."""
    global _language, _catalog
    if language not in SUPPORTED_LANGUAGES:
        log.warning("unsupported language %r, using %s", language, SOURCE_LANGUAGE)
        language = SOURCE_LANGUAGE
    catalog = load_catalog(language)
    with _lock:
        _language = language
        _catalog = catalog


def current_language() -> str:
    return _language


def _(source: str) -> str:
    """Translate a zh_CN source string into the current language."""
    return _catalog.get(source, source)


def N_(source: str) -> str:
    """Mark a string for translation where it is defined; translate it where it is shown."""
    return source


def translate(source: str, language: str) -> str:
    """Translate into a given language without changing the current one (reports, logs)."""
    if language == _language:
        return _(source)
    return load_catalog(language).get(source, source)


def join_items(items: Iterable[object]) -> str:
    """A list in running text: 1、2、3 in Chinese, "1, 2, 3" in English (a literal 、
    glued between translated words mixed Chinese punctuation into English)."""
    return _("、").join(str(item) for item in items)


def spaced(*parts: str) -> str:
    """Parts of one line set apart: a full-width space in Chinese, two spaces in English."""
    return _("　").join(part for part in parts if part)
