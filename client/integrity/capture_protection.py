"""Keep exam windows out of screenshots, screen sharing and recording (Windows).

SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE) makes the window absent from any
capture (Windows 10 2004+); older builds reject that value, and WDA_MONITOR (the window
captures as black) is the fallback. Only a top-level window of this process can be
protected; the UI passes int(widget.winId()) of each exam window.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

WDA_MONITOR = 0x00000001
WDA_EXCLUDEFROMCAPTURE = 0x00000011

Mode = Literal["exclude_from_capture", "monitor", "unsupported", "failed"]


@dataclass(frozen=True)
class CaptureProtection:
    mode: Mode
    detail: str

    @property
    def protected(self) -> bool:
        return self.mode in ("exclude_from_capture", "monitor")


def protect_window(hwnd: int) -> CaptureProtection:
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        user32 = ctypes.WinDLL("user32", use_last_error=True)
        user32.SetWindowDisplayAffinity.argtypes = [wintypes.HWND, wintypes.DWORD]
        user32.SetWindowDisplayAffinity.restype = wintypes.BOOL
        if user32.SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE):
            return CaptureProtection("exclude_from_capture", "WDA_EXCLUDEFROMCAPTURE")
        first_error = ctypes.get_last_error()
        if user32.SetWindowDisplayAffinity(hwnd, WDA_MONITOR):
            return CaptureProtection(
                "monitor", f"WDA_MONITOR (WDA_EXCLUDEFROMCAPTURE failed: error {first_error})")
        return CaptureProtection(
            "failed", f"SetWindowDisplayAffinity failed: errors {first_error}, "
            f"{ctypes.get_last_error()}")
    return CaptureProtection(
        "unsupported", f"capture exclusion is only available on Windows, not {sys.platform}")
