"""The crash-restore record: what the lockdown changed on this PC, written before it changes it.

Safe Exam Browser leaves Task Manager and "shut down" disabled after a crash (SEB #1428,
#691, #759). Here every desktop policy is recorded (with the value it had, or that it did
not exist) in ``<data>/lockdown/restore.json`` *before* it is set; a clean exit restores and
deletes the record; a crash leaves it, and the next start (or ``exam-client unlock-pc``)
restores from it. The record is written atomically so a power cut leaves the old one or the
new one, never half of it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from client.lockdown.policy import DesktopPolicy

log = logging.getLogger(__name__)

RECORD_VERSION = 1


class PolicyStore(Protocol):
    """Per-user desktop policy values (the Windows registry under HKEY_CURRENT_USER)."""

    def read(self, key: str, name: str) -> int | None: ...
    def write(self, key: str, name: str, value: int) -> None: ...
    def delete(self, key: str, name: str) -> None: ...


@dataclass(frozen=True)
class SavedValue:
    key: str
    name: str
    previous: int | None  # None: the value did not exist before the exam


@dataclass(frozen=True)
class RestoreRecord:
    pid: int
    process_started: float  # the process's create time: tells a live owner from a reused pid
    written_ms: int
    profile: str
    values: tuple[SavedValue, ...]

    def to_json(self) -> dict[str, object]:
        return {"version": RECORD_VERSION, "pid": self.pid,
                "process_started": self.process_started, "written_ms": self.written_ms,
                "profile": self.profile,
                "values": [{"key": v.key, "name": v.name, "previous": v.previous}
                           for v in self.values]}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RestoreRecord:
        raw_values = data.get("values")
        if data.get("version") != RECORD_VERSION or not isinstance(raw_values, list):
            raise ValueError("not a lockdown restore record")
        values = tuple(SavedValue(key=str(v["key"]), name=str(v["name"]),
                                  previous=None if v["previous"] is None else int(v["previous"]))
                       for v in raw_values)
        return cls(pid=int(str(data["pid"])), process_started=float(str(data["process_started"])),
                   written_ms=int(str(data["written_ms"])), profile=str(data["profile"]),
                   values=values)


def record_path(data_dir: Path) -> Path:
    return data_dir / "lockdown" / "restore.json"


def _process_started(pid: int) -> float:
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return 0.0


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_record(path: Path) -> RestoreRecord | None:
    if not path.exists():
        return None
    try:
        return RestoreRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # Unreadable: nothing can be restored from it; say so and keep the file for support.
        log.error("lockdown restore record %s unreadable: %r", path, exc)
        return None


def apply_policies(*, store: PolicyStore, path: Path, profile: str,
                   policies: Iterable[DesktopPolicy]) -> RestoreRecord:
    """Record the current values, then set *policies*. Values an earlier crashed run left
    are restored first, so "previous" is never one of our own values."""
    restore_leftovers(store=store, path=path)
    wanted = tuple(policies)
    record = RestoreRecord(
        pid=os.getpid(), process_started=_process_started(os.getpid()),
        written_ms=int(time.time() * 1000), profile=profile,
        values=tuple(SavedValue(p.key, p.name, store.read(p.key, p.name)) for p in wanted))
    _write_atomically(path, json.dumps(record.to_json(), ensure_ascii=False, indent=1))
    for policy in wanted:
        store.write(policy.key, policy.name, policy.value)
    log.info("lockdown policies set (%s): %s", profile, ", ".join(p.name for p in wanted))
    return record


def restore(*, store: PolicyStore, path: Path, record: RestoreRecord) -> list[str]:
    """Put every recorded value back and delete the record; returns the names restored.
    A value that cannot be restored keeps the record, for the next start or support."""
    restored: list[str] = []
    failed: list[str] = []
    for saved in record.values:
        try:
            if saved.previous is None:
                store.delete(saved.key, saved.name)
            else:
                store.write(saved.key, saved.name, saved.previous)
            restored.append(saved.name)
        except OSError as exc:
            log.error("cannot restore %s\\%s: %r", saved.key, saved.name, exc)
            failed.append(saved.name)
    if not failed:
        path.unlink(missing_ok=True)
    log.info("lockdown restored: %s%s", ", ".join(restored) or "-",
             f"; failed: {', '.join(failed)}" if failed else "")
    return restored


def owner_alive(record: RestoreRecord) -> bool:
    """The client that wrote *record* still runs (a second start must not undo its lockdown)."""
    if record.pid == os.getpid():
        return False
    started = _process_started(record.pid)
    return started != 0.0 and abs(started - record.process_started) < 1.0


def restore_leftovers(*, store: PolicyStore, path: Path) -> list[str] | None:
    """What a crashed run left behind, restored; None when there was nothing to restore
    (no record, or its owner is still running)."""
    record = read_record(path)
    if record is None or owner_alive(record):
        return None
    log.warning("restoring the lockdown a previous run left (pid %s, written %s ms)",
                record.pid, record.written_ms)
    return restore(store=store, path=path, record=record)


def platform_store() -> PolicyStore | None:
    """The desktop-policy store of this PC: the registry on Windows; none elsewhere (the
    lockdown on Linux changes nothing that outlives the process)."""
    if sys.platform == "win32":
        from client.lockdown.windows.registry import RegistryPolicyStore

        return RegistryPolicyStore()
    return None


def restore_at_start(data_dir: Path) -> list[str] | None:
    """Called by every start before the window opens: undo what a crashed run left."""
    store = platform_store()
    path = record_path(data_dir)
    if store is None:
        if path.exists():
            log.error("lockdown restore record %s found, but this platform has no policy "
                      "store to restore it to", path)
        return None
    return restore_leftovers(store=store, path=path)
