"""Present PnP devices (cfgmgr32) and loaded kernel drivers (psapi).

CM_Get_Device_ID_ListW with CM_GETIDLIST_FILTER_PRESENT lists devices that exist now,
unlike HKLM\\SYSTEM\\CurrentControlSet\\Enum, which also remembers every device ever
plugged in (a USB stick from a VM host years ago must not count).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

_CM_GETIDLIST_FILTER_PRESENT = 0x00000100
_CR_SUCCESS = 0
_CR_BUFFER_SMALL = 0x1A
_PCI_VENDOR = re.compile(r"^PCI\\VEN_([0-9A-F]{4})", re.IGNORECASE)


def present_device_ids() -> tuple[str, ...]:
    if sys.platform == "win32":
        import ctypes

        cfgmgr = ctypes.WinDLL("cfgmgr32")
        cfgmgr.CM_Get_Device_ID_List_SizeW.argtypes = [
            ctypes.POINTER(ctypes.c_ulong), ctypes.c_wchar_p, ctypes.c_ulong]
        cfgmgr.CM_Get_Device_ID_List_SizeW.restype = ctypes.c_ulong
        cfgmgr.CM_Get_Device_ID_ListW.argtypes = [
            ctypes.c_wchar_p, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
        cfgmgr.CM_Get_Device_ID_ListW.restype = ctypes.c_ulong
        for _attempt in range(3):  # devices can appear between the two calls
            size = ctypes.c_ulong()
            status = cfgmgr.CM_Get_Device_ID_List_SizeW(ctypes.byref(size), None,
                                                        _CM_GETIDLIST_FILTER_PRESENT)
            if status != _CR_SUCCESS:
                raise OSError(f"CM_Get_Device_ID_List_SizeW failed: CONFIGRET {status:#x}")
            buffer = ctypes.create_unicode_buffer(size.value + 1)
            status = cfgmgr.CM_Get_Device_ID_ListW(None, buffer, size.value,
                                                   _CM_GETIDLIST_FILTER_PRESENT)
            if status == _CR_SUCCESS:
                # A multi-string: ids separated by NUL, ended by an empty string.
                text = ctypes.wstring_at(ctypes.addressof(buffer), size.value)
                return tuple(i for i in text.split("\x00") if i)
            if status != _CR_BUFFER_SMALL:
                raise OSError(f"CM_Get_Device_ID_ListW failed: CONFIGRET {status:#x}")
        raise OSError("device list kept changing while it was read")
    raise OSError("PnP devices are listed with the Windows API only")


def pci_vendor_ids(device_ids: tuple[str, ...]) -> tuple[str, ...]:
    vendors = {m.group(1).upper() for i in device_ids if (m := _PCI_VENDOR.match(i))}
    return tuple(sorted(vendors))


def loaded_drivers() -> tuple[str, ...]:
    """Base names of loaded kernel drivers without ".sys" (EnumDeviceDrivers)."""
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        psapi = ctypes.WinDLL("psapi", use_last_error=True)
        psapi.EnumDeviceDrivers.argtypes = [ctypes.POINTER(ctypes.c_void_p), wintypes.DWORD,
                                            ctypes.POINTER(wintypes.DWORD)]
        psapi.EnumDeviceDrivers.restype = wintypes.BOOL
        psapi.GetDeviceDriverBaseNameW.argtypes = [ctypes.c_void_p, wintypes.LPWSTR,
                                                   wintypes.DWORD]
        psapi.GetDeviceDriverBaseNameW.restype = wintypes.DWORD
        capacity = 1024
        while True:
            bases = (ctypes.c_void_p * capacity)()
            needed = wintypes.DWORD()
            if not psapi.EnumDeviceDrivers(bases, ctypes.sizeof(bases), ctypes.byref(needed)):
                raise ctypes.WinError(ctypes.get_last_error())
            count = needed.value // ctypes.sizeof(ctypes.c_void_p)
            if count <= capacity:
                break
            capacity = count + 64
        buffer = ctypes.create_unicode_buffer(260)

        def base_name(base: int) -> str:
            return buffer.value if psapi.GetDeviceDriverBaseNameW(base, buffer, 260) else ""

        return driver_names([b or 0 for b in bases[:count]], base_name)
    raise OSError("kernel drivers are listed with the Windows API only")


def driver_names(bases: list[int], base_name: Callable[[int], str]) -> tuple[str, ...]:
    """Names for the EnumDeviceDrivers load addresses (pure; tested on any OS).

    Windows 11 24H2 returns zeroed addresses to a standard user (kernel address
    restriction): that is "unavailable", not "no drivers loaded", or every driver signal
    would silently vanish.
    """
    if bases and not any(bases):
        raise OSError(f"EnumDeviceDrivers returned {len(bases)} zeroed addresses "
                      "(restricted for standard users since Windows 11 24H2)")
    names: list[str] = []
    for base in bases:
        if base and (name := base_name(base)):
            names.append(re.sub(r"\.sys$", "", name, flags=re.IGNORECASE))
    if bases and not names:
        raise OSError("no driver name readable for any loaded driver")
    return tuple(names)
