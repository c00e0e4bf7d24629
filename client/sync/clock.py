"""Exam time is server time: an offset measured at each contact, applied to a monotonic clock.

The PC clock in a lab is often wrong by minutes or days and candidates can change it. The
client therefore anchors the server's time to ``time.monotonic_ns()`` at each contact and
never reads the wall clock for exam timing. The wall clock is only compared with the
server to tell the candidate that it is wrong.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

PC_CLOCK_TOLERANCE_MS = 60_000


@dataclass(frozen=True)
class ClockReading:
    server_ms: int          # server time estimate
    pc_offset_ms: int       # PC wall clock minus server time (positive = PC is ahead)

    @property
    def pc_clock_wrong(self) -> bool:
        return abs(self.pc_offset_ms) > PC_CLOCK_TOLERANCE_MS


class ServerClock:
    """Thread-safe server-time estimate; ``now_ms()`` is None until the first contact."""

    def __init__(self, *, monotonic_ns: Callable[[], int] = time.monotonic_ns,
                 wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000) -> None:
        self._monotonic_ns = monotonic_ns
        self._wall_ms = wall_ms
        self._lock = threading.Lock()
        self._anchor: tuple[int, int] | None = None  # (server_ms, monotonic_ns) at contact
        self._pc_offset_ms = 0

    def observe(self, *, server_ms: int, sent_mono_ns: int, received_mono_ns: int) -> None:
        """Record one contact: the server said *server_ms* between send and receive."""
        rtt = max(0, received_mono_ns - sent_mono_ns)
        midpoint = sent_mono_ns + rtt // 2
        with self._lock:
            # The server stamped its time somewhere in the round trip: the midpoint is the
            # best guess, off by at most rtt/2 (milliseconds on a LAN).
            self._anchor = (server_ms, midpoint)
            wall_at_midpoint = self._wall_ms() - (self._monotonic_ns() - midpoint) // 1_000_000
            self._pc_offset_ms = wall_at_midpoint - server_ms

    def restore(self, *, server_ms: int, mono_ns: int, pc_offset_ms: int) -> None:
        """Re-use an anchor saved earlier in this boot (monotonic clocks restart on reboot)."""
        with self._lock:
            self._anchor = (server_ms, mono_ns)
            self._pc_offset_ms = pc_offset_ms

    @property
    def synchronised(self) -> bool:
        return self._anchor is not None

    def now_ms(self) -> int | None:
        with self._lock:
            if self._anchor is None:
                return None
            server_ms, mono = self._anchor
        return server_ms + (self._monotonic_ns() - mono) // 1_000_000

    def reading(self) -> ClockReading | None:
        now = self.now_ms()
        if now is None:
            return None
        return ClockReading(server_ms=now, pc_offset_ms=self._pc_offset_ms)
