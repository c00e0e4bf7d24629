"""Clipboard and foreground-window calls the lockdown needs on Windows.

Qt's QClipboard only empties the clipboard it sees; EmptyClipboard clears what any other
program put there too. GetForegroundWindow names the program a focus loss went to, for the
record (a candidate's "I clicked nothing" against "notepad.exe took the foreground").
"""

from __future__ import annotations

import sys

from client.lockdown.foreground import foreground_label


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
    """The executable that owns the foreground window ("" when unknown); a file named as
    the lock screen but elsewhere is given by its full path (client/lockdown/foreground.py)."""
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
        process = psutil.Process(pid.value)
        name = str(process.name())
    except psutil.Error:
        return ""
    try:
        exe_path: str | None = str(process.exe())
    except psutil.Error:
        exe_path = None  # another user's process (LogonUI runs as SYSTEM)
    return foreground_label(name=name, exe_path=exe_path, windows_dir=_windows_dir())


def _windows_dir() -> str | None:
    """The system's Windows folder (not %SystemRoot%, which the user's environment sets)."""
    if sys.platform != "win32":
        return None
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    buffer = ctypes.create_unicode_buffer(260)
    length = kernel32.GetSystemWindowsDirectoryW(buffer, len(buffer))
    return buffer.value if 0 < length < len(buffer) else None
