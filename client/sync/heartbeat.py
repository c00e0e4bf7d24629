"""The PC's light channel to the server: a heartbeat at a jittered interval.

Each beat tells the server this PC is alive (the console shows an idle but connected PC
as connected, not 失去联系) and brings back the attempt's clock: the effective end time
(extra time, pauses) and whether a proctor paused the attempt. The end time and the pause
come only from the server's authenticated answer; nothing the candidate controls sets them.

Runs on its own thread and never blocks the UI. A server that answers ``429`` with
``Retry-After`` is not asked again before that time; while it cannot be reached, beats
back off (with full jitter, as the answer pusher does) up to the cap.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from client.errors import UserFacingError
from client.sync.pusher import Backoff, retry_after_s

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 12.0  # [sync] heartbeat_seconds when the machine config does not say
JITTER = 0.2  # each wait is the interval x a random factor in [1 - JITTER, 1 + JITTER]
HEARTBEAT_BACKOFF = Backoff(base_s=2.0, cap_s=60.0)

R = TypeVar("R")  # what one beat brings back (client/sync/api.py HeartbeatReply)


class HeartbeatPoller(Generic[R]):
    """Calls *beat* about every *interval_s* seconds and hands each reply to *on_reply*.

    *beat* does the request (and whatever login it needs first); a UserFacingError from it
    is a failed beat: reported to *on_failure*, retried later. Anything else is a bug in
    *beat*: logged, and the poller keeps going (it must outlive one failure).
    """

    def __init__(self, *, beat: Callable[[], R], on_reply: Callable[[R], None],
                 interval_s: float = DEFAULT_INTERVAL_S,
                 on_failure: Callable[[UserFacingError], None] = lambda error: None,
                 backoff: Backoff = HEARTBEAT_BACKOFF,
                 rng: random.Random | None = None) -> None:
        self._beat = beat
        self._on_reply = on_reply
        self._on_failure = on_failure
        self._interval_s = interval_s
        self._backoff = backoff
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._failures = 0
        self.beats = 0  # successful beats (diagnostics, tests)
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def beat_soon(self) -> None:
        """Beat now rather than at the next interval (e.g. the network came back)."""
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def next_delay_s(self, *, retry_after: float | None) -> float:
        """The wait before the next beat, after a success (no failures) or a failure."""
        delay = self._interval_s * self._rng.uniform(1 - JITTER, 1 + JITTER)
        if self._failures:
            delay = max(delay, self._backoff.delay(self._failures, self._rng))
        if retry_after is not None:
            # Jitter only upwards: Retry-After is a floor the server set.
            delay = max(delay, retry_after * self._rng.uniform(1.0, 1.2))
        return delay

    def beat_once(self) -> float | None:
        """One beat on the caller's thread; returns the server's Retry-After, if any."""
        try:
            reply = self._beat()
        except UserFacingError as exc:
            self._failures += 1
            log.info("heartbeat failed (%s)", exc.code)
            self._on_failure(exc)
            return retry_after_s(exc)
        self._failures = 0
        self.beats += 1
        self._on_reply(reply)
        return None

    def _run(self) -> None:
        # The first beat soon but not at once: PCs that logged in together spread out.
        self._wake.wait(self._rng.uniform(0.0, min(self._interval_s, 2.0)))
        self._wake.clear()
        while not self._stopping.is_set():
            retry_after: float | None = None
            try:
                retry_after = self.beat_once()
            except Exception:
                log.exception("heartbeat step failed")
            self._wake.wait(self.next_delay_s(retry_after=retry_after))
            self._wake.clear()
