"""Background upload of the review outbox: identity results, camera events, integrity findings.

One thread. Each round sends everything pending, oldest first per kind (identity
results first: they decide the most), marks what the server acknowledged, and sleeps:
the idle interval when all went well (a newly queued item wakes it at once), or a
growing, jittered backoff after a failure, so that a room of PCs coming back from a
network outage does not arrive in step. Every item carries its event id and the server
keeps the first copy of each, so an item sent twice (acknowledgement lost) is stored once.

HTTP is injected as ``post_json(path, body) -> dict``: any exception means "not
delivered"; an exception with ``status`` 400/413/415/422 means the server refuses the item
for good (it is kept locally, marked refused, and never sent again). Everything else
(offline, timeouts, 5xx, 401 before a re-login) is retried.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from client.review.outbox import (
    BlobStore,
    Kind,
    OutboxItem,
    StoreRunner,
    load_items,
    mark_acked,
    mark_rejected,
    pending_keys,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
PostJson = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]

ENDPOINTS: dict[Kind, str] = {
    "identity": "/attempt/identity",
    "camera": "/attempt/camera-events",
    "integrity": "/attempt/integrity-events",
}
ROUND_ORDER: tuple[Kind, ...] = ("identity", "integrity", "camera")
PERMANENT_STATUSES = frozenset({400, 413, 415, 422})
STORE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Backoff:
    """Delays in seconds. After the n-th failure in a row the wait is drawn from
    [cap/2, cap] with cap = min(max_s, initial_s * 2**(n-1)) ("equal jitter": spread out,
    but never an immediate hammering retry)."""

    initial_s: float = 2.0
    max_s: float = 300.0
    idle_s: float = 60.0

    def delay(self, failures: int, rng: random.Random) -> float:
        if failures <= 0:
            return self.idle_s
        cap = min(self.max_s, self.initial_s * 2.0 ** min(failures - 1, 30))
        return cap / 2 + rng.uniform(0, cap / 2)


@dataclass(frozen=True)
class RoundReport:
    delivered: int = 0
    rejected: int = 0
    failed: bool = False        # a retryable failure ended the round early
    error: str | None = None


def is_permanent(exc: BaseException) -> bool:
    status = getattr(exc, "status", None)
    return isinstance(status, int) and status in PERMANENT_STATUSES


def refusal_code(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) and code else f"http_{getattr(exc, 'status', '')}"


class _RoundFailed(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(repr(cause))
        self.cause = cause


class ReviewUploader:
    def __init__(
        self,
        *,
        run_on_store: StoreRunner,
        post_json: PostJson,
        client_id: str,
        backoff: Backoff | None = None,
        batch_size: int = 20,
        rng: random.Random | None = None,
        on_round: Callable[[RoundReport], None] | None = None,
        wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        name: str = "review-uploader",
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self._run = run_on_store
        self._post = post_json
        self._client_id = client_id
        self._backoff = backoff or Backoff()
        self._batch = batch_size
        self._rng = rng or random.Random()
        self._on_round = on_round
        self._wall_ms = wall_ms
        self._name = name
        self._signal = threading.Event()
        self._stop = False
        self._wake_requested = False
        self._force = False
        self._lock = threading.Lock()
        self._round_lock = threading.Lock()   # upload_once may also be called directly
        self._thread: threading.Thread | None = None
        self.failures = 0                     # consecutive failed rounds (for a status line)

    # -- control (any thread) -------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("uploader already started")
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def wake(self, *, even_in_backoff: bool = False) -> None:
        """Something was queued: upload soon. During a failure backoff only
        *even_in_backoff* (e.g. the network just came back) cuts the wait short."""
        with self._lock:
            self._wake_requested = True
            self._force = self._force or even_in_backoff
        self._signal.set()

    def stop(self, *, timeout: float = 5.0) -> None:
        with self._lock:
            self._stop = True
        self._signal.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- one round --------------------------------------------------------------------------

    def upload_once(self) -> RoundReport:
        """Send everything pending now; never raises (a failure is in the report)."""
        with self._round_lock:
            delivered = rejected = 0
            try:
                keys = self._store(lambda store: pending_keys(store))
                for kind in ROUND_ORDER:
                    mine = [k for k in keys if k[0] == kind]
                    size = 1 if kind == "identity" else self._batch   # identity: large images
                    for start in range(0, len(mine), size):
                        items = self._store(partial(load_items, keys=mine[start:start + size]))
                        if items:
                            done, refused = self._deliver(kind, items)
                            delivered += done
                            rejected += refused
            except _RoundFailed as failed:
                log.info("review upload paused: %s", failed.cause)
                return RoundReport(delivered, rejected, failed=True, error=repr(failed.cause))
            return RoundReport(delivered, rejected)

    def _store(self, fn: Callable[[BlobStore], T]) -> T:
        try:
            return self._run(fn).result(timeout=STORE_TIMEOUT_S)
        except Exception as exc:  # store closed or busy: try again next round
            raise _RoundFailed(exc) from exc

    def _send(self, kind: Kind, items: Sequence[OutboxItem]) -> list[str]:
        """POST the items; returns the acknowledged event ids."""
        path = ENDPOINTS[kind]
        if kind == "identity":
            (item,) = items
            answer = self._post(path, {**item.request_entry(), "client_id": self._client_id})
            return [item.event_id] if answer.get("event_id") == item.event_id else []
        body = {"client_id": self._client_id, "events": [i.request_entry() for i in items]}
        answer = self._post(path, body)
        acked = answer.get("acked")
        sent = {i.event_id for i in items}
        return [str(e) for e in acked if str(e) in sent] if isinstance(acked, list) else []

    def _deliver(self, kind: Kind, items: Sequence[OutboxItem]) -> tuple[int, int]:
        try:
            acked = self._send(kind, items)
        except Exception as exc:
            if not is_permanent(exc):
                raise _RoundFailed(exc) from exc
            if len(items) > 1:
                # One bad item must not hold back the others: send them one by one.
                results = [self._deliver(kind, [item]) for item in items]
                return sum(r[0] for r in results), sum(r[1] for r in results)
            code = refusal_code(exc)
            log.error("server refused %s item %s for good: %s", kind, items[0].event_id, code)
            self._store(lambda store: mark_rejected(store, kind, items[0].event_id, code=code))
            return 0, 1
        if acked:
            now = self._wall_ms()
            self._store(lambda store: mark_acked(store, kind, acked, at_ms=now))
        return len(acked), 0

    # -- the thread -------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._stop:
                    return
                self._wake_requested = self._force = False
            try:
                report = self.upload_once()
            except Exception as exc:  # never let the uploader die during an exam
                log.exception("review upload round failed")
                report = RoundReport(failed=True, error=repr(exc))
            self.failures = self.failures + 1 if report.failed else 0
            if self._on_round is not None:
                try:
                    self._on_round(report)
                except Exception:
                    log.exception("review upload listener failed")
            self._sleep(self._backoff.delay(self.failures, self._rng), failing=report.failed)

    def _sleep(self, seconds: float, *, failing: bool) -> None:
        deadline = time.monotonic() + seconds
        while True:
            with self._lock:
                if self._stop:
                    return
                if self._force or (self._wake_requested and not failing):
                    return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._signal.wait(remaining)
            self._signal.clear()
