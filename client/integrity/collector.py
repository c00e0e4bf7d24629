"""The collector interface the monitor and the check command use, and the platform choice."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

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


def inspect_all(inspect: Callable[[int], ProcessInfo | None], pids: Iterable[int]
                ) -> tuple[ProcessInfo, ...]:
    """Every pid afresh (full scans): repairs reused pids, leaves the refresher alone."""
    return tuple(info for pid in pids if (info := inspect(pid)) is not None)


class ProcessRefresher:
    """Keeps what is known about surviving pids and inspects only new ones.

    A pid is inspected again on the scan after it first appeared: on Linux a new process
    carries its parent's name until it calls exec, and on Windows a just-started
    process's image may not be readable yet. A pid reused within one interval keeps its
    old entry until the next full snapshot (every device interval); that is the price of
    not opening 300 processes every 3 s.
    """

    def __init__(self, inspect: Callable[[int], ProcessInfo | None]) -> None:
        self._inspect = inspect
        self._young: frozenset[int] = frozenset()

    def refresh(
        self, previous: Sequence[ProcessInfo], *, pids: Iterable[int]
    ) -> tuple[ProcessInfo, ...]:
        known: Mapping[int, ProcessInfo] = {p.pid: p for p in previous}
        result: list[ProcessInfo] = []
        young: set[int] = set()
        for pid in pids:
            info = known.get(pid)
            if info is None:
                young.add(pid)
            if info is None or pid in self._young:
                info = self._inspect(pid)  # None: it exited meanwhile, or is not inspectable
            if info is not None:
                result.append(info)
        self._young = frozenset(young)
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
