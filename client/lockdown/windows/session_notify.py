"""Windows' session and power messages, mapped to plain session changes.

WM_POWERBROADCAST reaches every top-level window; WM_WTSSESSION_CHANGE (lock, unlock, user
switch, remote desktop) only windows registered with WTSRegisterSessionNotification. The
mapping (session_change) is plain integers, and reading a MSG out of Qt's native event is
ctypes on memory, so both run (and are tested) on every platform; only registering needs
Windows.
"""

from __future__ import annotations

import logging
import sys

from client.lockdown.session_change import SessionChange

log = logging.getLogger(__name__)

WM_POWERBROADCAST = 0x0218
WM_WTSSESSION_CHANGE = 0x02B1
PBT_APMSUSPEND = 0x0004
PBT_APMRESUMESUSPEND = 0x0007  # after a resume the user started (key, lid)
PBT_APMRESUMEAUTOMATIC = 0x0012  # after every resume
WTS_CONSOLE_CONNECT = 0x1
WTS_CONSOLE_DISCONNECT = 0x2
WTS_REMOTE_CONNECT = 0x3
WTS_REMOTE_DISCONNECT = 0x4
WTS_SESSION_LOCK = 0x7
WTS_SESSION_UNLOCK = 0x8
NOTIFY_FOR_THIS_SESSION = 0

# Qt's name for a native event on Windows (QAbstractNativeEventFilter).
NATIVE_EVENT_TYPE = b"windows_generic_MSG"

_SESSION = {
    WTS_SESSION_LOCK: (SessionChange.LOCKED, ""),
    WTS_SESSION_UNLOCK: (SessionChange.UNLOCKED, ""),
    # Fast user switching disconnects this session from the console; a remote desktop
    # connecting to it does too (and is worth the proctor's attention: "via remote").
    WTS_CONSOLE_DISCONNECT: (SessionChange.SWITCHED_AWAY, "console"),
    WTS_REMOTE_CONNECT: (SessionChange.SWITCHED_AWAY, "remote"),
    WTS_CONSOLE_CONNECT: (SessionChange.SWITCHED_BACK, "console"),
}
_POWER = {
    PBT_APMSUSPEND: (SessionChange.SUSPENDED, ""),
    PBT_APMRESUMESUSPEND: (SessionChange.RESUMED, ""),
    PBT_APMRESUMEAUTOMATIC: (SessionChange.RESUMED, ""),
}


def session_change(message: int, wparam: int, lparam: int = 0, *,
                   own_session: int | None = None) -> tuple[SessionChange, str] | None:
    """(change, via) for a session or power message, else None. WTS_REMOTE_DISCONNECT
    is None: the session stays away from the console until WTS_CONSOLE_CONNECT. A session
    message names its session in *lparam*: one for another session than *own_session*
    (the candidate's) says nothing about the exam's (None: not known, not checked)."""
    if message == WM_WTSSESSION_CHANGE:
        if own_session is not None and lparam != own_session:
            return None
        return _SESSION.get(wparam)
    if message == WM_POWERBROADCAST:
        return _POWER.get(wparam)
    return None


def message_at(address: int) -> tuple[int, int, int]:
    """(message, wParam, lParam) of the MSG at *address* (what Qt passes a native event
    filter)."""
    import ctypes.wintypes

    msg = ctypes.wintypes.MSG.from_address(address)
    return int(msg.message), int(msg.wParam or 0), int(msg.lParam or 0)


def own_session_id() -> int | None:
    """The Windows session this process runs in; None where not Windows or refused."""
    if sys.platform != "win32":
        return None
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.ProcessIdToSessionId.argtypes = [wintypes.DWORD, ctypes.POINTER(wintypes.DWORD)]
    kernel32.ProcessIdToSessionId.restype = wintypes.BOOL
    session = wintypes.DWORD()
    if kernel32.ProcessIdToSessionId(kernel32.GetCurrentProcessId(), ctypes.byref(session)):
        return int(session.value)
    log.error("own session id unknown: error %s", ctypes.get_last_error())
    return None


def register(hwnd: int) -> bool:
    """Ask for WM_WTSSESSION_CHANGE at the window *hwnd*; False where refused or not Windows."""
    if sys.platform != "win32":
        return False
    import ctypes
    from ctypes import wintypes

    wtsapi32 = ctypes.WinDLL("wtsapi32", use_last_error=True)
    wtsapi32.WTSRegisterSessionNotification.argtypes = [wintypes.HWND, wintypes.DWORD]
    wtsapi32.WTSRegisterSessionNotification.restype = wintypes.BOOL
    if wtsapi32.WTSRegisterSessionNotification(hwnd, NOTIFY_FOR_THIS_SESSION):
        return True
    log.error("session notifications refused: error %s", ctypes.get_last_error())
    return False


def unregister(hwnd: int) -> None:
    if sys.platform != "win32":
        return
    import ctypes
    from ctypes import wintypes

    wtsapi32 = ctypes.WinDLL("wtsapi32", use_last_error=True)
    wtsapi32.WTSUnRegisterSessionNotification.argtypes = [wintypes.HWND]
    wtsapi32.WTSUnRegisterSessionNotification.restype = wintypes.BOOL
    wtsapi32.WTSUnRegisterSessionNotification(hwnd)
