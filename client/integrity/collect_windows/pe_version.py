"""PE version resource: the OriginalFilename a vendor compiled into the binary.

Renaming AnyDesk.exe to notepad2.exe does not change this string (Safe Exam Browser
bypass #991), so the rules match it as well as the file name. GetFileVersionInfoW maps
the file as data (LOAD_LIBRARY_AS_DATAFILE): nothing in it is executed.
"""

from __future__ import annotations

import sys

# English/Unicode and English/Windows-1252 blocks: what most binaries carry when their
# translation table is missing or lies.
_FALLBACK_TRANSLATIONS = ((0x0409, 0x04B0), (0x0409, 0x04E4), (0x0000, 0x04B0))


def original_filename(path: str) -> str:
    """The OriginalFilename of the PE file at *path*, or "" when it has none."""
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        version = ctypes.WinDLL("version", use_last_error=True)
        version.GetFileVersionInfoSizeW.argtypes = [wintypes.LPCWSTR, wintypes.LPDWORD]
        version.GetFileVersionInfoSizeW.restype = wintypes.DWORD
        version.GetFileVersionInfoW.argtypes = [
            wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, ctypes.c_void_p]
        version.GetFileVersionInfoW.restype = wintypes.BOOL
        version.VerQueryValueW.argtypes = [
            ctypes.c_void_p, wintypes.LPCWSTR, ctypes.POINTER(ctypes.c_void_p),
            ctypes.POINTER(wintypes.UINT)]
        version.VerQueryValueW.restype = wintypes.BOOL

        size = version.GetFileVersionInfoSizeW(path, None)
        if not size:
            return ""
        block = ctypes.create_string_buffer(size)
        if not version.GetFileVersionInfoW(path, 0, size, block):
            return ""
        value = ctypes.c_void_p()
        length = wintypes.UINT()

        translations: list[tuple[int, int]] = []
        if (
            version.VerQueryValueW(block, "\\VarFileInfo\\Translation", ctypes.byref(value),
                                   ctypes.byref(length))
            and value.value
            and length.value >= 4
        ):
            count = length.value // 4
            words = (wintypes.WORD * (2 * count)).from_address(value.value)
            translations = [(words[2 * i], words[2 * i + 1]) for i in range(count)]
        for lang, codepage in [*translations, *_FALLBACK_TRANSLATIONS]:
            key = f"\\StringFileInfo\\{lang:04x}{codepage:04x}\\OriginalFilename"
            if (
                version.VerQueryValueW(block, key, ctypes.byref(value), ctypes.byref(length))
                and value.value
                and length.value
            ):
                # length counts WCHARs including the terminating NUL.
                return ctypes.wstring_at(value.value, length.value).rstrip("\x00").strip()
        return ""
    raise OSError("PE version resources are read with the Windows API only")
