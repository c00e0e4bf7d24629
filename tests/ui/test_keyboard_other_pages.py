"""The pages around the exam with the keyboard alone, on the smallest lab screen
(1024x768): the pledge (read the text, tick, agree), the readiness check (read the lines,
continue) and the proctor panel (opened with its shortcut; every action reached by Tab
and, when it has the focus, visible on the screen, not below the panel's scrolled
edge). Real key presses on real widgets; the accessibility walk
(test_keyboard_and_accessibility.py) checks names and the Tab chain, this checks that a
person pressing the keys gets there."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QWidget
from screen_support import EVERY_PAGE, PLEDGE, offline_window, proctor_panel, show_page

from client.ui.pledge_page import PledgePage
from client.ui.proctor_panel import PROCTOR_SHORTCUT

pytestmark = pytest.mark.qt

SCREEN = (1024, 768)


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def press(qtbot: Any, key: Qt.Key, target: QWidget,
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(focused() or target, key, modifier)
    qtbot.wait(1)


def tab_order(qtbot: Any, top: QWidget, *, limit: int = 60) -> list[QWidget]:
    """The widgets Tab visits from the current focus, once round (real key presses)."""
    seen: list[QWidget] = []
    for _ in range(limit):
        press(qtbot, Qt.Key.Key_Tab, top)
        widget = focused()
        assert widget is not None, "Tab lost the focus"
        if widget in seen:
            return seen
        seen.append(widget)
    raise AssertionError("Tab never came round")


def in_cycle_order(order: list[QWidget], expected: list[QWidget]) -> bool:
    """Tab goes round: *expected* appear in *order* in this sequence, from wherever the
    focus started."""
    ours = [w for w in order if w in expected]
    if sorted(map(id, ours)) != sorted(map(id, expected)):
        return False
    start = ours.index(expected[0])
    return ours[start:] + ours[:start] == expected


def visible_on(widget: QWidget, screen: QRect) -> bool:
    """The widget is drawn whole inside *screen* (global pixels) and not scrolled away."""
    shown = widget.visibleRegion().boundingRect()
    whole = shown.width() >= widget.width() - 1 and shown.height() >= widget.height() - 1
    top_left = widget.mapToGlobal(QPoint(0, 0))
    return whole and screen.contains(QRect(top_left, widget.size()))


def in_front(qtbot: Any, window: QWidget) -> None:
    window.resize(*SCREEN)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_the_pledge_with_the_keyboard_alone(qtbot: Any, tmp_path: Path) -> None:
    window = offline_window(qtbot, tmp_path)
    in_front(qtbot, window)
    show_page(window, "pledge")
    page = window.pages.findChild(PledgePage)
    assert page is not None
    page.text.setPlainText(PLEDGE.text_zh * 4)  # a long pledge, longer than its box
    agreed: list[bool] = []
    page.agreed.connect(lambda: agreed.append(True))
    order = tab_order(qtbot, window)
    assert page.agree_button not in order  # not yet ticked: nothing to press
    # Reading order: the text, the tick box, then the buttons (skip, as the pledge is
    # optional), never the other way round.
    assert in_cycle_order(order, [page.text, page.confirm, page.skip_button])
    while focused() is not page.text:
        press(qtbot, Qt.Key.Key_Tab, window)
    scroll = page.text.verticalScrollBar()
    assert scroll.maximum() > 0, "the pledge text should be longer than its box here"
    press(qtbot, Qt.Key.Key_PageDown, window)
    assert scroll.value() > 0, "the pledge text scrolls with the keyboard"
    press(qtbot, Qt.Key.Key_Tab, window)
    assert focused() is page.confirm
    press(qtbot, Qt.Key.Key_Space, window)
    assert page.confirm.isChecked() and page.agree_button.isEnabled()
    while focused() is not page.agree_button:
        press(qtbot, Qt.Key.Key_Tab, window)
    assert visible_on(page.agree_button, QRect(0, 0, *SCREEN))
    press(qtbot, Qt.Key.Key_Space, window)
    assert agreed == [True]


def test_the_readiness_check_with_the_keyboard_alone(qtbot: Any, tmp_path: Path) -> None:
    window = offline_window(qtbot, tmp_path)
    in_front(qtbot, window)
    show_page(window, "readiness")
    screen = window.readiness_page
    continued: list[bool] = []
    screen.continueRequested.connect(lambda: continued.append(True))
    order = tab_order(qtbot, window)
    assert in_cycle_order(order, [screen.lines, screen.recheck_button,
                                  screen.continue_button])
    while focused() is not screen.lines:
        press(qtbot, Qt.Key.Key_Tab, window)
    # The lines are read one by one with the arrow keys (a screen reader reads the
    # current one), from the first to the last.
    press(qtbot, Qt.Key.Key_Home, window)
    first = screen.lines.currentRow()
    for _ in range(screen.lines.count()):
        press(qtbot, Qt.Key.Key_Down, window)
    assert (first, screen.lines.currentRow()) == (0, screen.lines.count() - 1)
    while focused() is not screen.continue_button:
        press(qtbot, Qt.Key.Key_Tab, window)
    assert visible_on(screen.continue_button, QRect(0, 0, *SCREEN))
    press(qtbot, Qt.Key.Key_Space, window)
    assert continued == [True]


def test_the_proctor_panel_with_the_keyboard_alone(qtbot: Any, tmp_path: Path) -> None:
    """The panel (Ctrl+Alt+Shift+P from any page) opens with the focus in its password
    field; unlocked, Tab reaches every action, each one shown when it has the focus."""
    window = offline_window(qtbot, tmp_path)
    in_front(qtbot, window)
    show_page(window, "exam")
    shortcuts = [s.key().toString() for s in window.findChildren(QShortcut)
                 if s.context() == Qt.ShortcutContext.ApplicationShortcut]
    assert QKeySequence(PROCTOR_SHORTCUT).toString() in shortcuts
    try:
        panel = proctor_panel(window, unlocked=False)
        panel.show()
        panel.fit_to_screen(QRect(0, 0, *SCREEN))
        panel.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is panel)
        assert isinstance(focused(), QLineEdit), "typing the password needs no mouse"
        panel.close()
        panel = proctor_panel(window, unlocked=True)
        panel.show()
        panel.fit_to_screen(QRect(0, 0, *SCREEN))
        panel.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is panel)
        screen = QRect(0, 0, *SCREEN)
        buttons = [b for b in panel.findChildren(QAbstractButton)
                   if b.isVisibleTo(panel) and b.isEnabled()]
        assert len(buttons) >= 5
        reached: list[QWidget] = []
        hidden: list[str] = []
        for _ in range(120):
            press(qtbot, Qt.Key.Key_Tab, panel)
            widget = focused()
            assert widget is not None and widget.window() is panel, "Tab left the panel"
            if widget in reached:
                break
            reached.append(widget)
            QApplication.processEvents()
            if isinstance(widget, QAbstractButton) and not visible_on(widget, screen):
                hidden.append(widget.text())
        assert [b.text() for b in buttons if b not in reached] == []
        assert hidden == [], "focused but scrolled out of sight or off the screen"
        panel.close()
    finally:
        show_page(window, "result")
        window.close()


@pytest.mark.parametrize("required", [True, False])
def test_a_required_pledge_offers_no_skip_to_the_keyboard(qtbot: Any, tmp_path: Path,
                                                          required: bool) -> None:
    page = PledgePage(dataclasses.replace(PLEDGE, required=required), language="zh_CN")
    qtbot.addWidget(page)
    in_front(qtbot, page)
    order = tab_order(qtbot, page)
    assert (page.skip_button in order) is (not required)


def test_putting_a_page_on_screen_never_takes_the_activation(qtbot: Any,
                                                             tmp_path: Path) -> None:
    """Building a page must not show a window of its own, even for a moment: the pledge
    page showed its skip button as a parentless window while it was being built, which
    took the activation (and the keyboard) from the exam window."""
    window = offline_window(qtbot, tmp_path)
    in_front(qtbot, window)
    app = QApplication.instance()
    changes: list[object] = []
    app.focusWindowChanged.connect(changes.append)
    try:
        for name in EVERY_PAGE:
            show_page(window, name)
            qtbot.wait(20)
            assert (name, changes, QApplication.activeWindow()) == (name, [], window)
        # The proctor panel is built (locked, then unlocked) before it is shown.
        for unlocked in (False, True):
            panel = proctor_panel(window, unlocked=unlocked)
            qtbot.wait(20)
            assert (unlocked, changes, QApplication.activeWindow()) == (unlocked, [], window)
            panel.deleteLater()
    finally:
        app.focusWindowChanged.disconnect(changes.append)
        show_page(window, "result")
