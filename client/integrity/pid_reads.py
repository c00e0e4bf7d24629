"""Per-pid process inspection behind its own deadline: one stalled image file hides nothing.

Why: inspecting a process reads its image file (on Windows the version resource, and for
processes a rule names the Authenticode signature). An exe on a dead SMB/WebDAV share or a
slow USB stick can stall that read for minutes. Done inline, one such read hung the whole
``processes`` source call; the SourceRunner then refused to start it again, and a remote
tool started afterwards was never reported (issue 17, audit D2).

So the reads run on a worker thread, one pid after the other, and the caller waits for
each pid at most *per_pid_s* and for all of them at most *budget_s*. A pid whose read is
late (or fails) is described from cheap data instead -- *quick*: the name and path the OS
reports, no file I/O -- and marked ``unverified``: the evaluation judges it by its name, and
no allow entry or exception (they need the signer) applies, so stalling a read cannot slip
a renamed-but-signed check. The late read goes on in the background (a thread cannot be
killed) and is not started twice; the next refresh uses its answer once it arrives.

Stalled reads are limited per *place* (image_place: the drive letter, the UNC server, or
on POSIX the folder), *max_stalled_per_place* each, and reads from shares and unknown
places all together to *max_stalled*: beyond a place's limit its new pids are described by
name without a read, but a flood of stalling exes on a dead share never stops the reads
of exes on the local disk (issue 17, attack A1: one global limit did, so a renamed tool
started from C: afterwards was judged by its innocent name and never caught).
"""

from __future__ import annotations

import dataclasses
import logging
import posixpath
import threading
import time
from collections.abc import Callable, Sequence

import psutil

from client.integrity.snapshot import ProcessInfo

log = logging.getLogger(__name__)

Inspect = Callable[[int], ProcessInfo | None]

# A version-resource read takes well under a millisecond, a signature check of a large exe
# on an old disk some hundred milliseconds; 1 s means "stalled". The budget keeps one call
# far inside the 5 s source deadline (sources.py) however many pids stall at once.
DEFAULT_PER_PID_S = 1.0
DEFAULT_BUDGET_S = 2.0
DEFAULT_FULL_BUDGET_S = 4.0  # a full scan reads every pid, not only new ones
DEFAULT_MAX_STALLED = 32  # shares and unknown places together (threads stay bounded)
DEFAULT_MAX_STALLED_PER_PLACE = 2  # one dead share / slow stick / drive


def name_only(pid: int) -> ProcessInfo | None:
    """The cheapest description: the image name the OS reports (no file is opened)."""
    try:
        return ProcessInfo(pid=pid, name=psutil.Process(pid).name())
    except psutil.Error:
        return None


def image_place(exe: str, *, pid: int) -> str:
    """Where an image file lives, for the stall limits, from its path alone (no I/O).

    "c:" for a drive letter (local or mapped), "\\\\server" for a UNC path (every share of
    one server together, so many share names cannot multiply the limit), the folder for a
    POSIX path, and a place of its own ("pid:N") when the path is unknown.
    """
    path = exe.replace("/", "\\") if exe[1:3] in (":\\", ":/") else exe
    for prefix, unc in (("\\\\?\\UNC\\", True), ("\\\\.\\UNC\\", True),
                        ("\\\\?\\", False), ("\\\\.\\", False)):
        if path.upper().startswith(prefix):
            path = ("\\\\" if unc else "") + path[len(prefix):]
            break
    if len(path) >= 2 and path[1] == ":" and path[0].isalpha():
        return path[:2].lower()
    if path.startswith("\\\\"):
        return "\\\\" + path[2:].split("\\", 1)[0].lower()
    if path.startswith("/"):
        return posixpath.dirname(path)
    return f"pid:{pid}"


def _is_drive(place: str) -> bool:
    return len(place) == 2 and place[1] == ":"


class _Batch:
    """Inspects *pids* in order on a daemon thread; the caller may abandon it at any pid."""

    def __init__(self, inspect: Inspect, pids: Sequence[int]) -> None:
        self.cond = threading.Condition()
        self.pids = tuple(pids)
        self.current = 0  # index of the pid being read
        self.current_since = time.monotonic()
        self.results: dict[int, ProcessInfo | None] = {}
        self.failed: set[int] = set()
        self.finished = False
        self.abandoned = False
        self._inspect = inspect
        threading.Thread(target=self._run, name="integrity-pid-reads", daemon=True).start()

    def _run(self) -> None:
        try:
            for index, pid in enumerate(self.pids):
                try:
                    info = self._inspect(pid)
                except Exception as exc:  # one odd process must not hide the others
                    log.info("inspecting pid %d failed: %s: %s", pid, type(exc).__name__, exc)
                    info, failed = None, True
                else:
                    failed = False
                with self.cond:
                    self.results[pid] = info
                    if failed:
                        self.failed.add(pid)
                    self.current, self.current_since = index + 1, time.monotonic()
                    self.cond.notify_all()
                    if self.abandoned:
                        return
        finally:
            with self.cond:
                self.finished = True
                self.cond.notify_all()


class PidReads:
    """Inspects pids, each within its own deadline; late ones come back unverified."""

    def __init__(self, inspect: Inspect, *, quick: Inspect = name_only,
                 per_pid_s: float = DEFAULT_PER_PID_S, budget_s: float = DEFAULT_BUDGET_S,
                 max_stalled: int = DEFAULT_MAX_STALLED,
                 max_stalled_per_place: int = DEFAULT_MAX_STALLED_PER_PLACE) -> None:
        self._inspect = inspect
        self._quick = quick
        self._per_pid_s = per_pid_s
        self._budget_s = budget_s
        self._max_stalled = max_stalled
        self._max_per_place = max_stalled_per_place
        # pid -> the batch still reading it, and the place of its image file
        self._stalled: dict[int, tuple[_Batch, str]] = {}
        self._lock = threading.Lock()  # the monitor's cheap tick and a full scan may overlap

    def with_budget(self, budget_s: float) -> PidReads:
        """The same reads (and the same stalled ones) with another overall budget."""
        other = PidReads(self._inspect, quick=self._quick, per_pid_s=self._per_pid_s,
                         budget_s=budget_s, max_stalled=self._max_stalled,
                         max_stalled_per_place=self._max_per_place)
        other._stalled, other._lock = self._stalled, self._lock
        return other

    def read(self, pids: Sequence[int]) -> dict[int, ProcessInfo | None]:
        """An answer for every pid: inspected, None (gone), or quick and unverified.

        Pids are read in the order given (callers put the most urgent first)."""
        out: dict[int, ProcessInfo | None] = {}
        described: dict[int, ProcessInfo | None] = {}  # quick answers, asked once per pid
        todo: list[int] = []
        with self._lock:
            for pid in pids:
                entry = self._stalled.get(pid)
                if entry is None:
                    todo.append(pid)
                    continue
                batch = entry[0]
                with batch.cond:
                    done = pid in batch.results
                    info, failed = batch.results.get(pid), pid in batch.failed
                if not done:
                    out[pid] = self._late(pid, described)  # still hanging: never started twice
                    continue
                del self._stalled[pid]
                out[pid] = self._late(pid, described) if failed else info
            for pid in [p for p, (b, _place) in self._stalled.items() if b.finished]:
                del self._stalled[pid]  # returned after its process exited
        deadline = time.monotonic() + self._budget_s
        while todo:
            if time.monotonic() >= deadline:
                # Described by name now, inspected on a later refresh (they stay unverified).
                out.update((pid, self._late(pid, described)) for pid in todo)
                break
            todo = self._skip_full_places(todo, described, out)
            if todo:
                todo = self._read_until_one_stalls(todo, deadline, described, out)
        return out

    def _skip_full_places(self, pids: list[int], described: dict[int, ProcessInfo | None],
                          out: dict[int, ProcessInfo | None]) -> list[int]:
        """The pids whose place may still stall a read; the others are described by name."""
        with self._lock:
            per_place: dict[str, int] = {}
            for _batch, place in self._stalled.values():
                per_place[place] = per_place.get(place, 0) + 1
        if not per_place:
            return pids  # nothing stalled: no need to ask where the files are
        # Drive letters are bounded by their own limit (26 at most); shares and unknown
        # places share the overall one, so stalls there never stop reads from a drive.
        elsewhere = sum(n for place, n in per_place.items() if not _is_drive(place))
        readable = []
        for pid in pids:
            place = self._place(pid, described)
            if per_place.get(place, 0) >= self._max_per_place or (
                    not _is_drive(place) and elsewhere >= self._max_stalled):
                out[pid] = self._late(pid, described)
            else:
                readable.append(pid)
        return readable

    def _read_until_one_stalls(self, pids: Sequence[int], deadline: float,
                               described: dict[int, ProcessInfo | None],
                               out: dict[int, ProcessInfo | None]) -> list[int]:
        """Reads *pids* in order; returns those after a stalled one (empty when done)."""
        batch = _Batch(self._inspect, pids)
        with batch.cond:
            while not batch.finished:
                now = time.monotonic()
                late_at = min(batch.current_since + self._per_pid_s, deadline)
                if now >= late_at:
                    break
                batch.cond.wait(late_at - now)
            for pid, info in batch.results.items():
                out[pid] = self._late(pid, described) if pid in batch.failed else info
            if batch.finished:
                return []
            batch.abandoned = True
            stalled = batch.pids[batch.current]
            rest = list(batch.pids[batch.current + 1:])
        place = self._place(stalled, described)
        log.warning("integrity: reading the image of pid %d (%s) stalled; judged by name",
                    stalled, place)
        with self._lock:
            self._stalled[stalled] = (batch, place)
        out[stalled] = self._late(stalled, described)
        return rest

    def _place(self, pid: int, described: dict[int, ProcessInfo | None]) -> str:
        info = self._late(pid, described)
        return image_place(info.exe if info is not None else "", pid=pid)

    def _late(self, pid: int, described: dict[int, ProcessInfo | None]) -> ProcessInfo | None:
        if pid in described:
            return described[pid]
        try:
            info = self._quick(pid)
        except Exception as exc:  # the process is judged on the next refresh instead
            log.info("describing pid %d failed: %s: %s", pid, type(exc).__name__, exc)
            info = None
        late = None if info is None else dataclasses.replace(info, unverified=True)
        described[pid] = late
        return late
