"""The start sentinel, the level remembered per PC and the render history.

Files in the per-PC state directory (machine-wide, not per candidate):

``start-sentinel.json``   written just before the first window is created, marked when the
                          first frame is painted (mark_first_frame), removed once the client
                          stayed up a few seconds, or on a clean exit. Finding it unmarked at
                          the next start means that start died or hung before its first
                          frame; a marked one means it was ended later (a crash, a kill, a
                          power cut), which says nothing about rendering.
``render-level.json``     the level that works on this PC (or the one a failure lowered it
                          to), with the reason. Deleting it (reset_remembered_level) makes
                          the next ``auto`` start try the highest level again.
``render-history.jsonl``  one JSON object per line: starts, confirmations, fallbacks,
                          resets. Support reads it in the diagnostics zip.

The decision logic (choose_level) takes plain data so it is tested without Qt; the Qt
side (client/ui/render_guard.py) calls mark_starting / mark_healthy / record_failure.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.render.levels import HIGHEST, LevelSetting, RenderLevel

log = logging.getLogger(__name__)

SENTINEL_FILE = "start-sentinel.json"
REMEMBERED_FILE = "render-level.json"
HISTORY_FILE = "render-history.jsonl"
HEALTHY_AFTER_SECONDS = 5.0
HISTORY_MAX_LINES = 500


@dataclass(frozen=True)
class LevelDecision:
    """Which level this start uses and why (the reason goes to the log and history)."""

    level: RenderLevel
    reason: str
    code: str  # "configured" | "remembered" | "default" | "fallback.sentinel"
    automatic: bool  # False when user.ini fixes the level: fallbacks are then only logged

    @property
    def fell_back(self) -> bool:
        return self.code.startswith("fallback")


@dataclass(frozen=True)
class SentinelRecord:
    level: RenderLevel
    pid: int
    started_at: float
    first_frame_at: float | None = None  # set by mark_first_frame


@dataclass(frozen=True)
class RememberedLevel:
    level: RenderLevel
    reason: str
    updated_at: float


def _atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file + fsync + rename: a power cut leaves old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        # A torn or garbled state file must not stop the exam: treat it as absent.
        log.warning("render state file %s unreadable (%s)", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _level_from(value: object) -> RenderLevel | None:
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1, 2):
        return RenderLevel(value)
    return None


def append_history(state_dir: Path, event: str, **fields: object) -> None:
    """Add one line to render-history.jsonl (kept to the last HISTORY_MAX_LINES lines)."""
    path = state_dir / HISTORY_FILE
    record = {"time": time.time(), "event": event, **fields}
    line = json.dumps(record, ensure_ascii=False, default=str)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        with path.open("a+b") as handle:
            # A line torn by a power cut has no newline: start on a fresh line after it.
            handle.seek(0, os.SEEK_END)
            if handle.tell() > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")
            handle.write(line.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        if path.stat().st_size > HISTORY_MAX_LINES * 400:
            lines = path.read_text(encoding="utf-8").splitlines()[-HISTORY_MAX_LINES:]
            _atomic_write_text(path, "\n".join(lines) + "\n")
    except OSError as exc:
        log.warning("cannot append to %s: %s", path, exc)


def read_history(state_dir: Path, *, limit: int = HISTORY_MAX_LINES) -> list[dict[str, Any]]:
    path = state_dir / HISTORY_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    records: list[dict[str, Any]] = []
    for line in lines[-limit:]:
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a line torn by a power cut
        if isinstance(item, dict):
            records.append(item)
    return records


def read_sentinel(state_dir: Path) -> SentinelRecord | None:
    data = _read_json(state_dir / SENTINEL_FILE)
    if data is None:
        if (state_dir / SENTINEL_FILE).exists():
            # Present but unreadable: the previous start still did not finish.
            return SentinelRecord(level=HIGHEST, pid=-1, started_at=0.0)
        return None
    level = _level_from(data.get("level"))
    pid = data.get("pid")
    started = data.get("started_at")
    first_frame = data.get("first_frame_at")
    return SentinelRecord(
        level=level if level is not None else HIGHEST,
        pid=pid if isinstance(pid, int) else -1,
        started_at=float(started) if isinstance(started, int | float) else 0.0,
        first_frame_at=float(first_frame) if isinstance(first_frame, int | float) else None,
    )


def read_remembered(state_dir: Path) -> RememberedLevel | None:
    data = _read_json(state_dir / REMEMBERED_FILE)
    if data is None:
        return None
    level = _level_from(data.get("level"))
    if level is None:
        return None
    updated = data.get("updated_at")
    return RememberedLevel(
        level=level,
        reason=str(data.get("reason", "")),
        updated_at=float(updated) if isinstance(updated, int | float) else 0.0,
    )


def remember_level(state_dir: Path, level: RenderLevel, *, reason: str) -> None:
    payload = {"level": int(level), "name": level.label, "reason": reason,
               "updated_at": time.time()}
    _atomic_write_text(state_dir / REMEMBERED_FILE, json.dumps(payload, ensure_ascii=False))


def choose_level(configured: LevelSetting, state_dir: Path) -> LevelDecision:
    """Decide this start's level from user.ini's setting and what earlier starts left behind.

    * A fixed level in user.ini always wins (the admin's manual override); an unfinished
      earlier start is only recorded.
    * ``auto``: an unfinished earlier start (sentinel present) -> one level below the level
      it used, remembered with the reason; else the remembered level; else the highest.
    """
    sentinel = read_sentinel(state_dir)
    if configured != "auto":
        level = RenderLevel(configured)
        if sentinel is not None:
            append_history(
                state_dir, "unfinished_start", level=int(sentinel.level), pid=sentinel.pid,
                action="kept the level configured in user.ini",
            )
            _remove(state_dir / SENTINEL_FILE)
        return LevelDecision(
            level=level, reason=f"[OpenGL] Level={int(level)} in user.ini",
            code="configured", automatic=False,
        )
    remembered = read_remembered(state_dir)
    if sentinel is not None and sentinel.first_frame_at is not None:
        # The previous start painted its first frame and was ended later (crash elsewhere,
        # killed, power cut): not a rendering failure, the level stays.
        append_history(
            state_dir, "ended_after_first_frame", level=int(sentinel.level), pid=sentinel.pid,
            seconds_after_first_frame=round(time.time() - sentinel.first_frame_at, 1),
            action="level kept",
        )
        _remove(state_dir / SENTINEL_FILE)
        log.info("the previous start at level %d ended after its first frame; level kept",
                 int(sentinel.level))
        sentinel = None
    if sentinel is not None:
        failed = sentinel.level
        lower = failed.lower()
        if lower == failed:
            reason = (f"the previous start at level {int(failed)} ({failed.label}) did not reach "
                      "its first frame; already at the lowest level")
        else:
            reason = (f"the previous start at level {int(failed)} ({failed.label}) did not reach "
                      f"its first frame (crash or hang); falling back to level {int(lower)}")
        remember_level(state_dir, lower, reason=reason)
        append_history(
            state_dir, "fallback", cause="start_sentinel", from_level=int(failed),
            to_level=int(lower), pid=sentinel.pid, reason=reason,
        )
        _remove(state_dir / SENTINEL_FILE)
        log.warning("render level: %s", reason)
        return LevelDecision(level=lower, reason=reason, code="fallback.sentinel", automatic=True)
    if remembered is not None:
        return LevelDecision(
            level=remembered.level, reason=f"remembered for this PC: {remembered.reason}",
            code="remembered", automatic=True,
        )
    return LevelDecision(level=HIGHEST, reason="auto: no earlier result on this PC",
                         code="default", automatic=True)


def mark_starting(state_dir: Path, decision: LevelDecision) -> None:
    """Arm the sentinel. Call right before the first window is created."""
    payload = {
        "level": int(decision.level), "pid": os.getpid(), "started_at": time.time(),
        "code": decision.code,
    }
    _atomic_write_text(state_dir / SENTINEL_FILE, json.dumps(payload))
    append_history(state_dir, "start", level=int(decision.level), code=decision.code,
                   reason=decision.reason, pid=os.getpid())


def mark_first_frame(state_dir: Path, decision: LevelDecision) -> None:
    """The first frame was painted: from now on an abrupt end is not a rendering failure.
    (Qt's graphics errors and the white-screen probe still report through record_failure.)"""
    payload = {
        "level": int(decision.level), "pid": os.getpid(), "code": decision.code,
        "started_at": time.time(), "first_frame_at": time.time(),
    }
    existing = _read_json(state_dir / SENTINEL_FILE)
    if existing is not None and isinstance(existing.get("started_at"), int | float):
        payload["started_at"] = existing["started_at"]
    _atomic_write_text(state_dir / SENTINEL_FILE, json.dumps(payload))


def mark_healthy(state_dir: Path, decision: LevelDecision, *, detail: str = "") -> None:
    """First frame painted and the client stayed up: disarm, and remember the level (auto)."""
    _remove(state_dir / SENTINEL_FILE)
    if decision.automatic:
        remembered = read_remembered(state_dir)
        if remembered is None or remembered.level != decision.level:
            remember_level(state_dir, decision.level,
                           reason=f"level {int(decision.level)} ({decision.level.label}) "
                                  "rendered its first frame")
    append_history(state_dir, "healthy", level=int(decision.level), detail=detail)


def disarm(state_dir: Path, *, why: str) -> None:
    """Remove the sentinel without judging the level (clean exit, deliberate restart)."""
    if (state_dir / SENTINEL_FILE).exists():
        _remove(state_dir / SENTINEL_FILE)
        append_history(state_dir, "disarmed", why=why)


def record_failure(
    state_dir: Path, *, level: RenderLevel, cause: str, reason: str, automatic: bool = True
) -> RenderLevel:
    """A rendering failure seen while running (Qt message, blank window).

    Returns the level the next start will use: one lower under ``auto``, unchanged when
    user.ini fixes the level. The sentinel is removed because the caller restarts on
    purpose; the lowered level is already remembered.
    """
    lower = level.lower() if automatic else level
    if automatic:
        remember_level(state_dir, lower, reason=f"{cause} at level {int(level)}: {reason}")
    append_history(
        state_dir, "fallback" if automatic else "failure_kept_configured_level", cause=cause,
        from_level=int(level), to_level=int(lower), reason=reason,
    )
    _remove(state_dir / SENTINEL_FILE)
    log.error("rendering failure (%s) at level %d: %s; next level %d",
              cause, int(level), reason, int(lower))
    return lower


def reset_remembered_level(state_dir: Path, *, who: str = "admin") -> None:
    """Forget this PC's level: the next ``auto`` start tries the highest level again."""
    _remove(state_dir / REMEMBERED_FILE)
    _remove(state_dir / SENTINEL_FILE)
    append_history(state_dir, "reset", who=who)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot remove %s: %s", path, exc)
