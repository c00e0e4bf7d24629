"""The quiet proctoring notice on the exam page (never a dialog, never takes focus).

``ProctorNoticeBar.callbacks()`` gives the two functions to hand to
client.camera.proctor_monitor.MonitorRunner; they run on the monitor's thread and are
re-posted here. The bar shows the notice of the newest open condition and hides when
none is open; ``eventOpened``/``eventClosed`` carry each ProctorEvent to whoever stores
it encrypted and syncs it (the snapshot JPEG is in ``event.snapshot``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from client.camera.proctor_monitor import Condition, ProctorEvent, notice_text


class ProctorNoticeBar(QWidget):
    eventOpened = Signal(object)   # ProctorEvent
    eventClosed = Signal(object)   # ProctorEvent (ended_ms set)

    _opened = Signal(object)
    _closed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setObjectName("proctorNotice")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setStyleSheet("color: #8a5300;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.label)
        self._open: dict[Condition, ProctorEvent] = {}
        self._opened.connect(self._on_opened, Qt.ConnectionType.QueuedConnection)
        self._closed.connect(self._on_closed, Qt.ConnectionType.QueuedConnection)
        self.setVisible(False)

    def callbacks(self) -> tuple[Callable[[ProctorEvent], None], Callable[[ProctorEvent], None]]:
        """(on_opened, on_closed) for MonitorRunner; safe to call from any thread."""
        return self._opened.emit, self._closed.emit

    def _on_opened(self, event: ProctorEvent) -> None:
        self._open[event.kind] = event
        self._refresh()
        self.eventOpened.emit(event)

    def _on_closed(self, event: ProctorEvent) -> None:
        self._open.pop(event.kind, None)
        self._refresh()
        self.eventClosed.emit(event)

    def _refresh(self) -> None:
        if not self._open:
            self.label.clear()
            self.setVisible(False)
            return
        newest = max(self._open.values(), key=lambda event: event.started_ms)
        self.label.setText(notice_text(newest.kind))
        self.setVisible(True)
