"""Windows' lock / suspend / user-switch messages to the lockdown guard, through Qt's
native event filter (the only place PySide6 sees them). The mapping and the MSG reading
are in client/lockdown/windows/session_notify.py; this only forwards plain changes."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractNativeEventFilter, QByteArray

from client.lockdown.session_change import SessionChange
from client.lockdown.windows.session_notify import NATIVE_EVENT_TYPE, message_at, session_change


class SessionEventFilter(QAbstractNativeEventFilter):
    def __init__(self, on_change: Callable[[SessionChange, str], None], *,
                 own_session: int | None = None) -> None:
        super().__init__()
        self._on_change = on_change
        self._own_session = own_session  # notices for other sessions are ignored

    def nativeEventFilter(self, eventType: QByteArray | bytes | bytearray | memoryview,
                          message: int) -> object:
        kind = eventType.data() if isinstance(eventType, QByteArray) else bytes(eventType)
        if kind == NATIVE_EVENT_TYPE and message:
            change = session_change(*message_at(int(message)), own_session=self._own_session)
            if change is not None:
                self._on_change(*change)
        return False, 0  # never swallowed: Qt and Windows handle the message as usual
