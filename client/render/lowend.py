"""Low-end mode: what an old lab PC (< 4 GB RAM or a dual-core CPU) gives up.

Decided by the PC's capability, not by the render level: the client paints with Qt Widgets
(no OpenGL surface), so software rendering costs it nothing, and a level lowered by one
bad start must not switch a capable PC to 320x240 at 8 fps for good. Decided from plain
data so it is testable; total_ram_bytes() and logical_cpus() are the only probes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Windows reports a little less than the installed size (firmware/GPU reservations), so a
# "4 GB" PC shows about 3.8 GiB: compare against 3.5 GiB to keep such PCs in normal mode.
LOW_RAM_THRESHOLD_BYTES = int(3.5 * 1024**3)
# Face checks, the integrity monitor and the UI share the CPU: two logical processors
# (old Celeron/Pentium lab PCs) cannot keep the camera at 15 fps beside the rest.
LOW_CPU_THRESHOLD = 2


@dataclass(frozen=True)
class PerformanceProfile:
    low_end: bool
    reasons: tuple[str, ...]
    animations: bool
    graphics_effects: bool  # drop shadows, blur, opacity effects
    camera_resolution: tuple[int, int]
    camera_fps: int
    background_check_interval_s: float  # integrity/network polling period

    def as_dict(self) -> dict[str, object]:
        return {
            "low_end": self.low_end, "reasons": list(self.reasons),
            "animations": self.animations, "graphics_effects": self.graphics_effects,
            "camera_resolution": list(self.camera_resolution), "camera_fps": self.camera_fps,
            "background_check_interval_s": self.background_check_interval_s,
        }


NORMAL = PerformanceProfile(
    low_end=False, reasons=(), animations=True, graphics_effects=True,
    camera_resolution=(640, 480), camera_fps=15, background_check_interval_s=10.0,
)


def decide_profile(
    *, total_ram_bytes: int | None, logical_cpus: int | None, forced: bool | None = None
) -> PerformanceProfile:
    """Low-end with little RAM or few CPUs; *forced* (user.ini) overrides both ways."""
    reasons: list[str] = []
    if total_ram_bytes is not None and total_ram_bytes < LOW_RAM_THRESHOLD_BYTES:
        reasons.append(f"{total_ram_bytes / 1024**3:.1f} GiB RAM")
    if logical_cpus is not None and logical_cpus <= LOW_CPU_THRESHOLD:
        reasons.append(f"{logical_cpus} logical CPUs")
    if forced is False:
        return NORMAL
    if forced is True:
        reasons.append("forced in user.ini")
    if not reasons:
        return NORMAL
    return PerformanceProfile(
        low_end=True, reasons=tuple(reasons), animations=False, graphics_effects=False,
        camera_resolution=(320, 240), camera_fps=8, background_check_interval_s=30.0,
    )


def total_ram_bytes() -> int | None:
    """Installed RAM as the OS reports it, or None if it cannot be read."""
    try:
        import psutil  # imported here: keeps the pre-Qt start-up path light

        return int(psutil.virtual_memory().total)
    except Exception as exc:  # psutil missing or the OS call failed: decide without RAM
        log.warning("cannot read installed RAM: %s", exc)
        return None


def logical_cpus() -> int | None:
    """Logical processors as the OS reports them, or None if unknown."""
    import os

    return os.cpu_count()
