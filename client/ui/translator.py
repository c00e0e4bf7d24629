"""Qt's translation hooks: our catalogs for our widgets, Qt's own for Qt's dialogs.

Widgets call ``self.tr("中文")``; Qt asks every installed QTranslator, and CatalogTranslator
answers from resources/i18n/<language>/*.json. One set of catalogs serves core, CLI and
widgets. Qt's own dialogs (QMessageBox's Yes/No, the folder picker) are translated by the
qtbase catalog shipped with PySide6, loaded for the UI's language by ``qt_translator``.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

from client import i18n

log = logging.getLogger(__name__)


class CatalogTranslator(QTranslator):
    def __init__(self, language: str) -> None:
        super().__init__()
        self._catalog = i18n.load_catalog(language)

    def isEmpty(self) -> bool:
        return not self._catalog

    def translate(self, context: str, source: str, disambiguation: str | None = None,
                  n: int = -1) -> str:
        # WORKAROUND: PySide6 turns "" into an empty but non-null QString, which Qt takes
        # as a real (empty) translation; answer with the source text instead.
        return self._catalog.get(source, source)


def qt_translator(language: str) -> QTranslator | None:
    """Qt's own strings (qtbase_<language>.qm) for *language*; None for English, which
    is Qt's source language, or when the file is missing from the build."""
    if language.startswith("en"):
        return None
    translator = QTranslator()
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(QLocale(language), "qtbase", "_", folder):
        return translator
    log.error("Qt's own translations for %s not found in %s", language, folder)
    return None
