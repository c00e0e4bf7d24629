"""Windows adapter: the owner (a SID string) of a file or folder.

The loader trusts the machine-wide config only when an administrator owns it: C:\\ProgramData
lets every user create a folder or file, which that user then owns. Called only on Windows
(client/config/loader.py); refuses elsewhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

SE_FILE_OBJECT = 1
OWNER_SECURITY_INFORMATION = 0x1


def owner_sid(path: Path) -> str | None:
    """The owner's SID as ``S-1-...``; None when it cannot be read."""
    if sys.platform != "win32":
        raise OSError("owner_sid is Windows-only")
    import ctypes
    from ctypes import wintypes

    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    advapi32.GetNamedSecurityInfoW.argtypes = [
        wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)]
    advapi32.GetNamedSecurityInfoW.restype = wintypes.DWORD
    advapi32.ConvertSidToStringSidW.argtypes = [ctypes.c_void_p,
                                                ctypes.POINTER(wintypes.LPWSTR)]
    advapi32.ConvertSidToStringSidW.restype = wintypes.BOOL
    kernel32.LocalFree.argtypes = [ctypes.c_void_p]
    kernel32.LocalFree.restype = ctypes.c_void_p

    owner = ctypes.c_void_p()
    descriptor = ctypes.c_void_p()
    if advapi32.GetNamedSecurityInfoW(str(path), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION,
                                      ctypes.byref(owner), None, None, None,
                                      ctypes.byref(descriptor)) != 0:
        return None
    try:
        text = wintypes.LPWSTR()
        if not advapi32.ConvertSidToStringSidW(owner, ctypes.byref(text)):
            return None
        try:
            return text.value
        finally:
            kernel32.LocalFree(ctypes.cast(text, ctypes.c_void_p))
    finally:
        kernel32.LocalFree(descriptor)
