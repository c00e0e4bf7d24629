"""The GUI half of start-up: QApplication, fonts, render guard, single instance, window.

client/launch.py has already chosen the rendering level and set Qt's environment; this
module applies the Qt attributes (they must precede QApplication), and watches the first
start-up frames so that a white screen or a graphics failure falls back by itself.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtWidgets import QApplication

from client import i18n
from client.launch import LaunchContext
from client.session.exam_session import ExamSession
from client.startup import early
from client.startup.single_instance import instance_key
from client.ui import crash_dialog, fonts, render_guard, single_instance, theme
from client.ui.checks import CameraChecks, IntegrityChecks
from client.ui.lockdown_guard import attach_lockdown, present_full_screen
from client.ui.main_window import ExamWindow
from client.ui.program_icon import apply_program_icon
from client.ui.translator import CatalogTranslator, qt_translator

log = logging.getLogger(__name__)


@dataclass
class GuiOptions:
    server_url: str
    language: str = "zh_CN"
    font_scale: float = 1.0
    high_contrast: bool = False
    demo_hint: str | None = None
    warnings: list[str] = field(default_factory=list)
    integrity: IntegrityChecks | None = None
    camera: CameraChecks | None = None
    # ReviewServices for a logged-in session (identity results, camera events, integrity
    # findings upload; base photo); None in tests that do not exercise them.
    review_factory: Callable[[ExamSession], Any] | None = None
    readiness_first: bool = False  # first start on this PC: the readiness check first
    resume: bool = False  # --resume: back into the exam running before a crash


def ensure_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName("ExamClient")
        app.setOrganizationName("ExamClient")
    apply_program_icon(app)
    return app


def install_language(language: str) -> None:
    """Switch core texts (client.i18n) and widget texts (Qt's translator) together."""
    app = ensure_application()
    i18n.set_language(language)
    for attribute in ("_catalog_translator", "_qt_translator"):
        previous = getattr(app, attribute, None)
        if previous is not None:
            app.removeTranslator(previous)
    translator = CatalogTranslator(language)
    app.installTranslator(translator)
    qt_own = qt_translator(language)  # Yes/No, OK, the folder picker in the UI's language
    if qt_own is not None:
        app.installTranslator(qt_own)
    # Qt does not own the translators: keep them alive as long as the application.
    app._catalog_translator = translator  # type: ignore[attr-defined]
    app._qt_translator = qt_own  # type: ignore[attr-defined]


def build_window(session: ExamSession, options: GuiOptions) -> ExamWindow:
    """The exam window on an existing (or new) QApplication; used by tests and run_gui."""
    app = ensure_application()
    theme.apply_theme(high_contrast=options.high_contrast)
    fonts.setup_fonts(app)
    install_language(options.language)
    window = ExamWindow(session=session, server_url=options.server_url,
                        language=options.language, demo_hint=options.demo_hint,
                        warnings=options.warnings, font_scale=options.font_scale,
                        integrity=options.integrity, camera=options.camera,
                        review_factory=options.review_factory)
    window.lockdown = attach_lockdown(window)
    return window


def run_gui(session: ExamSession, options: GuiOptions, launch: LaunchContext, *,
            before_loop: Callable[[ExamWindow], None] | None = None) -> int:
    render_guard.apply_qt_attributes(launch.decision.level)
    app = ensure_application()
    instance = single_instance.SingleInstance(instance_key(launch.data_dir))
    if not instance.claim():
        log.info("another client is running; it was asked to come to the front")
        return 0

    def restart() -> None:
        crash_dialog.restart_client(release=instance.release)

    presenter = crash_dialog.ErrorPresenter(on_continue=lambda _report: restart())
    early.set_show_error(None if launch.errors_to_stderr else presenter.show_error)
    guard = render_guard.RenderGuard(state_dir=launch.render_state_dir, decision=launch.decision,
                                     on_failure=render_guard.restart_on_level_change(restart))
    guard.install_message_handler()
    window = build_window(session, options)
    window.settings = launch.settings
    window.pending_crash_reports = early.pending_crash_reports(launch.crash_dir)
    instance.activation_requested.connect(lambda: single_instance.bring_to_front(window))
    if options.resume:
        window.resume_exam()
    elif options.readiness_first:
        window.show_readiness_first(launch.settings)
    guard.arm()  # the start sentinel: cleared once a frame is painted and the app stays up
    present_full_screen(window)
    guard.watch(window)
    if before_loop is not None:
        before_loop(window)
    return app.exec()
