"""Start the client again (after a crash or a rendering fallback) with the same arguments.

A counter in the environment stops a crash loop: after MAX_AUTOMATIC_RESTARTS restarts
within one chain the client stops restarting and asks for a proctor instead.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

RESTART_COUNT_VARIABLE = "EXAM_CLIENT_RESTART_COUNT"
MAX_AUTOMATIC_RESTARTS = 5
RESUME_FLAG = "--resume"
PARENT_PID_VARIABLE = "EXAM_CLIENT_RESTARTED_FROM_PID"


def restart_argv(*, extra_flags: Sequence[str] = (RESUME_FLAG,)) -> list[str]:
    """The command line that started this process, plus *extra_flags* not yet in it.

    sys.orig_argv keeps ``-m client`` and interpreter options that sys.argv loses; a frozen
    executable is simply run again.
    """
    if getattr(sys, "frozen", False):
        argv = [sys.executable, *sys.argv[1:]]
    else:
        argv = [sys.executable, *sys.orig_argv[1:]]
    argv += [flag for flag in extra_flags if flag not in argv]
    return argv


def restart_count(environ: Mapping[str, str] | None = None) -> int:
    value = (os.environ if environ is None else environ).get(RESTART_COUNT_VARIABLE, "0")
    return int(value) if value.isdigit() else 0


def may_restart(environ: Mapping[str, str] | None = None) -> bool:
    return restart_count(environ) < MAX_AUTOMATIC_RESTARTS


def spawn_detached(argv: Sequence[str], *, environ: Mapping[str, str] | None = None) -> int:
    """Start *argv* as an independent process (it survives our exit) and return its pid."""
    env = dict(os.environ if environ is None else environ)
    env[RESTART_COUNT_VARIABLE] = str(restart_count(env) + 1)
    env[PARENT_PID_VARIABLE] = str(os.getpid())
    kwargs: dict[str, object] = {"stdin": subprocess.DEVNULL, "close_fds": True, "env": env}
    if sys.platform == "win32":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
        kwargs["creationflags"] = flags
    else:
        kwargs["start_new_session"] = True
    process = subprocess.Popen(list(argv), **kwargs)  # type: ignore[call-overload]
    log.warning("restarted the client as pid %d: %s", process.pid, " ".join(argv))
    return int(process.pid)


def wait_for_restarting_parent(*, timeout_s: float = 15.0) -> bool:
    """In a restarted client: wait until the process that restarted us has exited.

    Otherwise the new process could find the old one still holding the single-instance
    socket (and exit), or both could touch the answer store at once. Returns True when
    there is no parent to wait for or it exited in time.
    """
    value = os.environ.pop(PARENT_PID_VARIABLE, "")
    if not value.isdigit():
        return True
    try:
        import psutil  # imported here: only restarted processes need it

        psutil.Process(int(value)).wait(timeout=timeout_s)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        log.error("the restarting client (pid %s) did not exit within %.0f s", value, timeout_s)
        return False
    return True
