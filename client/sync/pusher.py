"""Background upload of the answer outbox: batches, retries, backoff with jitter.

Every revision stays in the local store until the server acknowledges it by
(question, revision); the server keeps the highest revision per question, so a batch
replayed after a lost acknowledgement changes nothing. The pusher never blocks the UI:
it runs on its own thread and reports a SyncStatus through a callback.

Load: at most one upload per interval, carrying every revision saved since the last one
(typing an essay saves about once a second; uploading each save multiplied a hall's load
3-10 times). Each wait is jittered so a room that started together does not upload in
step. Sooner only when asked (:meth:`AnswerPusher.push_now` at submission, or
:meth:`AnswerPusher.flush` at the end). A server that answers ``429`` with
``Retry-After`` is not asked again before that time.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from client.errors import UserFacingError

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 3.0  # when the exam package does not say (a package from an older server)
# The interval comes from the signed package header (``extra["sync"]["interval_s"]``, set
# by the server operator): it sizes the server's load, so neither the candidate nor a PC's
# config may shorten it. The bounds only keep a mistyped server setting harmless.
SYNC_EXTRA_KEY = "sync"
MIN_INTERVAL_S = 0.2
MAX_INTERVAL_S = 300.0
JITTER = 0.25  # each wait is the interval x a random factor in [1 - JITTER, 1 + JITTER]
MAX_BATCH_REVISIONS = 500
# Under the server's 8 MiB body limit for an upload (server/request_limits.py).
MAX_BATCH_BYTES = 4 * 1024 * 1024


def interval_from_package(extra: Mapping[str, Any], *, fallback: float) -> float:
    """The upload interval the exam's signed package header sets, within the bounds;
    *fallback* for a package without one (or with a value that is not a number)."""
    section = extra.get(SYNC_EXTRA_KEY)
    value = section.get("interval_s") if isinstance(section, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return fallback
    return min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, float(value)))


@dataclass(frozen=True)
class SyncStatus:
    state: str                      # "synced" | "pending" | "offline" | "refused"
    pending: int                    # revisions not yet acknowledged
    offline_since_ms: int | None    # server-time estimate of the first failure
    last_synced_ms: int | None
    error: str | None = None        # code of the last failure


class Outbox(Protocol):
    """What the pusher needs from the store (provided by client/store's StoreWriter)."""

    def unsynced_batch(self, limit: int) -> Sequence[dict[str, Any]]: ...
    def acknowledge(self, acks: Sequence[tuple[str, int]]) -> int: ...  # returns pending left
    def pending_count(self) -> int: ...  # every unacknowledged revision, not one batch


class PushResult(Protocol):
    """What one upload did (client/sync/api.py PushOutcome)."""

    @property
    def acked(self) -> list[tuple[str, int]]: ...
    @property
    def rejected(self) -> list[tuple[str, int]]: ...


@dataclass(frozen=True)
class Backoff:
    base_s: float = 1.0
    cap_s: float = 60.0

    def delay(self, failures: int, rng: random.Random) -> float:
        # "Full jitter": 100 PCs that lost the network together must not retry together.
        return float(rng.uniform(0, min(self.cap_s, self.base_s * 2 ** min(failures, 16))))


def retry_after_s(error: UserFacingError) -> float | None:
    """The server's ``Retry-After`` carried by a refusal (client/sync/api.py), if any."""
    value = error.detail.get("retry_after_s")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


class AnswerPusher:
    def __init__(self, *, outbox: Outbox, push: Callable[[list[dict[str, Any]]], PushResult],
                 now_ms: Callable[[], int], interval_s: float,
                 on_status: Callable[[SyncStatus], None],
                 batch_size: int = MAX_BATCH_REVISIONS,
                 backoff: Backoff = Backoff(), rng: random.Random | None = None) -> None:
        self._outbox = outbox
        self._push = push
        self._now_ms = now_ms
        self._interval_s = interval_s
        self._on_status = on_status
        self._batch_size = batch_size
        self._backoff = backoff
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._failures = 0
        self._offline_since: int | None = None
        self._last_synced: int | None = None
        self._pending = 0
        self._paused = False
        self._retry_after_s: float | None = None
        self._busy = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="answer-pusher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """A new revision was saved. It goes with the next upload, at the interval: a
        save does not cause an upload of its own."""

    def flush(self) -> None:
        """Upload now, not at the next interval (the end of the exam)."""
        self._wake.set()

    def note_pending(self, pending: int) -> None:
        """A save just made *pending* revisions unacknowledged: say so now, even while an
        upload hangs (the indicator must not keep saying "synced" until it times out)."""
        if pending <= 0:
            return
        self._pending = pending
        state = "offline" if self._offline_since is not None else "pending"
        self._on_status(SyncStatus(state=state, pending=pending,
                                   offline_since_ms=self._offline_since,
                                   last_synced_ms=self._last_synced))

    def pause(self, paused: bool) -> None:
        self._paused = paused
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def push_now(self) -> SyncStatus:
        """Push everything synchronously on the caller's (worker) thread; used by submit.

        Serialised with the background thread, so one batch is never sent twice at once.
        """
        with self._busy:
            before: int | None = None
            while True:
                status = self._push_once()
                if status.state != "pending" or status.pending == 0:
                    return status
                if before is not None and status.pending >= before:
                    return status  # no progress: do not spin
                before = status.pending

    def _run(self) -> None:
        # The first wait is jittered too: PCs that logged in together spread out.
        self._wake.wait(self._jittered(self._interval_s))
        self._wake.clear()
        while not self._stopping.is_set():
            delay = self._jittered(self._interval_s)
            if not self._paused:
                with self._busy:
                    status = self._push_once()
                if status.state in ("offline", "refused"):
                    delay = self._jittered(max(self._backoff.delay(self._failures, self._rng),
                                               0.2))
                    if self._retry_after_s is not None:
                        # Jitter only upwards here: Retry-After is a floor the server set.
                        delay = max(delay, self._retry_after_s * self._rng.uniform(1.0, 1.2))
            self._wake.wait(delay)
            self._wake.clear()

    def _jittered(self, delay: float) -> float:
        return delay * self._rng.uniform(1 - JITTER, 1 + JITTER)

    def _batch(self) -> list[dict[str, Any]]:
        """The oldest unsent revisions, at most MAX_BATCH_BYTES of them (at least one)."""
        batch = list(self._outbox.unsynced_batch(self._batch_size))
        size = 0
        for index, revision in enumerate(batch):
            size += len(json.dumps(revision, ensure_ascii=False, default=str).encode())
            if size > MAX_BATCH_BYTES and index > 0:
                return batch[:index]
        return batch

    def _push_once(self) -> SyncStatus:
        batch = self._batch()
        if not batch:
            return self._report("synced", 0)
        try:
            result = self._push(batch)
        except UserFacingError as exc:
            self._retry_after_s = retry_after_s(exc)
            self._failures += 1
            if self._offline_since is None:
                self._offline_since = self._now_ms()
            state = "offline" if exc.code.startswith(("net.", "tls.")) else "refused"
            log.info("answer upload failed (%s), %d pending", exc.code, len(batch))
            try:
                pending = self._outbox.pending_count()
            except Exception as count_error:  # the store failing too: say at least the batch
                log.warning("pending count unavailable: %s", count_error)
                pending = max(self._pending, len(batch))
            return self._report(state, pending, error=exc.code)
        self._failures = 0
        self._retry_after_s = None
        self._offline_since = None
        if result.rejected:
            # Made after the end by the server's rules: never accepted, so never resent.
            log.warning("server refused %d revisions made after the end: %s",
                        len(result.rejected), result.rejected)
        pending = self._outbox.acknowledge([*result.acked, *result.rejected])
        self._last_synced = self._now_ms()
        return self._report("pending" if pending else "synced", pending)

    def _report(self, state: str, pending: int, *, error: str | None = None) -> SyncStatus:
        self._pending = pending
        status = SyncStatus(state=state, pending=pending, offline_since_ms=self._offline_since,
                            last_synced_ms=self._last_synced, error=error)
        self._on_status(status)
        return status
