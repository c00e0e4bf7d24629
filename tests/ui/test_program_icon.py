"""Every window shows the program icon (考 on blue) instead of Qt's blank one: the title
bar, the taskbar button and Alt+Tab of the exam window and of ``check --gui``."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMainWindow

from client.ui.app import ensure_application
from client.ui.program_icon import program_icon, program_icon_file

pytestmark = pytest.mark.qt

# The sizes tools/make_icon.py draws: what Windows picks from for shortcuts, the taskbar,
# Explorer and Settings -> Apps.
DRAWN_SIZES = [16, 24, 32, 48, 64, 128, 256]


def test_the_shipped_icon_loads_at_every_drawn_size(qapp: QApplication) -> None:
    assert program_icon_file().is_file()
    assert sorted(size.width() for size in program_icon().availableSizes()) == DRAWN_SIZES


def test_the_application_gives_every_window_the_program_icon(qapp: QApplication) -> None:
    qapp.setWindowIcon(QIcon())  # as a bare QApplication starts: no icon
    assert qapp.windowIcon().isNull()
    app = ensure_application()
    assert app is qapp
    assert sorted(s.width() for s in app.windowIcon().availableSizes()) == DRAWN_SIZES
    window = QMainWindow()
    try:
        # A window without its own icon shows the application's (Qt's fallback).
        assert window.windowIcon().cacheKey() == app.windowIcon().cacheKey()
        image = window.windowIcon().pixmap(32, 32).toImage()
        top = image.pixelColor(16, 4)  # the blue rounded square, above the 考
        assert (top.red(), top.green(), top.blue()) == (21, 101, 192)
    finally:
        window.deleteLater()
