"""In-exam notice that covers the exam while a blocking e-01/e-02 finding is present.

The exam widgets underneath are disabled, not destroyed: answers already typed stay in
their editors and in the store, and everything comes back when the finding is resolved.
Its 重新检测 button asks for a full scan at once (recheckRequested); the monitor's next
update re-enables it, whatever the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from client.i18n import _
from client.integrity.findings import Finding
from client.integrity.messages import describe


class IntegrityOverlay(QWidget):
    recheckRequested = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("integrityOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._title = QLabel(_("考试已暂停"))
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title_font = self._title.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.6)
        title_font.setBold(True)
        self._title.setFont(title_font)
        self._body = QLabel()
        self._body.setWordWrap(True)
        self._body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._footer = QLabel(_("处理完成后考试会自动恢复，已作答的内容已保存"))
        self._footer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._recheck = QPushButton(_("重新检测"))
        self._recheck.setObjectName("integrityOverlayRecheck")
        self._recheck.clicked.connect(self._on_recheck)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self._recheck)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self._title)
        layout.addWidget(self._body)
        layout.addWidget(self._footer)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self._disabled_siblings: list[QWidget] = []
        self._findings: list[Finding] = []
        parent.installEventFilter(self)
        self.hide()

    @property
    def findings(self) -> list[Finding]:
        return list(self._findings)

    def show_findings(self, findings: Sequence[Finding]) -> None:
        """Cover the parent while any finding blocks; uncover when none does."""
        blocking = [f for f in findings if f.blocking]
        self._findings = blocking
        self._recheck.setEnabled(True)
        self._recheck.setText(_("重新检测"))
        if not blocking:
            self._uncover()
            return
        self._body.setText("\n".join(f"[{f.code}] {describe(f)}" for f in blocking))
        self._cover()

    def _on_recheck(self) -> None:
        self._recheck.setEnabled(False)
        self._recheck.setText(_("正在重新检测…"))
        self.recheckRequested.emit()

    # ------------------------------------------------------------------ covering

    def _cover(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        if not self.isVisible():
            # Disabled widgets take no keyboard input even if they had the focus.
            direct = Qt.FindChildOption.FindDirectChildrenOnly
            self._disabled_siblings = [
                w for w in parent.findChildren(QWidget, options=direct)
                if w is not self and w.isEnabled()
            ]
            for widget in self._disabled_siblings:
                widget.setEnabled(False)
        self.setGeometry(parent.rect())
        self.show()
        self.raise_()
        self._recheck.setFocus(Qt.FocusReason.OtherFocusReason)

    def _uncover(self) -> None:
        for widget in self._disabled_siblings:
            widget.setEnabled(True)
        self._disabled_siblings = []
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        parent = self.parentWidget()
        if parent is not None and watched is parent and event.type() == QEvent.Type.Resize:
            self.setGeometry(parent.rect())
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        # Opaque: the questions must not stay readable behind the notice.
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(250, 250, 250))
        painter.end()
        super().paintEvent(event)
