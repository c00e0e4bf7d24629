"""StoreWriter: the one thread that owns the AnswerStore; the UI never waits for the disk.

- ``save(...)`` only enqueues; ``on_done`` runs on the writer thread exactly once, with the
  durable Revision, or with the exception when the value can never be saved (not JSON,
  or the writer closed while the disk was still full).
- A save that fails for a reason that may pass (disk full, I/O error, store locked or
  damaged) keeps the value in memory ("held"), reports the state (disk_full / failed) to
  ``on_status`` and retries with backoff; a newer value of the same question replaces the
  held one (its callbacks then get the newer revision). A store that failed other than
  by a full disk is closed and reopened through the factory, which may recover it.
- ``coalesce=True`` (essays): at most one revision per question per interval (1 s), and
  the latest value is written at the end of the interval, so the last keystroke is
  durable within about a second.
- Idle time is used for the rolling backup snapshot and the checkpoint after it: only
  after a pause of ``PAUSE_S`` without saves (a candidate reading or thinking), so a save
  never queues behind a checkpoint while the candidate clicks through answers; during
  continuous saving at least every ``MAX_WITHOUT_MAINTENANCE_S``.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from client.errors import UserFacingError
from client.i18n import _
from client.store.database import AnswerStore
from client.store.errors import StoreDiskFullError, StoreError, io_error
from client.store.model import JsonValue, Revision

log = logging.getLogger(__name__)

T = TypeVar("T")
DoneCallback = Callable[[Revision | BaseException], None]

DEFAULT_RETRY_DELAYS_S = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
_IDLE_WAKEUP_S = 1.0  # also how often an idle writer checks whether a snapshot is due
# Backup and checkpoint wait for this long a pause in saving (module doc): a checkpoint
# takes milliseconds to tens of milliseconds, which a save arriving meanwhile would wait for.
PAUSE_S = 0.3
MAX_WITHOUT_MAINTENANCE_S = 20.0


class SaveState(enum.Enum):
    SAVING = "saving"  # answers waiting to be written (essay coalescing)
    SAVED = "saved"  # everything the candidate entered is on disk
    DISK_FULL = "disk_full"  # held in memory, retrying
    FAILED = "failed"  # held in memory, retrying; the store could not be written/opened


@dataclass(frozen=True)
class WriterStatus:
    state: SaveState
    held: int = 0  # questions whose latest value is only in memory
    error: UserFacingError | None = None
    retry_in_s: float | None = None


@dataclass
class _Held:
    value: JsonValue
    server_time_ms: int | None
    due: float  # time.monotonic() at which it should be written
    callbacks: list[DoneCallback] = field(default_factory=list)


@dataclass(frozen=True)
class _Save:
    question_id: str
    value: JsonValue
    server_time_ms: int | None
    on_done: DoneCallback
    coalesce: bool


@dataclass(frozen=True)
class _Call:
    fn: Callable[[AnswerStore], Any]
    future: Future[Any]


@dataclass(frozen=True)
class _Flush:
    future: Future[None]


@dataclass(frozen=True)
class _Stop:
    pass


_Command = _Save | _Call | _Flush | _Stop


class StoreWriter:
    def __init__(
        self,
        store_factory: Callable[[], AnswerStore],
        *,
        on_status: Callable[[WriterStatus], None] | None = None,
        coalesce_interval_s: float = 1.0,
        retry_delays_s: tuple[float, ...] = DEFAULT_RETRY_DELAYS_S,
        name: str = "answer-store-writer",
    ) -> None:
        self._factory = store_factory
        self._on_status = on_status
        self._interval = coalesce_interval_s
        self._delays = retry_delays_s
        self._inbox: queue.SimpleQueue[_Command] = queue.SimpleQueue()
        self._ready: Future[None] = Future()
        self._lock = threading.Lock()  # guards _held (read by unsaved_answers) and _closed
        self._closed = False
        self._held: dict[str, _Held] = {}
        self._last_write: dict[str, float] = {}
        self._last_save_mono = float("-inf")  # when the last save command arrived
        self._last_maintenance_mono = time.monotonic()
        self._store: AnswerStore | None = None
        self._error: BaseException | None = None
        self._attempts = 0
        self._retry_at = 0.0
        self._status = WriterStatus(SaveState.SAVED)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- any thread ----------------------------------------------------------------------

    def save(
        self,
        *,
        question_id: str,
        value: JsonValue,
        server_time_ms: int | None,
        on_done: DoneCallback,
        coalesce: bool = False,
    ) -> None:
        """Queue a save; never blocks. *coalesce*: essay typing (see module doc)."""
        with self._lock:
            if not self._closed:
                self._inbox.put(_Save(question_id, value, server_time_ms, on_done, coalesce))
                return
        # After close() there is no writer thread: report on the caller's thread.
        _notify([on_done], StoreError("store.closed", _("答案保存已停止，无法再保存答案。")))

    def call(self, fn: Callable[[AnswerStore], T]) -> Future[T]:
        """Run fn(store) on the writer thread after everything queued before it. It sees
        the durable state; essay edits still inside their coalescing interval are not in
        it yet (use flush() first when that matters, e.g. export)."""
        future: Future[T] = Future()
        with self._lock:
            if not self._closed:
                self._inbox.put(_Call(fn, future))
                return future
        future.set_exception(StoreError("store.closed", _("答案保存已停止，无法再保存答案。")))
        return future

    def flush(self) -> Future[None]:
        """Write every held value now; fails with the store error if one cannot be."""
        future: Future[None] = Future()
        with self._lock:
            if not self._closed:
                self._inbox.put(_Flush(future))
                return future
        future.set_result(None)
        return future

    def ready(self) -> Future[None]:
        """Resolves when the store first opened, or with the error that stopped it.
        Wait on it before the exam starts, so a bad data directory shows up there."""
        return self._ready

    @property
    def status(self) -> WriterStatus:
        return self._status

    def unsaved_answers(self) -> dict[str, JsonValue]:
        """Latest values that are only in memory (for an emergency export)."""
        with self._lock:
            return {q: held.value for q, held in self._held.items()}

    def close(self, timeout: float | None = None) -> None:
        """Write everything held (one last try), close the store and stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._inbox.put(_Stop())
        self._thread.join(timeout)

    # -- writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        self._open_store()
        while True:
            timeout = self._next_wakeup() - time.monotonic()
            try:
                command = self._inbox.get(timeout=max(0.0, timeout))
            except queue.Empty:
                command = None
            if isinstance(command, _Stop):
                break
            if command is not None:
                self._handle(command)
            self._write_due(force=False)
            if self._inbox.empty() and self._store is not None and self._error is None:
                self._maintain_at_pause()
            self._publish()
        self._shutdown()

    def _maintain_at_pause(self) -> None:
        """Refresh the backup (and checkpoint after it) if due, at a pause in saving."""
        assert self._store is not None
        now = time.monotonic()
        if (now - self._last_save_mono < PAUSE_S
                and now - self._last_maintenance_mono < MAX_WITHOUT_MAINTENANCE_S):
            return
        self._last_maintenance_mono = now
        self._store.snapshot_if_due()

    def _handle(self, command: _Command) -> None:
        now = time.monotonic()
        if isinstance(command, _Save):
            self._last_save_mono = now
            self._hold(command, now)
        elif isinstance(command, _Call):
            self._run_call(command)
        elif isinstance(command, _Flush):
            self._write_due(force=True)
            if self._held:
                command.future.set_exception(self._error or io_error())
            else:
                command.future.set_result(None)

    def _hold(self, save: _Save, now: float) -> None:
        with self._lock:
            held = self._held.get(save.question_id)
            if save.coalesce:
                due = max(now, self._last_write.get(save.question_id, -1e9) + self._interval)
                if held is not None:
                    due = min(held.due, due)  # never postpone a pending write
            else:
                due = now
            if held is None:
                held = self._held[save.question_id] = _Held(save.value, save.server_time_ms, due)
            else:
                held.value, held.server_time_ms, held.due = save.value, save.server_time_ms, due
            held.callbacks.append(save.on_done)

    def _run_call(self, call: _Call) -> None:
        if not call.future.set_running_or_notify_cancel():
            return
        if self._store is None:
            self._open_store()
        if self._store is None:
            call.future.set_exception(self._error or io_error())
            return
        try:
            call.future.set_result(call.fn(self._store))
        except BaseException as exc:
            call.future.set_exception(exc)

    def _write_due(self, *, force: bool) -> None:
        now = time.monotonic()
        if self._error is not None and not force and now < self._retry_at:
            return
        if not self._held:
            return
        if self._store is None:
            self._open_store()
            if self._store is None:
                return
        for question_id, held in list(self._held.items()):
            if held.due > now and not force:
                continue
            try:
                revision = self._store.save(
                    question_id=question_id, value=held.value, server_time_ms=held.server_time_ms
                )
            except (ValueError, TypeError) as exc:  # not a JSON value: it can never be saved
                log.error("answer to %s cannot be stored: %s", question_id, exc)
                self._release(question_id, exc)
                continue
            except Exception as exc:
                self._failed(exc)
                return
            self._last_write[question_id] = time.monotonic()
            self._release(question_id, revision)
            self._error, self._attempts = None, 0

    def _release(self, question_id: str, result: Revision | BaseException) -> None:
        with self._lock:
            held = self._held.pop(question_id)
        _notify(held.callbacks, result)

    def _failed(self, exc: BaseException) -> None:
        error = exc if isinstance(exc, StoreError) else io_error(error=repr(exc))
        if not isinstance(error, StoreDiskFullError) and self._store is not None:
            # Disk full: the store is fine, wait for space. Anything else: reopen it
            # through the factory, which checks (and if need be recovers) the file.
            try:
                self._store.close()
            except Exception as close_exc:
                log.warning("closing the failed store: %s", close_exc)
            self._store = None
        delay = self._delays[min(self._attempts, len(self._delays) - 1)]
        self._attempts += 1
        self._retry_at = time.monotonic() + delay
        if self._error is None or type(self._error) is not type(error):
            log.error("answers held in memory (%d), retrying in %.1f s: %s",
                      len(self._held), delay, error)
        self._error = error

    def _open_store(self) -> None:
        try:
            self._store = self._factory()
        except Exception as exc:
            log.error("cannot open the answer store: %s", exc)
            self._failed(exc)
            if not self._ready.done():
                self._ready.set_exception(self._error or exc)
            return
        self._error, self._attempts = None, 0
        if not self._ready.done():
            self._ready.set_result(None)

    def _next_wakeup(self) -> float:
        now = time.monotonic()
        wakeup = now + _IDLE_WAKEUP_S
        if self._error is not None:
            wakeup = min(wakeup, self._retry_at) if self._held or self._store is None else wakeup
        elif self._held:
            wakeup = min(wakeup, min(held.due for held in self._held.values()))
        if self._last_save_mono + PAUSE_S > self._last_maintenance_mono:
            wakeup = min(wakeup, self._last_save_mono + PAUSE_S)  # the pause after saves
        return wakeup

    def _publish(self) -> None:
        if self._error is not None:
            state = (SaveState.DISK_FULL if isinstance(self._error, StoreDiskFullError)
                     else SaveState.FAILED)
            error = self._error if isinstance(self._error, UserFacingError) else None
            retry = max(0.0, self._retry_at - time.monotonic())
        else:
            state = SaveState.SAVING if self._held else SaveState.SAVED
            error, retry = None, None
        status = WriterStatus(state, len(self._held), error, retry)
        previous = self._status
        self._status = status
        if self._on_status is not None and (
            previous.state, previous.held, previous.error) != (state, status.held, error):
            try:
                self._on_status(status)
            except Exception:
                log.exception("status callback failed")

    def _shutdown(self) -> None:
        self._write_due(force=True)
        if self._held:
            error = self._error or io_error()
            log.error("closing with %d answers not saved: %s", len(self._held), error)
            for question_id in list(self._held):
                self._release(question_id, error)
        self._publish()
        if self._store is not None:
            try:
                self._store.close()
            except Exception as exc:
                log.error("closing the answer store: %s", exc)
            self._store = None
        if not self._ready.done():
            self._ready.set_exception(self._error or io_error())


def _notify(callbacks: list[DoneCallback], result: Revision | BaseException) -> None:
    for callback in callbacks:
        try:
            callback(result)
        except Exception:
            log.exception("save callback failed")
