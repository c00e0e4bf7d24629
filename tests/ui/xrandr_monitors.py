"""A second monitor plugged in and unplugged on a real X server (Xvfb), for the tests:
RandR 1.5 monitors set and deleted through libXrandr (ctypes), which the X server
announces as a screen change and Qt's xcb platform turns into QScreens (screenAdded,
screenRemoved) as it does for a real monitor. No such call exists for Qt's offscreen
platform."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager

_V = ctypes.c_void_p
_U = ctypes.c_ulong


class _Monitor(ctypes.Structure):
    _fields_ = [("name", _U), ("primary", ctypes.c_int), ("automatic", ctypes.c_int),
                ("noutput", ctypes.c_int), ("x", ctypes.c_int), ("y", ctypes.c_int),
                ("width", ctypes.c_int), ("height", ctypes.c_int), ("mwidth", ctypes.c_int),
                ("mheight", ctypes.c_int), ("outputs", ctypes.POINTER(_U))]


class _Resources(ctypes.Structure):
    _fields_ = [("timestamp", _U), ("configTimestamp", _U), ("ncrtc", ctypes.c_int),
                ("crtcs", ctypes.POINTER(_U)), ("noutput", ctypes.c_int),
                ("outputs", ctypes.POINTER(_U))]


class XDisplay:
    def __init__(self) -> None:
        self._x = ctypes.CDLL("libX11.so.6")
        self._rr = ctypes.CDLL("libXrandr.so.2")
        x, rr = self._x, self._rr
        x.XOpenDisplay.restype, x.XOpenDisplay.argtypes = _V, [ctypes.c_char_p]
        x.XDefaultRootWindow.restype, x.XDefaultRootWindow.argtypes = _U, [_V]
        x.XInternAtom.restype, x.XInternAtom.argtypes = _U, [_V, ctypes.c_char_p, ctypes.c_int]
        x.XFlush.argtypes = [_V]
        x.XSync.argtypes = [_V, ctypes.c_int]
        x.XCloseDisplay.argtypes = [_V]
        rr.XRRQueryVersion.argtypes = [_V, ctypes.POINTER(ctypes.c_int),
                                       ctypes.POINTER(ctypes.c_int)]
        rr.XRRGetMonitors.restype = ctypes.POINTER(_Monitor)
        rr.XRRGetMonitors.argtypes = [_V, _U, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        rr.XRRFreeMonitors.argtypes = [ctypes.POINTER(_Monitor)]
        rr.XRRAllocateMonitor.restype = ctypes.POINTER(_Monitor)
        rr.XRRAllocateMonitor.argtypes = [_V, ctypes.c_int]
        rr.XRRSetMonitor.argtypes = [_V, _U, ctypes.POINTER(_Monitor)]
        rr.XRRDeleteMonitor.argtypes = [_V, _U, _U]
        rr.XRRGetScreenResources.restype = ctypes.POINTER(_Resources)
        rr.XRRGetScreenResources.argtypes = [_V, _U]
        rr.XRRFreeScreenResources.argtypes = [ctypes.POINTER(_Resources)]
        rr.XRRSetOutputPrimary.argtypes = [_V, _U, _U]
        self._display = x.XOpenDisplay(None)
        if not self._display:
            raise OSError("no X display")
        self._root = x.XDefaultRootWindow(self._display)

    def randr_version(self) -> tuple[int, int]:
        major, minor = ctypes.c_int(), ctypes.c_int()
        if not self._rr.XRRQueryVersion(self._display, ctypes.byref(major), ctypes.byref(minor)):
            return (0, 0)
        return major.value, minor.value

    def monitors(self) -> list[tuple[int, int, int, int, bool]]:
        count = ctypes.c_int()
        found = self._rr.XRRGetMonitors(self._display, self._root, 0, ctypes.byref(count))
        result = [(found[i].x, found[i].y, found[i].width, found[i].height,
                   bool(found[i].primary)) for i in range(count.value)]
        self._rr.XRRFreeMonitors(found)
        return result

    def mark_first_output_primary(self) -> None:
        """As a lab PC's X server has it: the monitor the desktop starts on is primary."""
        resources = self._rr.XRRGetScreenResources(self._display, self._root)
        if resources.contents.noutput:
            self._rr.XRRSetOutputPrimary(self._display, self._root,
                                         resources.contents.outputs[0])
        self._rr.XRRFreeScreenResources(resources)
        self._x.XSync(self._display, 0)

    @contextmanager
    def monitor_plugged_in(self, name: str, *, x: int, y: int, width: int,
                           height: int) -> Iterator[None]:
        atom = self._x.XInternAtom(self._display, name.encode(), 0)
        monitor = self._rr.XRRAllocateMonitor(self._display, 0)
        info = monitor.contents
        info.name, info.x, info.y, info.width, info.height = atom, x, y, width, height
        info.mwidth, info.mheight = width * 254 // 960, height * 254 // 960  # 96 dpi, in mm
        self._rr.XRRSetMonitor(self._display, self._root, monitor)
        self._x.XSync(self._display, 0)
        try:
            yield
        finally:
            self.unplug(name)

    def unplug(self, name: str) -> None:
        atom = self._x.XInternAtom(self._display, name.encode(), 0)
        self._rr.XRRDeleteMonitor(self._display, self._root, atom)
        self._x.XSync(self._display, 0)

    def close(self) -> None:
        self._x.XCloseDisplay(self._display)
