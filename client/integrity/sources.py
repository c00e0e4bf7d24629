"""Every collector source behind a deadline, on its own worker thread.

Why: one Windows call that hangs (WMI-backed `platform.platform()` on Python 3.12, a camera
driver stuck in Media Foundation, a registry key locked by an antivirus) must neither stall
the pre-exam check at 正在检测 nor silently stop monitoring during the exam; and one source
that raises something unexpected (a TypeError because a library returned None) must not
hide the others. So each source runs on a daemon thread, its result is checked for the
type the snapshot expects, and anything else -- an exception of any class, a wrong type,
None, a timeout -- becomes a `SourceFailure` that the evaluation reports as
"source unavailable" (findings kind ``source_unavailable``).

A source whose previous call is still hanging is not started again (a hung driver call
would otherwise pile up one thread per scan); it is reported as still hanging until the
old call returns. Threads cannot be killed in Python, so a call that never returns keeps
one daemon thread for the life of the process: one per source at most.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

_T = TypeVar("_T")

DEFAULT_SOURCE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class SourceFailure:
    source: str  # "cameras", "processes", "snapshot" ...
    reason: str  # "TypeError: 'NoneType' object is not iterable", "no answer within 5 s"

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


class SourceUnavailable(Exception):
    def __init__(self, failure: SourceFailure) -> None:
        super().__init__(str(failure))
        self.failure = failure


@dataclass(frozen=True)
class Source(Generic[_T]):
    """One thing to read: the call, what a good answer looks like, what to use without one."""

    read: Callable[[], _T]
    check: Callable[[Any], _T]  # returns the value if it has the expected shape, else raises
    default: _T


class _Call:
    def __init__(self, label: str, read: Callable[[], Any]) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self._read = read
        self.thread = threading.Thread(target=self._run, name=f"integrity-source-{label}",
                                       daemon=True)

    def _run(self) -> None:
        try:
            self.value = self._read()
        except BaseException as exc:  # every failure is reported, none escapes
            self.error = exc
        finally:
            self.done.set()


class SourceRunner:
    """Runs sources in parallel, each on its own thread, all within one deadline."""

    def __init__(self, *, timeout_s: float = DEFAULT_SOURCE_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._hanging: dict[str, _Call] = {}
        self._lock = threading.Lock()

    def gather(self, sources: Mapping[str, Source[Any]]
               ) -> tuple[dict[str, Any], list[SourceFailure]]:
        """Values by label (the default where a source failed) and the failures."""
        calls: dict[str, _Call] = {}
        failures: list[SourceFailure] = []
        with self._lock:
            for label, source in sources.items():
                stuck = self._hanging.get(label)
                if stuck is not None and not stuck.done.is_set():
                    waited = time.monotonic() - stuck.started
                    failures.append(SourceFailure(
                        label, f"previous call still hanging after {waited:.0f} s"))
                    continue
                self._hanging.pop(label, None)
                call = _Call(label, source.read)
                calls[label] = call
                call.thread.start()
        deadline = time.monotonic() + self.timeout_s
        values: dict[str, Any] = {label: s.default for label, s in sources.items()}
        for label, call in calls.items():
            call.done.wait(max(0.0, deadline - time.monotonic()))
            failure = self._outcome(label, call, sources[label], values)
            if failure is not None:
                failures.append(failure)
        for failure in failures:
            log.info("integrity source unavailable: %s", failure)
        return values, failures

    def call(self, label: str, source: Source[_T]) -> _T:
        """One source; raises SourceUnavailable instead of returning its default."""
        values, failures = self.gather({label: source})
        if failures:
            raise SourceUnavailable(failures[0])
        value: _T = values[label]
        return value

    def _outcome(self, label: str, call: _Call, source: Source[Any],
                 values: dict[str, Any]) -> SourceFailure | None:
        if not call.done.is_set():
            with self._lock:
                self._hanging[label] = call
            return SourceFailure(label, f"no answer within {self.timeout_s:g} s")
        if call.error is not None:
            return SourceFailure(label, _describe(call.error))
        try:
            values[label] = source.check(call.value)
        except (TypeError, ValueError) as exc:
            return SourceFailure(label, f"unusable answer: {_describe(exc)}")
        return None


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# ------------------------------------------------------------------ answer checks


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def tuple_of(kind: type[_T]) -> Callable[[Any], tuple[_T, ...]]:
    """A check that accepts a list/tuple whose items are all *kind* (partial data is not)."""

    def check(value: Any) -> tuple[_T, ...]:
        if not isinstance(value, tuple | list):
            raise TypeError(f"expected a list of {kind.__name__}, got {type(value).__name__}")
        for item in value:
            if not isinstance(item, kind):
                raise TypeError(f"expected {kind.__name__} items, got {type(item).__name__}")
        return tuple(value)

    return check


def instance_of(kind: type[_T]) -> Callable[[Any], _T]:
    def check(value: Any) -> _T:
        if not isinstance(value, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return check


def pair_of(first: Callable[[Any], Any], second: Callable[[Any], Any]
            ) -> Callable[[Any], tuple[Any, Any]]:
    def check(value: Any) -> tuple[Any, Any]:
        if not isinstance(value, tuple) or len(value) != 2:
            raise TypeError(f"expected a pair, got {type(value).__name__}")
        return first(value[0]), second(value[1])

    return check


def mapping_of(key: type[Any], item: type[Any]) -> Callable[[Any], dict[Any, Any]]:
    def check(value: Any) -> dict[Any, Any]:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a mapping, got {type(value).__name__}")
        for k, v in value.items():
            if not isinstance(k, key) or not isinstance(v, item):
                raise TypeError(f"expected {key.__name__} -> {item.__name__} entries")
        return dict(value)

    return check
