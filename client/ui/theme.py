"""The application-wide theme (standard or high contrast), kept on the QApplication."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from client.ui.style import stylesheet

_PROPERTY = "examHighContrast"


def is_high_contrast() -> bool:
    app = QApplication.instance()
    return app is not None and app.property(_PROPERTY) == "true"


def apply_theme(*, high_contrast: bool) -> None:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    # WORKAROUND: a string property, not a bool (PySide6 6.12 bool QVariant refcounts).
    app.setProperty(_PROPERTY, "true" if high_contrast else "false")
    app.setStyleSheet(stylesheet(high_contrast=high_contrast))
