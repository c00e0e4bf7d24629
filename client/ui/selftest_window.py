"""The window part of ``--self-test``: draw the real login page and check it is not blank.

client/selftest.py is Qt-free and takes this as a callable. On the frozen build in CI it
runs on Qt's offscreen platform: it proves the platform plugin, the style sheet, the
shipped CJK font and the widgets load from the bundle and paint something.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication, QMainWindow

from client.i18n import _
from client.ui.fonts import FAMILY, missing_characters, setup_fonts
from client.ui.login_page import LoginPage
from client.ui.program_icon import apply_program_icon, program_icon_file
from client.ui.render_guard import probe_window
from client.ui.style import STYLESHEET

WINDOW_SIZE = (1024, 700)
# Text the login page shows: the shipped font must have every glyph of it.
SAMPLE_TEXT = "考试客户端考生登录学号或身份证号密码默认为身份证号后6位"


class WindowCheckFailed(Exception):
    """The window opened but showed nothing, or the shipped font is not in use."""


def _application() -> QApplication:
    # Not client.ui.app.ensure_application: that module pulls in the exam session, which
    # this check must not depend on (it runs before anything else works).
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    return QApplication(["ExamClient-self-test"])


def _settle(app: QApplication) -> None:
    # A few rounds: show -> layout -> polish -> paint each post further events.
    for _round in range(5):
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def check_login_window() -> str:
    """Open the login page in a main window, paint it, grab it, close it; say what was seen."""
    app = _application()
    families = setup_fonts(app)
    if FAMILY not in families:
        raise WindowCheckFailed(f"shipped font {FAMILY!r} did not register ({families})")
    missing = missing_characters(SAMPLE_TEXT)
    if missing:
        raise WindowCheckFailed(f"shipped font lacks {''.join(missing)!r}")
    icon = apply_program_icon(app)
    icon_sizes = sorted(size.width() for size in icon.availableSizes())
    if not icon_sizes:
        raise WindowCheckFailed(f"program icon {program_icon_file()} did not load (file or "
                                "Qt's qico image-format plugin missing)")
    app.setStyleSheet(STYLESHEET)
    window = QMainWindow()
    window.setCentralWidget(LoginPage(server_url="https://self-test.invalid"))
    window.resize(*WINDOW_SIZE)
    try:
        window.show()
        _settle(app)
        probe = probe_window(window)
    finally:
        window.close()
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, 0)  # run the deferred delete now
        _settle(app)
    if probe.flat:
        raise WindowCheckFailed(
            f"the login window painted one flat colour {probe.color!r} ({probe.source})")
    return _("登录窗口 {width}×{height} 已在 {platform} 平台绘制（{colors} 种以上颜色，"
             "字体 {family}，程序图标 {sizes} 像素）").format(
                 width=probe.width, height=probe.height, platform=app.platformName(),
                 colors=probe.distinct_colors, family=FAMILY,
                 sizes="/".join(str(size) for size in icon_sizes))
