"""Display adapters and their monitors (EnumDisplayDevicesW), one entry per desktop output."""

from __future__ import annotations

import sys

from client.integrity.snapshot import DisplayInfo

if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    class _DISPLAY_DEVICEW(ctypes.Structure):
        _fields_ = [("cb", wintypes.DWORD), ("DeviceName", wintypes.WCHAR * 32),
                    ("DeviceString", wintypes.WCHAR * 128), ("StateFlags", wintypes.DWORD),
                    ("DeviceID", wintypes.WCHAR * 128), ("DeviceKey", wintypes.WCHAR * 128)]


def read_displays() -> tuple[DisplayInfo, ...]:
    """Every display output with its StateFlags; evaluate.py decides what counts.

    Internal vs external is not read (QueryDisplayConfig): the policy counts active
    desktop outputs, which sidesteps Safe Exam Browser's "single monitor counted as
    external" false positive (#1540, #1550). A cloned monitor shares one output.
    """
    if sys.platform == "win32":
        user32 = ctypes.WinDLL("user32", use_last_error=True)
        user32.EnumDisplayDevicesW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD,
                                               ctypes.POINTER(_DISPLAY_DEVICEW), wintypes.DWORD]
        user32.EnumDisplayDevicesW.restype = wintypes.BOOL
        displays: list[DisplayInfo] = []
        index = 0
        while True:
            adapter = _DISPLAY_DEVICEW()
            adapter.cb = ctypes.sizeof(_DISPLAY_DEVICEW)
            if not user32.EnumDisplayDevicesW(None, index, ctypes.byref(adapter), 0):
                break
            index += 1
            monitor = _DISPLAY_DEVICEW()
            monitor.cb = ctypes.sizeof(_DISPLAY_DEVICEW)
            monitor_id = ""
            if user32.EnumDisplayDevicesW(adapter.DeviceName, 0, ctypes.byref(monitor), 0):
                monitor_id = monitor.DeviceID
            displays.append(DisplayInfo(device_id=adapter.DeviceID, name=adapter.DeviceString,
                                        flags=int(adapter.StateFlags), monitor_id=monitor_id))
            if index > 64:  # a driver that never ends the enumeration must not hang the scan
                break
        return tuple(displays)
    raise OSError("displays are listed with the Windows API only")
