"""The page shape shared by the login and result pages: one card centred on the page."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget


def centered_card(page: QWidget, *, min_width: int) -> QVBoxLayout:
    """Style *page* as a page and return the layout of a card centred on it."""
    page.setObjectName("page")
    page.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
    outer = QVBoxLayout(page)
    outer.addStretch(1)
    row = QHBoxLayout()
    row.addStretch(1)
    card = QFrame()
    card.setObjectName("card")
    card.setMinimumWidth(min_width)
    layout = QVBoxLayout(card)
    layout.setContentsMargins(36, 30, 36, 30)
    row.addWidget(card)
    row.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(2)  # a little above the middle reads better than dead centre
    return layout
