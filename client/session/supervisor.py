"""The session's own clock-watcher: announce the start, seal at the end time, submit when
the server allows.

The UI also submits at the end, but the answers must not depend on it: if the window is
busy, minimised or restarting, this thread still seals the answers at the server's end
time and keeps trying to submit (with backoff and jitter) until the server confirms.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from client.sync.pusher import Backoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SupervisorHooks:
    ms_until_end: Callable[[], int | None]
    is_running: Callable[[], bool]       # answering is still allowed
    wants_submit: Callable[[], bool]     # sealed, not yet confirmed by the server
    seal: Callable[[], None]
    submit: Callable[[], object]         # raises while it cannot submit
    save_clock: Callable[[], None]
    wants_reconnect: Callable[[], bool]  # an offline login that has not reached the server
    reconnect: Callable[[], object]      # one background login attempt
    watch_time: Callable[[], None]       # announce the start time reached, a moved end


SUBMIT_BACKOFF = Backoff(base_s=1.0, cap_s=15.0)


class SessionSupervisor:
    def __init__(self, hooks: SupervisorHooks, *, tick_s: float = 0.25,
                 backoff: Backoff = SUBMIT_BACKOFF,
                 clock_save_interval_s: float = 60.0, reconnect_interval_s: float = 10.0,
                 rng: random.Random | None = None) -> None:
        self._reconnect_interval_s = reconnect_interval_s
        self._hooks = hooks
        self._tick_s = tick_s
        self._backoff = backoff
        self._clock_save_interval_s = clock_save_interval_s
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.last_submit_error: BaseException | None = None  # why it has not submitted yet
        self._thread = threading.Thread(target=self._run, name="session-supervisor",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Something changed (network back, sealed): look again now."""
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        failures = 0
        next_submit = 0.0
        last_clock_save = last_reconnect = time.monotonic()
        while not self._stop.is_set():
            elapsed = time.monotonic()
            try:
                self._hooks.watch_time()
                if self._hooks.is_running():
                    left = self._hooks.ms_until_end()
                    if left is not None and left <= 0:
                        log.info("end time reached: sealing the answers")
                        self._hooks.seal()
                if self._hooks.wants_submit() and elapsed >= next_submit:
                    try:
                        self._hooks.submit()
                        failures = 0
                        self.last_submit_error = None
                    except Exception as exc:  # offline, pending uploads, server refusal
                        self.last_submit_error = exc
                        failures += 1
                        next_submit = elapsed + max(
                            0.5, self._backoff.delay(failures, self._rng))
                        log.info("automatic submission not done yet (%s)",
                                 getattr(exc, "code", type(exc).__name__))
                if (self._hooks.wants_reconnect()
                        and elapsed - last_reconnect >= self._reconnect_interval_s):
                    # Offline, before the paper is open (the pusher is not running yet):
                    # once the server answers, unlock gets the paper key the normal way.
                    last_reconnect = elapsed
                    self._hooks.reconnect()
                if elapsed - last_clock_save >= self._clock_save_interval_s:
                    last_clock_save = elapsed
                    self._hooks.save_clock()
            except Exception:  # the supervisor must outlive any one failure
                log.exception("session supervisor step failed")
            if self._wake.wait(self._tick_s):
                self._wake.clear()
                next_submit = 0.0  # poked: try again now
