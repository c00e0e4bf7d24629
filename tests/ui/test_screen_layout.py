"""Every page fits every lab screen: rendered at 1024x768, 1366x768 and 1920x1080, and at
the logical sizes Windows' 125 % and 150 % scaling leaves of 1366x768 and 1920x1080, every
control is inside the window and not cut off by its parents (no scrolling of the frame),
and the proctor entry (监考) is reachable. The pages: the readiness check, login, pledge,
waiting room, exam and result; and the proctor panel over them, locked and unlocked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QWidget,
)
from screen_support import EVERY_PAGE, offline_window, proctor_panel, show_page

from client.ui.app import install_language

pytestmark = pytest.mark.qt

SIZES = [(1024, 768), (1366, 768), (1920, 1080)]
# What Qt lays out in on a scaled screen (logical pixels): 1366x768 at 125 %, 1920x1080 at
# 150 %. Qt multiplies by the scale factor only when painting.
SCALED = [(1093, 614), (1280, 720)]
SCALED_IDS = ["1366x768@125%", "1920x1080@150%"]
LEAF_CONTROLS = (QAbstractButton, QLineEdit, QComboBox)
CONTROLS = (*LEAF_CONTROLS, QAbstractScrollArea)


def inside_scrolled_content(widget: QWidget, top: QWidget) -> bool:
    """Question text and answers may scroll inside their own card; the frame may not."""
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QAbstractScrollArea) and widget is not parent:
            return True
        parent = parent.parentWidget()
    return False


def cut_off_controls(top: QWidget) -> list[str]:
    window_rect = top.rect()
    problems = []
    for widget in top.findChildren(QWidget):
        if not isinstance(widget, (*CONTROLS, QLabel)) or not widget.isVisibleTo(top):
            continue
        if inside_scrolled_content(widget, top) or widget.width() == 0:
            continue
        rect = QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())
        label = widget.objectName() or getattr(widget, "text", lambda: "")()
        name = f"{type(widget).__name__}({label!r})"
        if not window_rect.contains(rect):
            problems.append(f"{name} at {rect.getRect()} outside {window_rect.getRect()}")
            continue
        if isinstance(widget, QLabel) and not widget.wordWrap() and widget.text() \
                and widget.sizePolicy().horizontalPolicy() != QSizePolicy.Policy.Ignored \
                and widget.minimumSizeHint().width() > widget.width() + 1:
            problems.append(f"{name} text cut: needs {widget.minimumSizeHint().width()} px, "
                            f"has {widget.width()}")
        # Clipped by a parent (a layout squeezed below its minimum): what shows is smaller.
        # (Only for leaves: a container's visible region excludes its children.)
        visible = widget.visibleRegion().boundingRect()
        if isinstance(widget, LEAF_CONTROLS) and (visible.width() < widget.width() - 1
                                             or visible.height() < widget.height() - 1):
            problems.append(f"{name} clipped to {visible.getRect()} of {widget.size().toTuple()}")
    return problems


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("size", SIZES + SCALED,
                         ids=[f"{w}x{h}" for w, h in SIZES] + SCALED_IDS)
def test_every_page_fits(qtbot: Any, tmp_path: Path, size: tuple[int, int],
                         language: str) -> None:
    window = offline_window(qtbot, tmp_path, language=language)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    for page in EVERY_PAGE:
        show_page(window, page)
        window.resize(*size)
        qtbot.wait(10)
        assert window.size().toTuple() == size, (page, window.minimumSizeHint().toTuple())
        assert cut_off_controls(window) == [], page
        proctor = [b for b in window.statusBar().findChildren(QAbstractButton)
                   if b.isVisibleTo(window)]
        assert proctor, "the proctor entry is reachable on every page"
    window.close()


def test_minimum_size_hint_allows_the_smallest_lab_screen(qtbot: Any, tmp_path: Path) -> None:
    window = offline_window(qtbot, tmp_path)
    for page in EVERY_PAGE:
        show_page(window, page)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 614, (page, hint.toTuple())


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("size", SIZES + SCALED,
                         ids=[f"{w}x{h}" for w, h in SIZES] + SCALED_IDS)
def test_the_proctor_panel_fits(qtbot: Any, tmp_path: Path, size: tuple[int, int],
                                language: str) -> None:
    """Locked (the password prompt) and unlocked (status, export, every action): inside
    the screen, nothing cut; the unlocked page scrolls inside the panel, not off-screen."""
    window = offline_window(qtbot, tmp_path, language=language)
    window.resize(*size)
    window.show()
    show_page(window, "exam")
    screen = QRect(0, 0, *size)
    try:
        for unlocked in (False, True):
            panel = proctor_panel(window, unlocked=unlocked)
            panel.show()
            panel.fit_to_screen(screen)  # as on showing it on a screen of this size
            QApplication.processEvents()
            assert screen.contains(panel.frameGeometry()), (unlocked, panel.frameGeometry())
            assert cut_off_controls(panel) == [], unlocked
            panel.close()
    finally:
        show_page(window, "result")  # the exam's lockdown ends: the window may close
        window.close()
        install_language("zh_CN")
