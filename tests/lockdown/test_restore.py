"""What the lockdown changes is recorded first and restored: on exit, after a crash at the
next start (a real killed process), and by ``exam-client unlock-pc``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from file_store import FilePolicyStore

from client.lockdown.policy import DESKTOP_POLICIES, Profile, plan_for
from client.lockdown.restore import (
    apply_policies,
    read_record,
    record_path,
    restore,
    restore_leftovers,
)
from client.lockdown.unlock import unlock_pc

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def before_exam(store: FilePolicyStore) -> None:
    """A lab PC whose admin already set NoClose=0 and nothing else."""
    store.write(DESKTOP_POLICIES[4].key, "NoClose", 0)


def snapshot(store: FilePolicyStore) -> dict[str, int]:
    return store._load()


def test_both_profiles_set_and_restore_the_same_desktop_policies() -> None:
    assert plan_for(Profile.STRICT).policies == plan_for(Profile.ASSISTIVE).policies
    names = {p.name for p in DESKTOP_POLICIES}
    assert {"DisableTaskMgr", "NoClose", "NoLogoff", "DisableLockWorkstation"} <= names


def test_clean_exit_restores_exactly_the_previous_values(tmp_path: Path) -> None:
    store = FilePolicyStore(tmp_path / "registry.json")
    before_exam(store)
    original = snapshot(store)
    path = record_path(tmp_path)
    record = apply_policies(store=store, path=path, profile="strict", policies=DESKTOP_POLICIES)
    assert all(store.read(p.key, p.name) == 1 for p in DESKTOP_POLICIES)
    assert path.exists()
    restored = restore(store=store, path=path, record=record)
    assert set(restored) == {p.name for p in DESKTOP_POLICIES}
    assert snapshot(store) == original  # NoClose back to 0, the others gone again
    assert not path.exists()


def test_a_live_owner_is_not_undone_by_a_second_start(tmp_path: Path) -> None:
    store = FilePolicyStore(tmp_path / "registry.json")
    path = record_path(tmp_path)
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        record = apply_policies(store=store, path=path, profile="strict",
                                policies=DESKTOP_POLICIES)
        import psutil

        data = dict(record.to_json(), pid=owner.pid,
                    process_started=psutil.Process(owner.pid).create_time())
        path.write_text(json.dumps(data), encoding="utf-8")
        assert restore_leftovers(store=store, path=path) is None
        assert store.read(DESKTOP_POLICIES[0].key, "DisableTaskMgr") == 1
        lines: list[str] = []
        assert unlock_pc(data_dir=tmp_path, remove_all=False, store=store, out=lines) == 1
    finally:
        owner.kill()
        owner.wait()
    assert restore_leftovers(store=store, path=path) is not None  # owner gone: restored
    assert store.read(DESKTOP_POLICIES[0].key, "DisableTaskMgr") is None


CRASHING_EXAM = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {here!r})
from file_store import FilePolicyStore
from client.lockdown.policy import DESKTOP_POLICIES
from client.lockdown.restore import apply_policies, record_path
data = Path({data!r})
apply_policies(store=FilePolicyStore(data / "registry.json"), path=record_path(data),
               profile="strict", policies=DESKTOP_POLICIES)
os.kill(os.getpid(), signal.SIGKILL)  # the crash: no exit handler, no restore
"""

NEXT_START = """
import sys
from pathlib import Path
sys.path.insert(0, {here!r})
from file_store import FilePolicyStore
import client.lockdown.restore as restore
from client.config import load_settings
from client.launch import prepare_launch
data = Path({data!r})
# This PC's policy store is the file the crashed run wrote to (Linux has no registry).
restore.platform_store = lambda: FilePolicyStore(data / "registry.json")
settings = load_settings([]).with_overrides({{"data/directory": data}})
assert prepare_launch(settings, errors_to_stderr=True) is not None
"""


def run(code: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code.format(here=str(HERE), data=str(data)))],
        capture_output=True, text=True, env=env, timeout=60)


def test_after_a_crash_the_next_start_restores_the_pc(tmp_path: Path) -> None:
    store = FilePolicyStore(tmp_path / "registry.json")
    before_exam(store)
    original = snapshot(store)

    crashed = run(CRASHING_EXAM, tmp_path)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert store.read(DESKTOP_POLICIES[0].key, "DisableTaskMgr") == 1  # left locked down
    assert read_record(record_path(tmp_path)) is not None

    started = run(NEXT_START, tmp_path)
    assert started.returncode == 0, started.stderr
    assert snapshot(store) == original
    assert not record_path(tmp_path).exists()
    assert "restoring the lockdown a previous run left" in started.stderr


def test_unlock_pc_restores_from_the_record_or_clears_all(tmp_path: Path) -> None:
    store = FilePolicyStore(tmp_path / "registry.json")
    before_exam(store)
    original = snapshot(store)
    assert run(CRASHING_EXAM, tmp_path).returncode == -signal.SIGKILL
    lines: list[str] = []
    assert unlock_pc(data_dir=tmp_path, remove_all=False, store=store, out=lines) == 0
    assert snapshot(store) == original and "NoClose" in lines[0]

    # Record lost (data folder deleted) but the values are still set:
    for policy in DESKTOP_POLICIES:
        store.write(policy.key, policy.name, 1)
    lines.clear()
    assert unlock_pc(data_dir=tmp_path, remove_all=False, store=store, out=lines) == 0
    assert "--all" in lines[0] and store.read(DESKTOP_POLICIES[0].key, "DisableTaskMgr") == 1
    assert unlock_pc(data_dir=tmp_path, remove_all=True, store=store, out=lines) == 0
    assert snapshot(store) == {}


def test_unlock_pc_command_runs_on_a_pc_without_a_policy_store(tmp_path: Path) -> None:
    ini = tmp_path / "user.ini"
    ini.write_text(f"[data]\ndirectory = {tmp_path / 'data'}\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "client", "--config", str(ini), "unlock-pc"],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
