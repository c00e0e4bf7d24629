"""考试承诺书: the pledge page shown after the paper is downloaded, before the waiting room.

The text comes from the signed package (client/session/pledge.py). A required pledge has
only "agree" (after ticking the box); an optional one can also be skipped. ``PledgeFlow``
does the blocking store/network calls off the UI thread and keeps retrying the sync of an
acceptance made offline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.paper.exam_rules import Pledge
from client.session.pledge import PledgeGate
from client.ui.tasks import run_in_background

log = logging.getLogger(__name__)

SYNC_RETRY_MS = 30_000


class PledgePage(QWidget):
    agreed = Signal()
    skipped = Signal()

    def __init__(self, pledge: Pledge, *, language: str) -> None:
        super().__init__()
        self.setObjectName("page")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        card = QFrame()
        card.setObjectName("card")
        layout = QVBoxLayout(card)
        layout.setContentsMargins(32, 28, 32, 28)
        layout.setSpacing(12)
        title = QLabel(self.tr("考试承诺书"))
        title.setObjectName("title")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        hint = QLabel(self.tr("请认真阅读以下承诺书，同意后进入候考。") if pledge.required
                      else self.tr("请阅读以下承诺书。本场考试可以不签署直接进入候考。"))
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.text = QPlainTextEdit(pledge.text_for(language))
        self.text.setReadOnly(True)
        self.text.setAccessibleName(self.tr("承诺书全文"))
        # The text scrolls in its box; a taller minimum (320 px) made the page need 637
        # logical px, more than 1366x768 at 125 % scaling leaves (614): 同意 was cut off.
        self.text.setMinimumHeight(160)
        layout.addWidget(self.text, 1)
        self.confirm = QCheckBox(self.tr("我已阅读并同意遵守以上承诺"))
        layout.addWidget(self.confirm)
        self.status = QLabel()
        self.status.setObjectName("error")
        self.status.setWordWrap(True)
        self.status.hide()
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.skip_button = QPushButton(self.tr("暂不签署，进入候考"))
        self.skip_button.clicked.connect(self.skipped)
        buttons.addWidget(self.skip_button)
        self.agree_button = QPushButton(self.tr("同意并进入候考"))
        self.agree_button.setObjectName("primary")
        self.agree_button.setEnabled(False)
        self.confirm.toggled.connect(self.agree_button.setEnabled)
        self.agree_button.clicked.connect(self._on_agree)
        buttons.addWidget(self.agree_button)
        layout.addLayout(buttons)
        outer.addStretch(1)
        outer.addWidget(card, 4)
        outer.addStretch(1)
        # Only now, with a parent: setVisible(True) on the still parentless button showed
        # it as a window of its own for a moment, which took the activation (and the
        # keyboard) from the exam window until the candidate clicked into it.
        self.skip_button.setVisible(not pledge.required)

    def _on_agree(self) -> None:
        if self.confirm.isChecked():
            self.agree_button.setEnabled(False)
            self.agreed.emit()

    def show_error(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.agree_button.setEnabled(self.confirm.isChecked())


class PledgeFlow(QObject):
    """Shows the pledge page when the package has one not yet accepted on this PC, then
    calls *on_done*. Acceptance is stored before *on_done*; sending it may come later."""

    def __init__(self, *, gate: PledgeGate, language: str,
                 show_page: Callable[[QWidget], None], on_done: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.gate = gate
        self.language = language
        self.page: PledgePage | None = None
        self._show_page = show_page
        self._on_done = on_done
        self._sync_timer = QTimer(self)
        self._sync_timer.setInterval(SYNC_RETRY_MS)
        self._sync_timer.timeout.connect(self._sync)

    def start(self) -> None:
        run_in_background(self.gate.must_show, on_done=self._decided,
                          on_error=self._store_failed)

    def _decided(self, must_show: Any) -> None:
        if not must_show:
            self._sync()          # accepted on an earlier start: make sure the server has it
            self._on_done()
            return
        assert self.gate.pledge is not None
        self.page = PledgePage(self.gate.pledge, language=self.language)
        self.page.agreed.connect(self._agree)
        self.page.skipped.connect(self._skip)
        self._show_page(self.page)

    def _store_failed(self, error: BaseException) -> None:
        log.error("pledge state unreadable", exc_info=error)
        if self.gate.must_accept():
            # Never let a candidate past a required pledge unrecorded.
            if self.page is None:
                assert self.gate.pledge is not None
                self.page = PledgePage(self.gate.pledge, language=self.language)
                self.page.agreed.connect(self._agree)
                self._show_page(self.page)
            self.page.show_error(self.tr("承诺书无法保存到本机，请联系监考教师：{error}").format(
                error=error))
            return
        self._on_done()

    def _agree(self) -> None:
        language = self.language
        run_in_background(lambda: self.gate.accept(language=language),
                          on_done=self._accepted, on_error=self._store_failed)

    def _accepted(self, acceptance: Any) -> None:
        if not acceptance.synced:
            self._sync_timer.start()
        self._on_done()

    def _skip(self) -> None:
        if not self.gate.must_accept():
            self._on_done()

    def _sync(self) -> None:
        def synced(ok: Any) -> None:
            if ok:
                self._sync_timer.stop()
            elif not self._sync_timer.isActive():
                self._sync_timer.start()

        run_in_background(self.gate.sync, on_done=synced, on_error=lambda _e: None)
