"""Per-pid image reads behind their own deadline (client/integrity/pid_reads.py): a read
that stalls (an exe on a dead network share) or fails describes that one process by name,
marked unverified, and never holds up the others (issue 17, audit D2)."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Iterator

import pytest
from integrity_fixtures import load_case

from client.integrity.collector import ProcessRefresher
from client.integrity.evaluate import evaluate
from client.integrity.messages import describe
from client.integrity.pid_reads import PidReads, image_place
from client.integrity.rules import builtin_rules
from client.integrity.snapshot import ProcessInfo, Snapshot

RELEASE = threading.Event()


@pytest.fixture(autouse=True)
def _release_stalled_reads() -> Iterator[None]:
    RELEASE.clear()
    yield
    RELEASE.set()


class Reads:
    """Inspect/quick callables: pids in *stall* hang until RELEASE, pids in *fail* raise."""

    def __init__(self, *, stall: frozenset[int] = frozenset(), fail: frozenset[int] = frozenset()
                 ) -> None:
        self.stall, self.fail = set(stall), set(fail)
        self.inspected: list[int] = []

    def inspect(self, pid: int) -> ProcessInfo | None:
        self.inspected.append(pid)
        if pid in self.fail:
            raise TypeError("'NoneType' object is not subscriptable")
        if pid in self.stall:
            RELEASE.wait(30)
        return ProcessInfo(pid=pid, name=f"p{pid}.exe", original_filename=f"p{pid}.exe",
                           signer="Vendor")

    def quick(self, pid: int) -> ProcessInfo | None:
        return ProcessInfo(pid=pid, name=f"p{pid}.exe")


def test_a_stalled_read_is_judged_by_name_and_picked_up_when_it_returns() -> None:
    reads = Reads(stall=frozenset({2}))
    pid_reads = PidReads(reads.inspect, quick=reads.quick, per_pid_s=0.2, budget_s=1.0)
    began = time.monotonic()
    first = pid_reads.read([1, 2, 3])
    assert time.monotonic() - began < 0.6
    assert first[1] is not None and not first[1].unverified and first[1].signer == "Vendor"
    assert first[2] == ProcessInfo(pid=2, name="p2.exe", unverified=True)
    assert first[3] is not None and not first[3].unverified  # read after the stalled one
    again = pid_reads.read([2])
    assert again[2] is not None and again[2].unverified
    assert reads.inspected.count(2) == 1  # a hanging read is never started twice
    RELEASE.set()
    time.sleep(0.1)
    done = pid_reads.read([2])
    assert done[2] is not None and not done[2].unverified and done[2].signer == "Vendor"


def test_a_failing_read_hides_only_its_own_process() -> None:
    reads = Reads(fail=frozenset({2}))
    got = PidReads(reads.inspect, quick=reads.quick).read([1, 2, 3])
    assert [(pid, info.unverified) for pid, info in sorted(got.items()) if info] == [
        (1, False), (2, True), (3, False)]


def test_many_stalling_processes_cost_bounded_threads_and_time() -> None:
    reads = Reads(stall=frozenset(range(1, 21)))
    pid_reads = PidReads(reads.inspect, quick=reads.quick, per_pid_s=0.1, budget_s=0.5,
                         max_stalled=3)
    began = time.monotonic()
    got = pid_reads.read(list(range(1, 21)))
    assert time.monotonic() - began < 0.8
    assert sorted(got) == list(range(1, 21))
    assert all(info is not None and info.unverified for info in got.values())
    assert len(reads.inspected) <= 3


def test_an_unverified_process_gets_no_exception_or_allow_entry() -> None:
    """WSLg's msrdc.exe is excused only when signed by Microsoft under wslhost.exe; a
    stalled read leaves the signer unknown, so stalling cannot slip that check."""
    snapshot = load_case("fp_wsl2_msrdc").snapshot
    assert not [f for f in evaluate(snapshot, builtin_rules()) if f.blocking]
    late = tuple(
        dataclasses.replace(p, original_filename="", signer="", parent="", unverified=True)
        if p.name == "msrdc.exe" else p for p in snapshot.processes)
    findings = evaluate(dataclasses.replace(snapshot, processes=late), builtin_rules())
    blocking = [f for f in findings if f.blocking]
    assert [f.subject for f in blocking] == ["mstsc"], findings
    assert "unverified" in " ".join(blocking[0].evidence)
    warned = {f.subject: f for f in findings if f.kind == "source_unavailable"}
    assert "msrdc.exe" in warned["process_images"].detail["reason"]
    text = describe(warned["process_images"])
    assert "进程程序文件" in text and "程序文件长时间读不出来：msrdc.exe" in text, text


def test_stalls_on_a_share_never_stop_reads_from_the_local_disk() -> None:
    """Attack A1 (/tmp/attack17/a1_flood.py): 8 innocently named exes on a dead share
    filled the one global stall limit; after that AnyDesk renamed notepad.exe, run from C:
    (its file perfectly readable), was judged by its innocent name and never caught."""
    share = set(range(100, 108))
    tool = 200

    def inspect(pid: int) -> ProcessInfo:
        if pid in share:
            RELEASE.wait(30)
        if pid == tool:
            return ProcessInfo(pid=pid, name="notepad.exe", exe=r"C:\Users\cand\notepad.exe",
                               original_filename="AnyDesk.exe",
                               signer="philandro Software GmbH")
        return ProcessInfo(pid=pid, name=f"svc{pid}.exe", original_filename=f"svc{pid}.exe")

    def quick(pid: int) -> ProcessInfo:
        folder = rf"\\deadshare\tools{pid % 3}" if pid in share else r"C:\Users\cand"
        name = "notepad.exe" if pid == tool else f"svc{pid}.exe"
        return ProcessInfo(pid=pid, name=name, exe=rf"{folder}\{name}")

    started: list[int] = []
    refresher = ProcessRefresher(lambda pid: started.append(pid) or inspect(pid), quick=quick,
                                 per_pid_s=0.05, budget_s=0.5)
    pids = [1, 2, *sorted(share)]
    procs: tuple[ProcessInfo, ...] = ()
    for _ in range(6):  # the share's reads stall, tick after tick
        procs = refresher.refresh(procs, pids=pids)
    # Every share of the server is one place: at most 2 reads hang there.
    assert len([pid for pid in started if pid in share]) <= 2
    procs = refresher.refresh(procs, pids=[*pids, tool])
    entry = next(p for p in procs if p.pid == tool)
    assert not entry.unverified and entry.original_filename == "AnyDesk.exe"
    findings = evaluate(Snapshot(processes=procs), builtin_rules())
    assert [f.subject for f in findings if f.blocking] == ["anydesk"], findings
    assert any(f.subject == "process_images" for f in findings)  # the share still shows


def test_process_churn_cannot_keep_one_pid_unread() -> None:
    """Attack A6 (/tmp/attack17/a6_churn.py): ~800 short-lived helpers per tick, read in
    pid order (each twice: new, then young), spent the read budget before the renamed
    tool's higher pid every tick. Now the longest-unverified pids go first, young re-reads
    last: the tool is read within a few ticks (on an idle machine the next one; under load
    the older unverified pids ahead of it drain first) and then stays caught."""
    tool = 90_000

    def inspect(pid: int) -> ProcessInfo:
        began = time.perf_counter()
        while time.perf_counter() - began < 0.0015:  # one image read
            pass
        return ProcessInfo(pid=pid, name="notepad.exe" if pid == tool else "h.exe",
                           original_filename="AnyDesk.exe" if pid == tool else "h.exe")

    def quick(pid: int) -> ProcessInfo:
        return ProcessInfo(pid=pid, name="notepad.exe" if pid == tool else "h.exe")

    refresher = ProcessRefresher(inspect, quick=quick, budget_s=0.25, full_budget_s=10.0)
    base = list(range(4, 80, 4))
    helper_pids = itertools.count(1000, 4)
    live = [next(helper_pids) for _ in range(400)]
    procs = refresher.inspect_all(base + live)  # the monitor starts with a full scan
    caught = []
    for _ in range(6):
        live = live[200:] + [next(helper_pids) for _ in range(200)]  # each lives ~2 ticks
        procs = refresher.refresh(procs, pids=base + live + [tool])
        findings = evaluate(Snapshot(processes=procs), builtin_rules())
        caught.append([f.subject for f in findings if f.blocking] == ["anydesk"])
    assert True in caught, caught
    first = caught.index(True)
    assert caught[first:] == [True] * (6 - first), caught


@pytest.mark.parametrize(("exe", "place"), [
    (r"C:\Users\cand\notepad.exe", "c:"),
    ("d:/tools/x.exe", "d:"),
    (r"\\?\E:\x.exe", "e:"),
    (r"\\DeadShare\tools1\svc.exe", r"\\deadshare"),
    (r"\\?\UNC\deadshare\tools2\svc.exe", r"\\deadshare"),  # every share of one server
    ("/usr/bin/sleep", "/usr/bin"),
    ("", "pid:7"),  # unknown: a place of its own, bounded by the overall limit
])
def test_the_place_of_an_image_comes_from_its_path_alone(exe: str, place: str) -> None:
    assert image_place(exe, pid=7) == place


def test_stalls_in_one_place_leave_other_places_readable() -> None:
    stall = frozenset({1, 2, 3})
    reads = Reads(stall=stall)

    def quick(pid: int) -> ProcessInfo:
        where = r"\\deadshare\s" if pid in stall else r"C:\Tools"
        return ProcessInfo(pid=pid, name=f"p{pid}.exe", exe=rf"{where}\p{pid}.exe")

    pid_reads = PidReads(reads.inspect, quick=quick, per_pid_s=0.05, budget_s=1.0,
                         max_stalled=1, max_stalled_per_place=2)
    first = pid_reads.read([1, 2, 3, 4])
    assert reads.inspected == [1, 4]  # the overall limit (1) is reached on the share
    assert first[4] is not None and not first[4].unverified
    second = pid_reads.read([5, 6])  # drive letters are not held up by the share
    assert [second[pid] is not None and not second[pid].unverified for pid in (5, 6)] == [
        True, True]
