"""Is this a remote (RDP) session, and is it being shadowed? Three independent sources.

GetSystemMetrics is the documented check; WTSClientProtocolType catches clients that do
not set the metric; the console session id in the registry (GlassSessionId) catches RDP
with RemoteFX vGPU, where SM_REMOTESESSION reads 0 (Microsoft's documented caveat).
"""

from __future__ import annotations

import sys

from client.integrity.snapshot import SessionInfo

_SM_REMOTESESSION = 0x1000
_SM_REMOTECONTROL = 0x2001
_WTS_CURRENT_SERVER_HANDLE = 0
_WTS_CURRENT_SESSION = 0xFFFFFFFF
_WTS_CLIENT_PROTOCOL_TYPE = 16
_TERMINAL_SERVER_KEY = r"SYSTEM\CurrentControlSet\Control\Terminal Server"


def read_session() -> SessionInfo:
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        user32 = ctypes.WinDLL("user32", use_last_error=True)
        user32.GetSystemMetrics.argtypes = [ctypes.c_int]
        user32.GetSystemMetrics.restype = ctypes.c_int
        remote = bool(user32.GetSystemMetrics(_SM_REMOTESESSION))
        shadowed = bool(user32.GetSystemMetrics(_SM_REMOTECONTROL))

        protocol: int | None = None
        wtsapi = ctypes.WinDLL("wtsapi32", use_last_error=True)
        wtsapi.WTSQuerySessionInformationW.argtypes = [
            wintypes.HANDLE, wintypes.DWORD, ctypes.c_int,
            ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(wintypes.DWORD)]
        wtsapi.WTSQuerySessionInformationW.restype = wintypes.BOOL
        wtsapi.WTSFreeMemory.argtypes = [ctypes.c_void_p]
        buffer = ctypes.c_void_p()
        size = wintypes.DWORD()
        if wtsapi.WTSQuerySessionInformationW(
            _WTS_CURRENT_SERVER_HANDLE, _WTS_CURRENT_SESSION, _WTS_CLIENT_PROTOCOL_TYPE,
            ctypes.byref(buffer), ctypes.byref(size),
        ) and buffer.value:
            try:
                if size.value >= 2:
                    protocol = ctypes.c_ushort.from_address(buffer.value).value
            finally:
                wtsapi.WTSFreeMemory(buffer)

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.ProcessIdToSessionId.argtypes = [wintypes.DWORD, ctypes.POINTER(wintypes.DWORD)]
        kernel32.ProcessIdToSessionId.restype = wintypes.BOOL
        session = wintypes.DWORD()
        session_id = (
            int(session.value)
            if kernel32.ProcessIdToSessionId(kernel32.GetCurrentProcessId(), ctypes.byref(session))
            else None
        )
        return SessionInfo(remote_session=remote, remote_control_shadowed=shadowed,
                           wts_protocol=protocol, session_id=session_id,
                           glass_session_id=_glass_session_id())
    raise OSError("Windows sessions are read with the Windows API only")


def _glass_session_id() -> int | None:
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, _TERMINAL_SERVER_KEY) as key:
                value, _kind = winreg.QueryValueEx(key, "GlassSessionId")
        except OSError:
            return None  # older Windows builds do not write it
        return int(value)
    raise OSError("Windows only")
