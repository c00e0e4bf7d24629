"""Create the QApplication and the exam window for a session (the GUI half of start-up)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtWidgets import QApplication

from client import i18n
from client.session.exam_session import ExamSession
from client.ui.main_window import ExamWindow
from client.ui.style import STYLESHEET
from client.ui.translator import CatalogTranslator

log = logging.getLogger(__name__)


@dataclass
class GuiOptions:
    server_url: str
    language: str = "zh_CN"
    font_scale: float = 1.0
    demo_hint: str | None = None
    warnings: list[str] = field(default_factory=list)


def ensure_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("ExamClient")
    app.setOrganizationName("ExamClient")
    return app


def install_language(app: QApplication, language: str) -> CatalogTranslator:
    i18n.set_language(language)
    translator = CatalogTranslator(language)
    app.installTranslator(translator)
    return translator


def build_window(session: ExamSession, options: GuiOptions) -> ExamWindow:
    app = ensure_application()
    app.setStyleSheet(STYLESHEET)
    # Keep the translator alive as long as the application (Qt does not own it).
    app._catalog_translator = install_language(app, options.language)  # type: ignore[attr-defined]
    return ExamWindow(session=session, server_url=options.server_url,
                      language=options.language, demo_hint=options.demo_hint,
                      warnings=options.warnings, font_scale=options.font_scale)


def run_gui(session: ExamSession, options: GuiOptions, *,
            before_loop: Callable[[ExamWindow], None] | None = None) -> int:
    app = ensure_application()
    window = build_window(session, options)
    window.show()
    if before_loop is not None:
        before_loop(window)
    return app.exec()
