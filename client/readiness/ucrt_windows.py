"""Windows adapter of the UCRT check: the file version of System32\\ucrtbase.dll and
whether the loaded ucrtbase exports a function that old copies lack. Called only on
Windows (client/readiness/ucrt.py); every function refuses elsewhere."""

from __future__ import annotations

import os
import sys


def ucrtbase_version() -> tuple[int, int, int, int] | None:
    """The version of the 64-bit System32\\ucrtbase.dll; None when it is missing."""
    if sys.platform != "win32":
        raise OSError("ucrtbase_version is Windows-only")
    import ctypes
    from ctypes import wintypes

    class FixedFileInfo(ctypes.Structure):
        _fields_ = [(name, wintypes.DWORD) for name in (
            "signature", "struc_version", "file_version_ms", "file_version_ls",
            "product_version_ms", "product_version_ls", "flags_mask", "flags", "os", "type",
            "subtype", "date_ms", "date_ls")]

    path = os.path.join(os.environ.get("SYSTEMROOT", r"C:\Windows"), "System32", "ucrtbase.dll")
    version = ctypes.WinDLL("version", use_last_error=True)
    version.GetFileVersionInfoSizeW.argtypes = [wintypes.LPCWSTR, wintypes.LPDWORD]
    version.GetFileVersionInfoSizeW.restype = wintypes.DWORD
    version.GetFileVersionInfoW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD,
                                            ctypes.c_void_p]
    version.GetFileVersionInfoW.restype = wintypes.BOOL
    version.VerQueryValueW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR,
                                       ctypes.POINTER(ctypes.c_void_p),
                                       ctypes.POINTER(wintypes.UINT)]
    version.VerQueryValueW.restype = wintypes.BOOL
    size = version.GetFileVersionInfoSizeW(path, None)
    if not size:
        return None
    block = ctypes.create_string_buffer(size)
    if not version.GetFileVersionInfoW(path, 0, size, block):
        return None
    value = ctypes.c_void_p()
    length = wintypes.UINT()
    if not version.VerQueryValueW(block, "\\", ctypes.byref(value), ctypes.byref(length)) \
            or not value.value:
        return None
    info = FixedFileInfo.from_address(value.value)
    return (info.file_version_ms >> 16, info.file_version_ms & 0xFFFF,
            info.file_version_ls >> 16, info.file_version_ls & 0xFFFF)


def probe_export(name: str) -> bool | None:
    """Whether ucrtbase.dll exports *name*; None when ucrtbase cannot be loaded."""
    if sys.platform != "win32":
        raise OSError("probe_export is Windows-only")
    import ctypes
    from ctypes import wintypes

    try:
        ucrt = ctypes.WinDLL("ucrtbase.dll")
    except OSError:
        return None
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetProcAddress.argtypes = [wintypes.HMODULE, ctypes.c_char_p]
    kernel32.GetProcAddress.restype = ctypes.c_void_p
    return bool(kernel32.GetProcAddress(ucrt._handle, name.encode("ascii")))
