"""Run blocking work off the UI thread and get the outcome back on it.

The UI thread never waits on disk or network: every session call that may block goes
through ``run_in_background``; its result or exception is delivered by a queued signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay
        self.setAutoDelete(True)

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # delivered to the UI, which decides what to show
            log.debug("background task failed: %r", exc)
            self._relay.failed.emit(exc)
        else:
            self._relay.succeeded.emit(result)


_live_relays: set[_Relay] = set()


def run_in_background(fn: Callable[[], Any], *, on_done: Callable[[Any], None],
                      on_error: Callable[[BaseException], None],
                      pool: QThreadPool | None = None) -> None:
    relay = _Relay()  # lives in the UI thread, so its signals are delivered there
    _live_relays.add(relay)

    def finish_ok(result: object) -> None:
        _live_relays.discard(relay)
        on_done(result)

    def finish_error(error: object) -> None:
        _live_relays.discard(relay)
        on_error(error)  # type: ignore[arg-type]

    relay.succeeded.connect(finish_ok)
    relay.failed.connect(finish_error)
    (pool or QThreadPool.globalInstance()).start(_Task(fn, relay))
