"""One review record per episode: start and end, warnings as well as blocks, debounced."""

from __future__ import annotations

import json
from pathlib import Path

from integrity_fixtures import load_case

from client.integrity.episodes import EpisodeTracker
from client.integrity.evaluate import evaluate
from client.integrity.findings import Finding
from client.integrity.monitor import IntegrityMonitor, MonitorUpdate
from client.integrity.replay import ReplayCollector
from client.integrity.rules import builtin_rules


def findings_of(fixture: str) -> list[Finding]:
    return evaluate(load_case(fixture).snapshot, builtin_rules())


def test_a_flicker_within_the_grace_is_one_episode() -> None:
    tracker = EpisodeTracker(grace_s=10)
    todesk = findings_of("tool_todesk")
    assert [f.subject for f in tracker.update(todesk, now=0).started] == ["todesk"]
    assert not tracker.update([], now=3)  # gone for one scan
    assert not tracker.update(todesk, now=6)  # back: same episode, no record
    assert not tracker.update([], now=9)
    ended = tracker.update([], now=19.5)
    assert [f.subject for f in ended.ended] == ["todesk"] and not ended.started


def test_warnings_are_episodes_too() -> None:
    tracker = EpisodeTracker(grace_s=0)
    changes = tracker.update(findings_of("lab_jiyu_default_warn"), now=0)
    assert [(f.subject, f.severity) for f in changes.started] == [("jiyu", "warn")]
    assert [f.subject for f in tracker.update([], now=1).ended] == ["jiyu"]


def write(path: Path, fixture: str, *, service_known: bool) -> None:
    data = json.loads(load_case(fixture).snapshot.dumps())
    if not service_known:
        # What the cheap scan sees first: a new pid, not yet matched to its service.
        data["services"] = [s for s in data["services"] if s["name"] != "TeamViewer"]
        for process in data["processes"]:
            process["service"] = ""
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_service_started_mid_exam_gives_one_start_and_one_end(tmp_path: Path) -> None:
    """Before: process finding, then (full scan) its service finding = three records."""
    path = tmp_path / "pc.json"
    write(path, "fp_clean_lab_pc", service_known=True)
    clock = [0.0]
    updates: list[MonitorUpdate] = []
    monitor = IntegrityMonitor(collector=ReplayCollector(path), rules=builtin_rules(),
                               on_update=updates.append, process_interval_s=3,
                               device_interval_s=45, clock=lambda: clock[0],
                               episode_grace_s=10)
    monitor.tick(full=True)
    write(path, "tool_teamviewer_service_only", service_known=False)
    for clock[0] in (3.0, 6.0):
        monitor.tick()
    write(path, "tool_teamviewer_service_only", service_known=True)
    monitor.tick(full=True)  # the full scan sees the running service
    kinds = {f.kind for f in monitor.findings}
    assert kinds == {"remote_tool_service_running"}, kinds
    write(path, "fp_clean_lab_pc", service_known=True)
    for clock[0] in (9.0, 12.0, 15.0, 18.0, 21.0):
        monitor.tick(full=True)
    started = [f.subject for u in updates for f in u.episodes.started]
    ended = [f.subject for u in updates for f in u.episodes.ended]
    assert started == ["teamviewer"] and ended == ["teamviewer"]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_POOL = findings_of("tool_several") + findings_of("lab_jiyu_default_warn")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sets(st.integers(0, len(_POOL) - 1)),
                          st.floats(0.5, 8.0)), max_size=40),
       st.sampled_from([0.0, 3.0, 10.0]))
def test_episode_records_alternate_and_respect_the_grace(
        scans: list[tuple[set[int], float]], grace: float) -> None:
    """Whatever the scans show: per episode the records alternate start, end, start...;
    an end comes only after *grace* seconds without the finding; nothing stays open
    after a long quiet period."""
    tracker = EpisodeTracker(grace_s=grace)
    now = 0.0
    state: dict[str, str] = {}
    last_seen: dict[str, float] = {}
    for present, step in [*scans, (set(), 0.0), (set(), grace + 1)]:
        now += step
        shown = [_POOL[i] for i in sorted(present)]
        changes = tracker.update(shown, now=now)
        for finding in changes.started:
            assert state.get(finding.episode_key) != "open"
            state[finding.episode_key] = "open"
        for finding in changes.ended:
            key = finding.episode_key
            assert state.get(key) == "open"
            assert now - last_seen[key] >= grace
            state[key] = "closed"
        for finding in shown:
            last_seen[finding.episode_key] = now
    assert all(v == "closed" for v in state.values())
    assert tracker.open == ()
