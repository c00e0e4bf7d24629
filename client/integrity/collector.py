"""The collector interface the monitor and the check command use, and the platform choice."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from client.integrity.pid_reads import (
    DEFAULT_BUDGET_S,
    DEFAULT_FULL_BUDGET_S,
    DEFAULT_PER_PID_S,
    Inspect,
    PidReads,
    name_only,
)
from client.integrity.rules import Rules
from client.integrity.snapshot import ProcessInfo, SessionInfo, Snapshot

log = logging.getLogger(__name__)


class Collector(Protocol):
    def snapshot(self) -> Snapshot:
        """Everything: before the exam, on re-check, and every device interval."""
        ...

    def processes(self, previous: Sequence[ProcessInfo]) -> tuple[ProcessInfo, ...]:
        """The process list, inspecting only pids that *previous* does not hold."""
        ...

    def session(self) -> SessionInfo:
        """Cheap session facts, re-read with every process scan (RDP can start mid-exam)."""
        ...

    def set_rules(self, rules: Rules) -> None:
        """The rules in force (they decide which processes' signatures are read)."""
        ...


class ProcessRefresher:
    """Keeps what is known about surviving pids and inspects only new ones.

    A pid is inspected again on the scan after it first appeared: on Linux a new process
    carries its parent's name until it calls exec, and on Windows a just-started
    process's image may not be readable yet. A pid reused within one interval keeps its
    old entry until the next full snapshot (every device interval); that is the price of
    not opening 300 processes every 3 s.

    Every inspection runs behind its own deadline (client/integrity/pid_reads.py): a pid
    whose image file cannot be read in time is described by *quick* (name and path, no
    file I/O), marked unverified, and inspected again on each refresh until its read
    returns; it never holds up the other pids or the next refresh.
    """

    def __init__(self, inspect: Inspect, *, quick: Inspect = name_only,
                 per_pid_s: float = DEFAULT_PER_PID_S, budget_s: float = DEFAULT_BUDGET_S,
                 full_budget_s: float = DEFAULT_FULL_BUDGET_S) -> None:
        self._reads = PidReads(inspect, quick=quick, per_pid_s=per_pid_s, budget_s=budget_s)
        # A full scan reads every pid (300 on a lab PC), so it gets a larger budget;
        # it shares the stalled reads with the refresher, so none is started twice.
        self._full_reads = self._reads.with_budget(full_budget_s)
        self._young: frozenset[int] = frozenset()
        self._unverified_since: dict[int, int] = {}  # pid -> the refresh it became unverified
        self._refreshes = 0

    def inspect_all(self, pids: Iterable[int]) -> tuple[ProcessInfo, ...]:
        """Every pid afresh (full scans): repairs reused pids, leaves the young set alone."""
        wanted = list(pids)
        read = self._full_reads.read(wanted)
        return tuple(info for pid in wanted if (info := read.get(pid)) is not None)

    def refresh(
        self, previous: Sequence[ProcessInfo], *, pids: Iterable[int]
    ) -> tuple[ProcessInfo, ...]:
        known: Mapping[int, ProcessInfo] = {p.pid: p for p in previous}
        wanted = list(pids)
        young = {pid for pid in wanted if pid not in known}
        self._refreshes += 1
        # Most urgent first, so the 2 s budget cannot be spent before a pid is reached
        # every time (issue 17, attack A6: 800 short-lived helpers per tick, each read when
        # new and again as young, kept a renamed tool with a higher pid unread for good):
        # the longest-unverified pids, then new ones, then the young re-reads.
        unverified = sorted((pid for pid in wanted if pid in known and known[pid].unverified),
                            key=lambda pid: self._unverified_since.get(pid, self._refreshes))
        new = [pid for pid in wanted if pid in young]
        reread = [pid for pid in wanted
                  if pid in self._young and pid in known and not known[pid].unverified]
        read = self._reads.read(unverified + new + reread)
        result: list[ProcessInfo] = []
        still_young = set(young)
        for pid in reread:
            late, first = read.get(pid), known[pid]
            if (late is not None and late.unverified and late.name == first.name
                    and late.exe in ("", first.exe)):
                # The budget ran out (or the read stalled) before this re-read and the OS
                # still reports the same image: keep the verified first look rather than
                # lose it, and re-read it next time. (A changed name -- it called exec --
                # is judged by that name, unverified.)
                read[pid] = first
                still_young.add(pid)
        for pid in wanted:
            # None from a read: it exited meanwhile, or is not inspectable.
            info = read.get(pid) if pid in read else known.get(pid)
            if info is not None:
                result.append(info)
        self._young = frozenset(still_young)
        self._unverified_since = {
            p.pid: self._unverified_since.get(p.pid, self._refreshes)
            for p in result if p.unverified}
        return tuple(result)


# The device path (or name) of the camera the proctoring module will open, or a callable
# that says it at scan time (the candidate may choose another camera before the exam).
SelectedCamera = str | None | Callable[[], str | None]


def selected_camera_now(selected: SelectedCamera) -> str | None:
    return selected() if callable(selected) else selected


def platform_collector(*, rules: Rules, selected_camera: SelectedCamera = None) -> Collector:
    """The collector for this OS. *selected_camera* is the device path (or name) that the
    proctoring module will open, so a virtual camera there blocks instead of warning."""
    if sys.platform == "win32":
        from client.integrity.collect_windows import WindowsCollector

        return WindowsCollector(rules=rules, selected_camera=selected_camera)
    from client.integrity.collect_linux import LinuxCollector

    return LinuxCollector(selected_camera=selected_camera)
