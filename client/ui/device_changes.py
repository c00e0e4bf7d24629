"""Tell the integrity monitor at once when displays or devices change.

A second monitor or a virtual display plugged in mid-exam used to wait for the next full
scan (45-60 s). Qt reports screens added or removed on every platform; on Windows every
top-level window also receives WM_DEVICECHANGE (DBT_DEVNODES_CHANGED, arrival, removal),
which catches USB cameras, capture cards and virtual audio/display drivers. Each one asks
for a full scan; the monitor collapses a burst into one.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from PySide6.QtCore import QAbstractNativeEventFilter, QByteArray, QCoreApplication, QObject
from PySide6.QtGui import QGuiApplication, QScreen

log = logging.getLogger(__name__)

WM_DEVICECHANGE = 0x0219
# wParam values that mean "the set of devices changed" (dbt.h).
DEVICE_CHANGE_EVENTS = frozenset({0x0007, 0x8000, 0x8004})  # DEVNODES_CHANGED, ARRIVAL, REMOVED


def is_device_change(message: int, wparam: int) -> bool:
    return message == WM_DEVICECHANGE and wparam in DEVICE_CHANGE_EVENTS


class _WindowsDeviceChangeFilter(QAbstractNativeEventFilter):
    def __init__(self, on_change: Callable[[], None]) -> None:
        super().__init__()
        self._on_change = on_change

    def nativeEventFilter(self, eventType: QByteArray | bytes | bytearray | memoryview,
                          message: int
                          ) -> tuple[bool, int]:
        kind = eventType.data() if isinstance(eventType, QByteArray) else bytes(eventType)
        if sys.platform == "win32" and kind == b"windows_generic_MSG":
            from ctypes import wintypes

            msg = wintypes.MSG.from_address(int(message))
            if is_device_change(msg.message, int(msg.wParam or 0)):
                self._on_change()
        return False, 0


class DeviceChangeWatcher(QObject):
    """Calls *on_change* (on the UI thread) when a screen or, on Windows, a device changes."""

    def __init__(self, on_change: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_change = on_change
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenAdded.connect(self._screen_changed)
            app.screenRemoved.connect(self._screen_changed)
        self._native: _WindowsDeviceChangeFilter | None = None
        if sys.platform == "win32":
            self._native = _WindowsDeviceChangeFilter(self._changed)
            core = QCoreApplication.instance()
            if core is not None:
                core.installNativeEventFilter(self._native)

    def _screen_changed(self, screen: QScreen) -> None:
        log.info("integrity: screen %r added or removed: full scan", screen.name())
        self._changed()

    def _changed(self) -> None:
        try:
            self._on_change()
        except Exception:  # a watcher must never break event delivery
            log.exception("device change handler failed")

    def stop(self) -> None:
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenAdded.disconnect(self._screen_changed)
            app.screenRemoved.disconnect(self._screen_changed)
        core = QCoreApplication.instance()
        if self._native is not None and core is not None:
            core.removeNativeEventFilter(self._native)
            self._native = None



