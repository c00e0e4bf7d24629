"""Clipboard and foreground-window calls the lockdown needs on Windows.

Qt's QClipboard only empties the clipboard it sees; EmptyClipboard clears what any other
program put there too. GetForegroundWindow names the program a focus loss went to, for the
record (a candidate's "I clicked nothing" against "notepad.exe took the foreground").
"""

from __future__ import annotations

import sys


def empty_clipboard() -> bool:
    if sys.platform != "win32":
        return False
    import ctypes

    user32 = ctypes.WinDLL("user32", use_last_error=True)
    if not user32.OpenClipboard(None):
        return False
    try:
        return bool(user32.EmptyClipboard())
    finally:
        user32.CloseClipboard()


def foreground_process_name() -> str:
    """The executable that owns the foreground window ("" when unknown)."""
    if sys.platform != "win32":
        return ""
    import ctypes
    from ctypes import wintypes

    import psutil

    user32 = ctypes.WinDLL("user32", use_last_error=True)
    user32.GetForegroundWindow.restype = wintypes.HWND
    hwnd = user32.GetForegroundWindow()
    if not hwnd:
        return ""
    pid = wintypes.DWORD()
    user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
    try:
        return str(psutil.Process(pid.value).name())
    except psutil.Error:
        return ""
