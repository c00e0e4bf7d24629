"""In-exam monitoring: processes and session every few seconds, devices every 30-60 s.

The cheap tick compares pid sets and inspects only new pids (collector.processes), then
re-runs the pure evaluation on the updated snapshot: with 300 processes this stays well
below 1 % of one core (benchmarks/integrity.py).

Nothing a collector does can blind the monitor:
- the full scan runs on its own worker thread; the cheap process check runs on every tick
  whatever the full scan does (fails, hangs, returns garbage), and a full scan that fails
  still counts as done for the device interval, so it is not retried on every tick;
- the cheap calls themselves run behind a deadline (client/integrity/sources.py), and
  each process's image read behind its own, shorter one (client/integrity/pid_reads.py):
  one stalled file cannot hang the process check;
- a scan whose process list failed keeps the previous list (never an empty one, which
  would make a running tool vanish and uncover the overlay for a tick);
- a full scan's list (taken at its start, seconds before it lands) keeps the pids a
  cheap scan first saw after that start: a tool started meanwhile is not dropped;
- every failure is a "source unavailable" finding: reported, shown to the proctor
  (``degraded_sources``) and recorded for review like any other episode.

The callback fires when the set of findings changes or an episode starts or ends
(client/integrity/episodes.py); it runs on the monitor thread (the UI re-posts it to the
Qt thread).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from client.integrity.collector import Collector
from client.integrity.episodes import EpisodeChanges, EpisodeTracker
from client.integrity.evaluate import evaluate, source_label
from client.integrity.findings import Finding
from client.integrity.rules import Rules
from client.integrity.snapshot import ProcessInfo, SessionInfo, Snapshot
from client.integrity.sources import (
    DEFAULT_SOURCE_TIMEOUT_S,
    Source,
    SourceFailure,
    SourceRunner,
    SourceUnavailable,
    instance_of,
    tuple_of,
)

log = logging.getLogger(__name__)

DEFAULT_PROCESS_INTERVAL_S = 3.0
DEFAULT_DEVICE_INTERVAL_S = 45.0
# A full scan bounds each source by its own deadline; this bounds the whole scan (for
# collectors without per-source deadlines, e.g. a replayed file on a hung network share).
DEFAULT_FULL_SCAN_TIMEOUT_S = 30.0
# An episode ends after this long without its finding (one review record per episode).
DEFAULT_EPISODE_GRACE_S = 10.0


@dataclass(frozen=True)
class MonitorUpdate:
    findings: tuple[Finding, ...]
    new_blocking: tuple[Finding, ...]
    resolved_blocking: tuple[Finding, ...]
    new_warnings: tuple[Finding, ...]
    snapshot: Snapshot  # the evidence behind these findings, for the review record
    episodes: EpisodeChanges = field(default_factory=EpisodeChanges)  # to record for review

    @property
    def blocked(self) -> bool:
        return any(f.blocking for f in self.findings)


class _FullScan:
    """The collector's full snapshot on a worker thread (one at a time)."""

    def __init__(self, read: Callable[[], Snapshot], on_done: Callable[[], None]) -> None:
        self.started = time.monotonic()
        self.done = threading.Event()
        self.result: Snapshot | None = None
        self.error: BaseException | None = None
        self.timeout_reported = False
        self._read = read
        self._on_done = on_done
        threading.Thread(target=self._run, name="integrity-full-scan", daemon=True).start()

    def _run(self) -> None:
        try:
            self.result = self._read()
        except BaseException as exc:  # reported as an unavailable source
            self.error = exc
        finally:
            self.done.set()
            self._on_done()


class IntegrityMonitor:
    def __init__(
        self,
        *,
        collector: Collector,
        rules: Rules,
        on_update: Callable[[MonitorUpdate], None],
        process_interval_s: float = DEFAULT_PROCESS_INTERVAL_S,
        device_interval_s: float = DEFAULT_DEVICE_INTERVAL_S,
        initial: Snapshot | None = None,
        clock: Callable[[], float] = time.monotonic,
        source_timeout_s: float = DEFAULT_SOURCE_TIMEOUT_S,
        full_scan_timeout_s: float = DEFAULT_FULL_SCAN_TIMEOUT_S,
        episode_grace_s: float = DEFAULT_EPISODE_GRACE_S,
    ) -> None:
        if not 0 < process_interval_s <= device_interval_s:
            raise ValueError("need 0 < process_interval_s <= device_interval_s")
        self._collector = collector
        self._rules = rules
        self._on_update = on_update
        self._process_interval = process_interval_s
        self._device_interval = device_interval_s
        self._full_timeout = full_scan_timeout_s
        self._clock = clock
        self._base = initial if initial is not None else Snapshot()
        self._snapshot = initial
        self._have_full = initial is not None
        self._last_full = clock() if initial is not None else float("-inf")
        self._full_errors: tuple[str, ...] = initial.errors if initial is not None else ()
        self._full_job: _FullScan | None = None
        self._full_again = False
        # pid -> when (time.monotonic) a cheap scan that first listed it began
        self._cheap_seen: dict[int, float] = {}
        self._cheap = SourceRunner(timeout_s=source_timeout_s)
        self._episodes = EpisodeTracker(grace_s=episode_grace_s)
        self._findings: dict[str, Finding] = {}
        self._reported = False
        self._lock = threading.Lock()  # tick() may run on the thread and from a re-check
        self._stop = threading.Event()
        self._full_requested = threading.Event()
        self._wake = threading.Event()  # cuts the wait short: stop(), a request, a result
        self._thread: threading.Thread | None = None
        collector.set_rules(rules)

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("monitor already started")
        self._thread = threading.Thread(target=self._run, name="integrity-monitor",
                                        daemon=True)
        self._thread.start()

    def stop(self, *, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def request_full_scan(self) -> None:
        """Re-check devices and displays now (a monitor or device was plugged in)."""
        self._full_requested.set()
        self._wake.set()

    def set_rules(self, rules: Rules) -> None:
        """Use newer rules (e.g. shipped with the paper package) from the next tick on."""
        with self._lock:
            self._rules = rules
            self._collector.set_rules(rules)

    @property
    def findings(self) -> tuple[Finding, ...]:
        with self._lock:
            return tuple(self._findings.values())

    @property
    def degraded_sources(self) -> tuple[Finding, ...]:
        """Sources that could not be read at the last scan (for the proctor view)."""
        with self._lock:
            return tuple(f for f in self._findings.values() if f.kind == "source_unavailable")

    # ------------------------------------------------------------------ work

    def tick(self, *, full: bool = False, wait_full_s: float | None = None
             ) -> MonitorUpdate | None:
        """One scan; returns (and reports) an update when something changed.

        *full* starts a full scan (if none is running); the tick waits for it up to
        *wait_full_s* (default: the full-scan deadline; the monitor thread waits 0 s and
        picks the result up when it arrives). The process check runs in any case.
        """
        with self._lock:
            now = self._clock()
            due = full or not self._have_full or now - self._last_full >= self._device_interval
            if full and self._full_job is not None:
                self._full_again = True  # a device changed during the scan: scan again
            self._start_full_if(due, now)
            job = self._full_job
        wait_s = self._full_timeout if wait_full_s is None else wait_full_s
        if job is not None and wait_s > 0:
            # Waited for OUTSIDE the lock: the monitor thread's process check goes on
            # meanwhile (a 重新检测 from the overlay waits here, not the monitor).
            job.done.wait(wait_s)
        with self._lock:
            fresh = self._collect_full()
            if self._full_job is None and self._full_again:
                self._full_again = False
                self._start_full_if(True, now)
            snapshot = fresh if fresh is not None else self._cheap_scan()
            self._snapshot = snapshot
            findings = evaluate(snapshot, self._rules)
            episodes = self._episodes.update(findings, now=now)
            update = self._diff(findings, snapshot, episodes)
        if update is not None:
            self._report(update)
        return update

    def _start_full_if(self, due: bool, now: float) -> None:
        if due and self._full_job is None:
            self._full_job = _FullScan(self._collector.snapshot, self._wake.set)
            # Counted as done now: a failing scan is retried at the device interval, not
            # on every tick (retrying on every tick starved the process check before).
            self._last_full = now

    def _collect_full(self) -> Snapshot | None:
        """The full snapshot if one just finished (with the process data it read)."""
        job = self._full_job
        if job is None:
            return None
        if not job.done.is_set():
            running = time.monotonic() - job.started
            if running >= self._full_timeout and not job.timeout_reported:
                job.timeout_reported = True
                self._full_errors = (str(SourceFailure(
                    "snapshot", f"no answer within {self._full_timeout:g} s")),)
            return None
        self._full_job = None
        self._have_full = True
        if job.error is not None or not isinstance(job.result, Snapshot):
            what = (f"{type(job.error).__name__}: {job.error}" if job.error is not None
                    else f"unusable answer: {type(job.result).__name__}")
            self._full_errors = (str(SourceFailure("snapshot", what)),)
            return None
        result = job.result
        if any(source_label(error) == "processes" for error in result.errors):
            # The scan could not list processes: its empty list would make every running
            # tool vanish for a tick (resolved, overlay uncovered). Keep what was known,
            # as the cheap scan does; the error still reports the list as stale.
            known = self._snapshot if self._snapshot is not None else self._base
            result = dataclasses.replace(result, processes=known.processes)
        else:
            result = self._with_pids_seen_since(result, job.started)
        self._base = result
        self._full_errors = result.errors
        return result

    def _with_pids_seen_since(self, result: Snapshot, started: float) -> Snapshot:
        """*result* plus the processes a cheap scan first listed after the full scan began.

        The full scan lists pids at its start and then reads every image (seconds when some
        reads stall); a tool started after that listing and already caught by a cheap tick
        must not vanish when the older list replaces the newer one (attack A2: resolved,
        overlay uncovered for a tick). A pid kept here that has exited since is dropped by
        the next cheap scan's listing.
        """
        current = self._snapshot if self._snapshot is not None else self._base
        listed = {p.pid for p in result.processes}
        later = tuple(p for p in current.processes if p.pid not in listed
                      and self._cheap_seen.get(p.pid, float("-inf")) >= started)
        return dataclasses.replace(result, processes=result.processes + later) if later \
            else result

    def _cheap_scan(self) -> Snapshot:
        previous = self._snapshot if self._snapshot is not None else self._base
        errors: list[str] = list(self._full_errors)
        began = time.monotonic()
        try:
            processes = self._cheap.call("processes", Source(
                lambda: self._collector.processes(previous.processes),
                tuple_of(ProcessInfo), tuple[ProcessInfo, ...]()))
        except SourceUnavailable as exc:
            processes = previous.processes  # keep what was known; say it is stale
            errors.append(str(exc.failure))
        else:
            self._cheap_seen = {p.pid: self._cheap_seen.get(p.pid, began) for p in processes}
        try:
            session = self._cheap.call("session", Source(
                self._collector.session, instance_of(SessionInfo), SessionInfo()))
        except SourceUnavailable as exc:
            session = previous.session
            errors.append(str(exc.failure))
        # A source reported by the full scan and again now is one entry, the fresher.
        by_source: dict[str, str] = {}
        for error in errors:
            by_source[error.split(":", 1)[0]] = error
        return dataclasses.replace(self._base, processes=processes, session=session,
                                   errors=tuple(by_source.values()))

    def _diff(self, findings: list[Finding], snapshot: Snapshot,
              episodes: EpisodeChanges) -> MonitorUpdate | None:
        current = {f.key: f for f in findings}
        if self._reported and current.keys() == self._findings.keys() and not episodes:
            self._findings = current  # same findings; keep the freshest evidence
            return None
        before = self._findings
        self._findings = current
        self._reported = True
        return MonitorUpdate(
            findings=tuple(findings),
            new_blocking=tuple(f for k, f in current.items() if f.blocking and k not in before),
            resolved_blocking=tuple(f for k, f in before.items()
                                    if f.blocking and k not in current),
            new_warnings=tuple(f for k, f in current.items()
                               if not f.blocking and k not in before),
            snapshot=snapshot,
            episodes=episodes,
        )

    def _report(self, update: MonitorUpdate) -> None:
        for finding in update.new_blocking:
            log.warning("integrity: new blocking finding %s",
                        json.dumps(finding.to_json(), ensure_ascii=False))
        for finding in update.resolved_blocking:
            log.info("integrity: resolved %s", finding.key)
        for finding in update.new_warnings:
            log.info("integrity: warning %s", json.dumps(finding.to_json(), ensure_ascii=False))
        try:
            self._on_update(update)
        except Exception:  # a broken listener must not end monitoring for the exam
            log.exception("integrity monitor listener failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            full = self._full_requested.is_set()
            self._full_requested.clear()
            try:
                self.tick(full=full, wait_full_s=0.0)
            except Exception:  # keep watching: one failed scan is logged, not fatal
                log.exception("integrity monitor scan failed")
            self._wake.wait(self._process_interval)
            self._wake.clear()
