"""The in-exam monitor with the real Linux collector and real processes."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.integrity.collect_linux import LinuxCollector
from client.integrity.monitor import IntegrityMonitor, MonitorUpdate
from client.integrity.rules import builtin_rules
from client.integrity.snapshot import ProcessInfo


@pytest.fixture
def fake_tool(tmp_path: Path) -> Iterator[Path]:
    """A real process whose image name is ToDesk.exe (a copy of sleep)."""
    binary = tmp_path / "ToDesk.exe"
    sleep = shutil.which("sleep")
    assert sleep is not None
    shutil.copy(sleep, binary)
    yield binary


def start(binary: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(binary), "30"])


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(5)


def test_new_tool_is_reported_then_resolved(fake_tool: Path) -> None:
    updates: list[MonitorUpdate] = []
    monitor = IntegrityMonitor(collector=LinuxCollector(), rules=builtin_rules(),
                               on_update=updates.append, process_interval_s=0.1,
                               device_interval_s=3600)
    first = monitor.tick(full=True)
    assert first is not None and updates == [first]  # the first scan is always reported
    assert monitor.tick() is None  # nothing changed: no callback
    proc = start(fake_tool)
    try:
        update = monitor.tick()
        assert update is not None
        assert [(f.subject, f.detail["exe"]) for f in update.new_blocking] == \
            [("todesk", "ToDesk.exe")]
        assert update.blocked
        assert any(p.pid == proc.pid for p in update.snapshot.processes)
    finally:
        stop(proc)
    resolved = monitor.tick()
    assert resolved is not None
    assert [f.subject for f in resolved.resolved_blocking] == ["todesk"]
    assert "todesk" not in {f.subject for f in monitor.findings}


def test_monitor_thread_reports_and_stops(fake_tool: Path) -> None:
    seen = threading.Event()

    def on_update(update: MonitorUpdate) -> None:
        if any(f.subject == "todesk" for f in update.new_blocking):
            seen.set()

    monitor = IntegrityMonitor(collector=LinuxCollector(), rules=builtin_rules(),
                               on_update=on_update, process_interval_s=0.05,
                               device_interval_s=3600)
    monitor.start()
    try:
        time.sleep(0.1)
        proc = start(fake_tool)
        try:
            assert seen.wait(5), "the monitor did not report the new tool"
        finally:
            stop(proc)
    finally:
        monitor.stop()
    assert not any(t.name == "integrity-monitor" for t in threading.enumerate())


def test_full_scan_can_be_requested(fake_tool: Path) -> None:
    scans: list[str] = []

    class CountingCollector(LinuxCollector):
        def snapshot(self):  # type: ignore[no-untyped-def]
            scans.append("full")
            return super().snapshot()

    monitor = IntegrityMonitor(collector=CountingCollector(), rules=builtin_rules(),
                               on_update=lambda u: None, process_interval_s=0.05,
                               device_interval_s=3600)
    monitor.start()
    try:
        deadline = time.monotonic() + 5
        while not scans and time.monotonic() < deadline:
            time.sleep(0.01)
        monitor.request_full_scan()
        while len(scans) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        monitor.stop()
    assert len(scans) >= 2


def test_listener_errors_do_not_stop_monitoring() -> None:
    calls: list[int] = []

    def broken(update: MonitorUpdate) -> None:
        calls.append(1)
        raise RuntimeError("listener bug")

    monitor = IntegrityMonitor(collector=LinuxCollector(), rules=builtin_rules(),
                               on_update=broken)
    assert monitor.tick(full=True) is not None
    assert calls == [1]


def test_intervals_are_validated() -> None:
    with pytest.raises(ValueError):
        IntegrityMonitor(collector=LinuxCollector(), rules=builtin_rules(),
                         on_update=lambda u: None, process_interval_s=60,
                         device_interval_s=30)


def test_a_slow_full_scan_does_not_drop_a_tool_started_after_its_listing(
        fake_tool: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack A2 (/tmp/attack17/a2_real.py): the full scan lists pids at its start, then
    reads every image (slow here: two helpers on a "slow USB stick"). A tool started just
    after that listing was caught by a cheap tick, then dropped when the older full list
    replaced the newer one: reported resolved, overlay uncovered for a tick."""
    import client.integrity.collect_linux as collect_linux

    helpers = [subprocess.Popen(["sleep", "30"]) for _ in range(2)]
    slow: set[int] = set()
    real_inspect = collect_linux._inspect

    def slow_inspect(pid: int) -> ProcessInfo | None:
        if pid in slow:
            time.sleep(0.4)
        return real_inspect(pid)

    monkeypatch.setattr(collect_linux, "_inspect", slow_inspect)
    updates: list[MonitorUpdate] = []
    monitor = IntegrityMonitor(collector=LinuxCollector(), rules=builtin_rules(),
                               on_update=updates.append)
    tool = None
    try:
        monitor.tick(full=True)
        for _ in range(2):  # the helpers are known (no longer young) before they slow down
            monitor.tick(wait_full_s=0)
        slow.update(h.pid for h in helpers)
        monitor.tick(full=True, wait_full_s=0)  # a USB plug-in requests a full scan
        time.sleep(0.2)  # it has listed the pids and is reading the slow images
        tool = start(fake_tool)
        time.sleep(0.2)
        caught = monitor.tick(wait_full_s=0)
        assert caught is not None and "todesk" in [f.subject for f in caught.new_blocking]
        updates.clear()
        job = monitor._full_job
        assert job is not None and not job.done.is_set()  # the full scan is still reading
        job.done.wait(10)
        monitor.tick(wait_full_s=0)  # the full scan's result lands
        monitor.tick(wait_full_s=0)
        assert not [f.subject for u in updates for f in u.resolved_blocking], updates
        assert "todesk" in [f.subject for f in monitor.findings if f.blocking]
    finally:
        for proc in [*helpers, *([tool] if tool is not None else [])]:
            stop(proc)
