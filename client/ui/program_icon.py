"""The program icon (考 on blue, resources/icons/exam-client.ico, drawn by tools/make_icon.py)
on every window: title bar, taskbar button and Alt+Tab show it instead of a blank window
icon. ExamClient.exe carries the same file as its resource icon (build.spec), the
installer and the shortcuts use it too (installer/exam-client.nsi)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from client.resources import resource_path


def program_icon_file() -> Path:
    return resource_path("icons", "exam-client.ico")


def program_icon() -> QIcon:
    """The icon at every size the .ico holds (Qt's qico image-format plugin reads it); a
    null QIcon when the file or the plugin is missing."""
    return QIcon(str(program_icon_file()))


def apply_program_icon(app: QApplication) -> QIcon:
    """Make the program icon the default of every window *app* shows; return it."""
    icon = program_icon()
    app.setWindowIcon(icon)
    return icon
