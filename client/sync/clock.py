"""Exam time is server time: an offset measured at each contact, applied to a monotonic clock.

The PC clock in a lab is often wrong by minutes or days and candidates can change it. The
client therefore anchors the server's time to ``time.monotonic_ns()`` at each contact and
never reads the wall clock for exam timing. The wall clock is only compared with the
server to tell the candidate that it is wrong.

The anchor is also saved to the data directory (``save_snapshot``), so that a client
restarted with no network (after a crash, or the client's own restart after a rendering
fallback) keeps the exam's time: in the same boot the monotonic clock simply continues;
after a reboot the last known PC-clock offset is the best estimate, never earlier than
the latest server time this PC had already seen.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PC_CLOCK_TOLERANCE_MS = 60_000
# psutil derives boot time from "now - uptime", so it moves when the wall clock moves;
# more than this and the PC is treated as rebooted (the safe assumption).
SAME_BOOT_TOLERANCE_S = 120.0


@dataclass(frozen=True)
class ClockReading:
    server_ms: int          # server time estimate
    pc_offset_ms: int       # PC wall clock minus server time (positive = PC is ahead)

    @property
    def pc_clock_wrong(self) -> bool:
        return abs(self.pc_offset_ms) > PC_CLOCK_TOLERANCE_MS


@dataclass(frozen=True)
class ClockSnapshot:
    """An anchor as saved to disk."""

    server_ms: int
    mono_ns: int
    pc_offset_ms: int
    boot_time_s: float
    estimated: bool  # True: never confirmed by a server answer (offline start code)


def _boot_time_s() -> float:
    import psutil  # imported here: only needed when an anchor is saved or restored

    return float(psutil.boot_time())


class ServerClock:
    """Thread-safe server-time estimate; ``now_ms()`` is None until the first contact."""

    def __init__(self, *, monotonic_ns: Callable[[], int] = time.monotonic_ns,
                 wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
                 boot_time_s: Callable[[], float] = _boot_time_s) -> None:
        self._monotonic_ns = monotonic_ns
        self._wall_ms = wall_ms
        self._boot_time_s = boot_time_s
        self._lock = threading.Lock()
        self._anchor: tuple[int, int] | None = None  # (server_ms, monotonic_ns) at contact
        self._anchor_sent_ns = -1  # when the request behind the anchor was sent
        self._pc_offset_ms = 0
        self._estimated = False
        self._contacts = 0

    def observe(self, *, server_ms: int, sent_mono_ns: int, received_mono_ns: int) -> None:
        """Record one contact: the server said *server_ms* between send and receive."""
        rtt = max(0, received_mono_ns - sent_mono_ns)
        midpoint = sent_mono_ns + rtt // 2
        with self._lock:
            # Responses can arrive out of order (the pusher and a login run concurrently):
            # one to a request sent before the current anchor's carries older knowledge.
            if sent_mono_ns < self._anchor_sent_ns:
                return
            self._anchor_sent_ns = sent_mono_ns
            # The server stamped its time somewhere in the round trip: the midpoint is the
            # best guess, off by at most rtt/2 (milliseconds on a LAN).
            self._anchor = (server_ms, midpoint)
            wall_at_midpoint = self._wall_ms() - (self._monotonic_ns() - midpoint) // 1_000_000
            self._pc_offset_ms = wall_at_midpoint - server_ms
            self._estimated = False
            self._contacts += 1

    def restore(self, *, server_ms: int, mono_ns: int, pc_offset_ms: int) -> None:
        """Re-use an anchor saved earlier in this boot (monotonic clocks restart on reboot)."""
        with self._lock:
            self._anchor = (server_ms, mono_ns)
            self._anchor_sent_ns = -1  # the next real contact always replaces it
            self._pc_offset_ms = pc_offset_ms

    def assume(self, server_ms: int) -> None:
        """With no server ever reached: take *server_ms* as "now" (an estimate).

        Used when a proctor opens the paper offline with the start code: the exam's time
        then runs from its official start on the monotonic clock (docs/offline.md).
        """
        with self._lock:
            if self._anchor is not None:
                return
            self._anchor = (server_ms, self._monotonic_ns())
            self._pc_offset_ms = self._wall_ms() - server_ms
            self._estimated = True

    @property
    def synchronised(self) -> bool:
        return self._anchor is not None

    @property
    def estimated(self) -> bool:
        """True while the time is a guess (restored after a reboot, or assumed offline)."""
        return self._estimated

    @property
    def contacts(self) -> int:
        """Server answers seen by this process (to tell "ever online" from "never")."""
        return self._contacts

    def server_ms_at_monotonic_zero(self) -> int | None:
        """The estimate itself: constant while time passes, it moves only when a contact
        or a restore corrects the clock (to tell a correction from the clock running)."""
        with self._lock:
            if self._anchor is None:
                return None
            server_ms, mono = self._anchor
        return server_ms - mono // 1_000_000

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

    # -- persistence ----------------------------------------------------------------------

    def snapshot(self) -> ClockSnapshot | None:
        with self._lock:
            if self._anchor is None:
                return None
            server_ms, mono = self._anchor
            return ClockSnapshot(server_ms=server_ms, mono_ns=mono,
                                 pc_offset_ms=self._pc_offset_ms,
                                 boot_time_s=self._boot_time_s(), estimated=self._estimated)

    def restore_snapshot(self, snapshot: ClockSnapshot, *, floor_ms: int | None = None) -> None:
        """Take over a saved anchor unless this clock already has a real one."""
        now_mono = self._monotonic_ns()
        same_boot = (now_mono >= snapshot.mono_ns and
                     abs(self._boot_time_s() - snapshot.boot_time_s) <= SAME_BOOT_TOLERANCE_S)
        with self._lock:
            if self._anchor is not None and not self._estimated:
                return
            if same_boot:
                # The file is the candidate's to edit (their profile): never before a
                # server time already seen, in the same boot as after a reboot.
                server_now = snapshot.server_ms + (now_mono - snapshot.mono_ns) // 1_000_000
                self._anchor = (max(server_now, floor_ms or 0), now_mono)
            else:
                # Rebooted: the monotonic clock restarted. The PC clock with the offset
                # measured last time is the best guess, but never before a server time
                # already seen (time must not run backwards for the candidate).
                guess = self._wall_ms() - snapshot.pc_offset_ms
                lowest = max(snapshot.server_ms, floor_ms or 0)
                self._anchor = (max(guess, lowest), now_mono)
            self._pc_offset_ms = snapshot.pc_offset_ms
            self._estimated = snapshot.estimated or not same_boot


def save_snapshot(path: Path, snapshot: ClockSnapshot) -> None:
    """Write atomically; a failure is logged, never raised (the exam goes on)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(snapshot)), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot save the server-clock anchor to %s: %s", path, exc)


def load_snapshot(path: Path) -> ClockSnapshot | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return ClockSnapshot(server_ms=int(doc["server_ms"]), mono_ns=int(doc["mono_ns"]),
                             pc_offset_ms=int(doc["pc_offset_ms"]),
                             boot_time_s=float(doc["boot_time_s"]),
                             estimated=bool(doc["estimated"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("server-clock anchor %s unreadable: %s", path, exc)
        return None
