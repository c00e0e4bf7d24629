"""Qt's translation hook, backed by the same catalogs as client.i18n.

Widgets call ``self.tr("中文")``; Qt asks every installed QTranslator, and this one answers
from resources/i18n/<language>/*.json. One set of catalogs serves core, CLI and widgets.
"""

from __future__ import annotations

from PySide6.QtCore import QTranslator

from client import i18n


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
