"""In-exam monitoring: processes and session every few seconds, devices every 30-60 s.

The cheap tick compares pid sets and inspects only new pids (collector.processes), then
re-runs the pure evaluation on the updated snapshot: with 300 processes this stays well
below 1 % of one core (benchmarks/integrity.py). The full tick re-collects everything,
which also repairs pids reused between ticks. The callback fires only when the set of
findings changes; it runs on the monitor thread (the UI re-posts it to the Qt thread).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from client.integrity.collector import Collector
from client.integrity.evaluate import evaluate
from client.integrity.findings import Finding
from client.integrity.rules import Rules
from client.integrity.snapshot import Snapshot

log = logging.getLogger(__name__)

DEFAULT_PROCESS_INTERVAL_S = 3.0
DEFAULT_DEVICE_INTERVAL_S = 45.0


@dataclass(frozen=True)
class MonitorUpdate:
    findings: tuple[Finding, ...]
    new_blocking: tuple[Finding, ...]
    resolved_blocking: tuple[Finding, ...]
    new_warnings: tuple[Finding, ...]
    snapshot: Snapshot  # the evidence behind these findings, for the review record

    @property
    def blocked(self) -> bool:
        return any(f.blocking for f in self.findings)


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
    ) -> None:
        if not 0 < process_interval_s <= device_interval_s:
            raise ValueError("need 0 < process_interval_s <= device_interval_s")
        self._collector = collector
        self._rules = rules
        self._on_update = on_update
        self._process_interval = process_interval_s
        self._device_interval = device_interval_s
        self._clock = clock
        self._snapshot = initial
        self._last_full = clock() if initial is not None else float("-inf")
        self._findings: dict[str, Finding] = {}
        self._reported = False
        self._lock = threading.Lock()  # tick() may run on the thread and from a re-check
        self._stop = threading.Event()
        self._full_requested = threading.Event()
        self._wake = threading.Event()  # cuts the wait short: stop() or request_full_scan()
        self._thread: threading.Thread | None = None

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
        """Re-check devices and displays at the next wake-up (device or display changed)."""
        self._full_requested.set()
        self._wake.set()

    def set_rules(self, rules: Rules) -> None:
        """Use newer rules (e.g. shipped with the paper package) from the next tick on."""
        with self._lock:
            self._rules = rules

    @property
    def findings(self) -> tuple[Finding, ...]:
        with self._lock:
            return tuple(self._findings.values())

    # ------------------------------------------------------------------ work

    def tick(self, *, full: bool = False) -> MonitorUpdate | None:
        """One scan; returns (and reports) an update when the findings changed."""
        with self._lock:
            now = self._clock()
            if full or self._snapshot is None or now - self._last_full >= self._device_interval:
                snapshot = self._collector.snapshot()
                self._last_full = now
            else:
                snapshot = dataclasses.replace(
                    self._snapshot,
                    processes=self._collector.processes(self._snapshot.processes),
                    session=self._collector.session(),
                )
            self._snapshot = snapshot
            findings = evaluate(snapshot, self._rules)
            update = self._diff(findings, snapshot)
        if update is not None:
            self._report(update)
        return update

    def _diff(self, findings: list[Finding], snapshot: Snapshot) -> MonitorUpdate | None:
        current = {f.key: f for f in findings}
        if self._reported and current.keys() == self._findings.keys():
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
                self.tick(full=full)
            except Exception:  # keep watching: one failed scan is logged, not fatal
                log.exception("integrity monitor scan failed")
            self._wake.wait(self._process_interval)
            self._wake.clear()
