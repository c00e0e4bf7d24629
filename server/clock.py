"""The server's clock: every decision about exam time asks this, never ``time.time()``.

Tests hand ``live_server`` an :class:`OffsetClock` so they can move server time past an
exam's start or end without sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    """Wall-clock time of the server machine (kept right by NTP on a real server)."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class OffsetClock:
    """System time shifted by an adjustable offset; thread-safe."""

    def __init__(self, offset_ms: int = 0) -> None:
        self._lock = threading.Lock()
        self._offset_ms = offset_ms

    def now_ms(self) -> int:
        with self._lock:
            offset = self._offset_ms
        return time.time_ns() // 1_000_000 + offset

    def advance(self, *, ms: int) -> None:
        with self._lock:
            self._offset_ms += ms

    def set_now(self, epoch_ms: int) -> None:
        """Make ``now_ms()`` return *epoch_ms* at this moment (time keeps running from there)."""
        with self._lock:
            self._offset_ms = epoch_ms - time.time_ns() // 1_000_000
