"""Real child-process starts: a start that dies before its first frame, then the next one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from client.render import sentinel

CHILD = Path(__file__).with_name("startup_child.py")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.qt


def start(tmp_path, *args, expect_rc=0):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(CHILD), "--data-dir", str(tmp_path / "data"),
         "--state-dir", str(tmp_path / "state"), *args],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )
    events = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            events[record["event"]] = record
    if expect_rc is not None:
        assert done.returncode == expect_rc, done.stderr
    return done, events


@pytest.mark.parametrize("how", ["abort", "segv"])
def test_a_start_that_crashes_makes_the_next_start_one_level_lower(tmp_path, how):
    done, events = start(tmp_path, "--crash-before-paint", how, expect_rc=None)
    assert done.returncode != 0
    assert events["decision"]["level"] == 2
    _, events = start(tmp_path)
    decision = events["decision"]
    assert (decision["level"], decision["code"]) == (1, "fallback.sentinel")
    assert "previous start at level 2" in decision["reason"]
    # The crashed start's native crash log is waiting to be shown at this start.
    assert decision["pending_crashes"] == ["native"]
    assert events["healthy"]["level"] == 1
    history = sentinel.read_history(tmp_path / "state")
    fallback = next(r for r in history if r["event"] == "fallback")
    assert (fallback["cause"], fallback["from_level"], fallback["to_level"]) == (
        "start_sentinel", 2, 1)
    crash_text = next((tmp_path / "data" / "crash").glob("crash-*-native.log")).read_text()
    assert "Fatal Python error" in crash_text
    # The level that worked is kept for this PC.
    _, events = start(tmp_path)
    assert (events["decision"]["level"], events["decision"]["code"]) == (1, "remembered")


def test_crashes_walk_down_to_software_which_sets_its_environment(tmp_path):
    start(tmp_path, "--crash-before-paint", "abort", expect_rc=None)
    start(tmp_path, "--crash-before-paint", "abort", expect_rc=None)
    _, events = start(tmp_path)
    decision = events["decision"]
    assert decision["level"] == 0
    assert decision["environment"] == {"LIBGL_ALWAYS_SOFTWARE": "1",
                                       "QSG_RHI_PREFER_SOFTWARE_RENDERER": "1",
                                       "QT_QUICK_BACKEND": "software"}
    assert events["healthy"]["level"] == 0


def test_configured_level_is_kept_after_a_crash(tmp_path):
    start(tmp_path, "--level", "2", "--crash-before-paint", "abort", expect_rc=None)
    _, events = start(tmp_path, "--level", "2")
    assert (events["decision"]["level"], events["decision"]["code"]) == (2, "configured")


def test_graphics_failure_message_falls_back_and_asks_for_a_restart(tmp_path):
    _, events = start(tmp_path, "--qt-warning",
                      "Failed to create QRhi for QBackingStoreRhiSupport", expect_rc=75)
    assert events["restart_requested"] == {
        "event": "restart_requested", "cause": "qt_message",
        "reason": "Failed to create QRhi for QBackingStoreRhiSupport",
        "from_level": 2, "next_level": 1}
    assert "healthy" not in events
    _, events = start(tmp_path)
    assert events["decision"]["level"] == 1
    assert "Failed to create QRhi" in events["decision"]["reason"]


def test_an_ordinary_warning_is_not_a_graphics_failure(tmp_path):
    _, events = start(tmp_path, "--qt-warning", "QLayout: Attempting to add QLayout twice")
    assert events["healthy"]["level"] == 2
    log_text = (tmp_path / "data" / "logs" / "exam-client.log").read_text(encoding="utf-8")
    assert "Attempting to add QLayout" in log_text  # Qt messages reach our log file


def test_blank_window_is_a_rendering_failure(tmp_path):
    _, events = start(tmp_path, "--blank", expect_rc=75)
    failure = events["restart_requested"]
    assert failure["cause"] == "white_screen" and failure["next_level"] == 1
    assert "flat colour #ffffff" in failure["reason"]
