"""Start-up before any Qt import (qutebrowser's earlyinit order; docs/rendering.md).

settings -> log file -> faulthandler crash log -> dependency check -> rendering level
(remembered per PC, one lower after a start that never painted) -> Qt environment ->
exception hooks. Only then does client.ui (and with it PySide6) get imported, so a PC
whose Qt DLLs are broken still gets a plain message and a log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from client.config import Settings
from client.lockdown.restore import restore_at_start
from client.render import levels, lowend, sentinel
from client.render.lowend import PerformanceProfile
from client.render.sentinel import LevelDecision
from client.startup import deps, early, restart

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchContext:
    settings: Settings
    data_dir: Path
    decision: LevelDecision
    profile: PerformanceProfile
    errors_to_stderr: bool

    @property
    def crash_dir(self) -> Path:
        return self.data_dir / "crash"

    @property
    def render_state_dir(self) -> Path:
        return self.data_dir / "render"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


def prepare_launch(settings: Settings, *, errors_to_stderr: bool) -> LaunchContext | None:
    """Everything up to (not including) the first Qt import; None = cannot start."""
    data_dir = settings.data_dir
    early.setup_logging(log_dir=data_dir / "logs",
                        level=getattr(logging, settings.get("logging/level")),
                        to_stderr=errors_to_stderr)
    early.arm_faulthandler(data_dir / "crash")
    for problem in settings.problems:
        log.error("user.ini: %s", problem.message())
    if not deps.verify_or_explain():
        return None
    restart.wait_for_restarting_parent()
    # A run that crashed mid-exam may have left Task Manager or shut-down disabled.
    restore_at_start(data_dir)
    decision = sentinel.choose_level(
        levels.parse_level_setting(settings.get("OpenGL/Level")), data_dir / "render")
    levels.apply_environment(decision.level)
    profile = lowend.decide_profile(total_ram_bytes=lowend.total_ram_bytes(),
                                    logical_cpus=lowend.logical_cpus())
    log.info("rendering level %s (%s); low-end mode: %s", int(decision.level), decision.reason,
             profile.low_end)
    early.install_excepthooks(crash_dir=data_dir / "crash", show_error=None,
                              errors_to_stderr=errors_to_stderr)
    return LaunchContext(settings=settings, data_dir=data_dir, decision=decision,
                         profile=profile, errors_to_stderr=errors_to_stderr)
