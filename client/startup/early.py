"""Logging, native crash logs and exception hooks: the first things the client sets up.

Nothing here imports Qt. What a person sees when something goes wrong is decided by a
pluggable callback (client/ui/crash_dialog.py shows a calm dialog and restarts), so the
same hooks serve the GUI, the command line and tests (``errors_to_stderr``).

Crash files live in ``<data dir>/crash``:

``faulthandler-<pid>.log``   armed for the life of one process; Python's faulthandler
                             writes the native crash (access violation, abort) into it.
                             Empty after a normal exit and then deleted.
``crash-<time>-<pid>-<kind>.log``  one per crash, made from a non-empty fault log at the
                             next start (kind ``native``) or written by the exception hook
                             (kind ``python``). Shown once to support, kept for diagnostics.
``seen/``                    crash logs that were already shown.
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

log = logging.getLogger(__name__)

LOG_FILE = "exam-client.log"
LOG_MAX_BYTES = 2 * 1024 * 1024
LOG_BACKUPS = 5
FAULT_LOG_PREFIX = "faulthandler-"
CRASH_PREFIX = "crash-"
SEEN_DIR = "seen"
MAX_KEPT_CRASH_LOGS = 50
LOG_FORMAT = "%(asctime)s %(levelname)-8s %(threadName)s %(name)s: %(message)s"


def setup_logging(*, log_dir: Path, level: int = logging.INFO, to_stderr: bool = False) -> Path:
    """Log to a rotating UTF-8 file in *log_dir* (and to stderr when asked and available)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE
    root = logging.getLogger()
    root.setLevel(level)
    formatter = logging.Formatter(LOG_FORMAT)
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        # delay=False: the file exists from the first line, so diagnostics always find it.
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
    # A windowed frozen build has sys.stderr = None: a StreamHandler on it would raise.
    if to_stderr and sys.stderr is not None:
        stream_handler = logging.StreamHandler(sys.stderr)
        stream_handler.setFormatter(formatter)
        root.addHandler(stream_handler)
    logging.captureWarnings(True)
    return path


def log_files(log_dir: Path) -> list[Path]:
    """The current log and its rotated backups, newest first."""
    return sorted(log_dir.glob(LOG_FILE + "*"), key=lambda p: p.stat().st_mtime, reverse=True)


# ---------------------------------------------------------------------------------------
# native crashes: faulthandler


_fault_file: IO[str] | None = None
_fault_path: Path | None = None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        import psutil  # imported here: only needed when an old fault log is found

        return bool(psutil.pid_exists(pid))
    except ImportError:
        if sys.platform == "win32":
            return False  # without psutil assume it is gone: worst case, one log is early
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _crash_name(*, when: float, pid: int, kind: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    return f"{CRASH_PREFIX}{stamp}-{pid}-{kind}.log"


def collect_fault_logs(crash_dir: Path) -> list[Path]:
    """Turn fault logs of processes that are gone into crash logs; delete empty ones."""
    made: list[Path] = []
    if not crash_dir.is_dir():
        return made
    for path in sorted(crash_dir.glob(FAULT_LOG_PREFIX + "*.log")):
        pid_text = path.stem.removeprefix(FAULT_LOG_PREFIX)
        pid = int(pid_text) if pid_text.isdigit() else -1
        if pid > 0 and _pid_alive(pid):
            continue  # another running instance owns it
        try:
            size = path.stat().st_size
            if size == 0:
                path.unlink()
                continue
            target = crash_dir / _crash_name(when=path.stat().st_mtime, pid=pid, kind="native")
            os.replace(path, target)
            made.append(target)
            log.error("the previous run crashed; native crash log kept as %s", target.name)
        except OSError as exc:
            log.warning("cannot collect fault log %s: %s", path, exc)
    return made


def arm_faulthandler(crash_dir: Path) -> Path:
    """Collect earlier fault logs, then write this process's native crashes to a file.

    A file is always passed to faulthandler: in a windowed frozen build sys.stderr is None
    and faulthandler.enable() without a file would fail.
    """
    global _fault_file, _fault_path
    crash_dir.mkdir(parents=True, exist_ok=True)
    collect_fault_logs(crash_dir)
    prune_crash_logs(crash_dir)
    path = crash_dir / f"{FAULT_LOG_PREFIX}{os.getpid()}.log"
    handle = path.open("w", encoding="utf-8")
    faulthandler.enable(file=handle, all_threads=True)
    _fault_file, _fault_path = handle, path
    return path


def disarm_faulthandler() -> None:
    """At a normal exit: stop faulthandler and delete the (empty) fault log."""
    global _fault_file, _fault_path
    if _fault_file is None or _fault_path is None:
        return
    faulthandler.disable()
    _fault_file.close()
    try:
        if _fault_path.stat().st_size == 0:
            _fault_path.unlink()
    except OSError:
        pass
    _fault_file = _fault_path = None


# ---------------------------------------------------------------------------------------
# crash logs shown at the next start and put into diagnostics


@dataclass(frozen=True)
class CrashReport:
    path: Path
    kind: str  # "native" | "python"
    created: float

    def read_text(self, *, limit: int = 200_000) -> str:
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")[:limit]
        except OSError as exc:
            return f"(cannot read {self.path.name}: {exc})"


def _report_for(path: Path) -> CrashReport:
    kind = path.stem.rsplit("-", 1)[-1]
    try:
        created = path.stat().st_mtime
    except OSError:
        created = 0.0
    return CrashReport(path=path, kind=kind if kind in ("native", "python") else "unknown",
                       created=created)


def pending_crash_reports(crash_dir: Path) -> list[CrashReport]:
    """Crash logs not yet shown to support/proctors, oldest first."""
    if not crash_dir.is_dir():
        return []
    return sorted((_report_for(p) for p in crash_dir.glob(CRASH_PREFIX + "*.log")),
                  key=lambda r: r.created)


def all_crash_logs(crash_dir: Path) -> list[Path]:
    """Every kept crash log (pending and seen), for diagnostics."""
    if not crash_dir.is_dir():
        return []
    paths = list(crash_dir.glob(CRASH_PREFIX + "*.log"))
    paths += list((crash_dir / SEEN_DIR).glob(CRASH_PREFIX + "*.log"))
    return sorted(paths, key=lambda p: p.name)


def mark_reports_seen(reports: list[CrashReport]) -> None:
    for report in reports:
        seen_dir = report.path.parent / SEEN_DIR
        try:
            seen_dir.mkdir(exist_ok=True)
            os.replace(report.path, seen_dir / report.path.name)
        except OSError as exc:
            log.warning("cannot move %s to seen/: %s", report.path, exc)


def prune_crash_logs(crash_dir: Path, *, keep: int = MAX_KEPT_CRASH_LOGS) -> None:
    """Keep the newest *keep* seen crash logs so a crash loop cannot fill the disk."""
    seen = sorted((crash_dir / SEEN_DIR).glob(CRASH_PREFIX + "*.log"), key=lambda p: p.name)
    for path in seen[:-keep] if keep else seen:
        path.unlink(missing_ok=True)


def write_crash_report(crash_dir: Path, *, kind: str, text: str) -> Path:
    crash_dir.mkdir(parents=True, exist_ok=True)
    path = crash_dir / _crash_name(when=time.time(), pid=os.getpid(), kind=kind)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return path


# ---------------------------------------------------------------------------------------
# unhandled Python exceptions


@dataclass(frozen=True)
class ErrorReport:
    """What the "show error" callback receives."""

    exc_type: str
    message: str
    traceback_text: str
    thread_name: str
    crash_log: Path | None


ShowError = Callable[[ErrorReport], None]

_hook_lock = threading.RLock()
_in_hook = threading.local()


@dataclass
class _HookConfig:
    crash_dir: Path
    show_error: ShowError | None
    errors_to_stderr: bool


_config: _HookConfig | None = None


def install_excepthooks(
    *, crash_dir: Path, show_error: ShowError | None, errors_to_stderr: bool = False
) -> None:
    """Route unhandled exceptions (main thread and other threads) through one handler.

    The handler logs the error and writes a crash log; then, unless *errors_to_stderr* is
    set (tests, support), it calls *show_error*, which in the GUI shows the calm dialog and
    restarts the client into the exam. Answers need no saving here: every answer is
    durable when it was saved (client/store).
    """
    global _config
    _config = _HookConfig(crash_dir=crash_dir, show_error=show_error,
                          errors_to_stderr=errors_to_stderr)
    sys.excepthook = _sys_hook
    threading.excepthook = _thread_hook


def set_show_error(show_error: ShowError | None) -> None:
    """Swap the callback once the UI exists (before that: stderr / plain message)."""
    if _config is not None:
        _config.show_error = show_error


def uninstall_excepthooks() -> None:
    global _config
    _config = None
    sys.excepthook = sys.__excepthook__
    threading.excepthook = threading.__excepthook__


def _sys_hook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    handle_exception(exc_type, exc, tb, thread_name=threading.current_thread().name)


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    exc = args.exc_value if args.exc_value is not None else args.exc_type()
    name = args.thread.name if args.thread is not None else "unknown thread"
    handle_exception(args.exc_type, exc, args.exc_traceback, thread_name=name)


def handle_exception(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    *,
    thread_name: str,
) -> ErrorReport:
    """Log, write a crash log, then tell the person (or stderr). Never raises."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    report = ErrorReport(exc_type=exc_type.__name__, message=str(exc), traceback_text=text,
                         thread_name=thread_name, crash_log=None)
    if getattr(_in_hook, "active", False):
        # An error while handling an error: only stderr is safe now.
        _write_stderr(f"error while handling an error in {thread_name}:\n{text}")
        return report
    _in_hook.active = True
    try:
        with _hook_lock:
            log.critical("unhandled exception in %s:\n%s", thread_name, text)
            config = _config
            if config is not None:
                try:
                    header = (f"time: {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
                              f"pid: {os.getpid()}\nthread: {thread_name}\n\n")
                    path = write_crash_report(config.crash_dir, kind="python", text=header + text)
                    report = ErrorReport(exc_type=report.exc_type, message=report.message,
                                         traceback_text=text, thread_name=thread_name,
                                         crash_log=path)
                except OSError as exc_write:
                    log.error("cannot write crash log: %s", exc_write)
            if config is None or config.errors_to_stderr or config.show_error is None:
                _write_stderr(f"unhandled exception in {thread_name}:\n{text}")
            else:
                try:
                    config.show_error(report)
                except Exception:
                    log.exception("the show-error callback failed")
                    _write_stderr(text)
    finally:
        _in_hook.active = False
    return report


def _write_stderr(text: str) -> None:
    stream = sys.stderr
    if stream is None:  # windowed frozen build: the log and crash log already have it
        return
    try:
        stream.write(text if text.endswith("\n") else text + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass
