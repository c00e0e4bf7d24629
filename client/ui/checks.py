"""What the exam window checks before and during the exam (built by the caller).

Kept as plain callables so that tests and the demo can hand in a fixture snapshot or a
file-backed camera while the real client hands in the platform collectors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from client.camera.devices import CameraSelection
from client.camera.settings import CameraSettings
from client.camera.sources import FrameSource
from client.config import Settings
from client.integrity.collector import Collector, SelectedCamera
from client.integrity.rules import Rules
from client.integrity.snapshot import Snapshot

log = logging.getLogger(__name__)


@dataclass
class IntegrityChecks:
    scan: Callable[[], Snapshot]                 # full snapshot for the pre-exam screen
    collector: Callable[[], Collector]           # for the in-exam monitor
    rules: Callable[[], Rules]
    enforce: bool = True   # False only in demo mode on a VM: findings shown, not blocking
    process_interval_s: float = 3.0
    device_interval_s: float = 45.0


def platform_integrity_checks(*, enforce: bool = True, low_end: bool = False,
                              selected_camera: SelectedCamera = None) -> IntegrityChecks:
    """*selected_camera*: the camera proctoring will open (path or name, or a callable
    that reads the candidate's current choice), so a virtual one there blocks (e-02)."""
    from client.integrity.collector import platform_collector
    from client.integrity.rules import builtin_rules

    # One collector for the whole session: it caches file facts and remembers which
    # source still hangs, so a hung Windows call is not started again on every scan.
    shared: list[Collector] = []

    def collector() -> Collector:
        if not shared:
            shared.append(platform_collector(rules=builtin_rules(),
                                             selected_camera=selected_camera))
        return shared[0]

    checks = IntegrityChecks(scan=lambda: collector().snapshot(), collector=collector,
                             rules=builtin_rules, enforce=enforce,
                             process_interval_s=6.0 if low_end else 3.0,
                             device_interval_s=60.0 if low_end else 45.0)

    def scan() -> Snapshot:
        # The rules in force decide whose signatures are read (server-shipped tools and
        # allow entries), so the collector gets them before every pre-exam scan.
        source = collector()
        source.set_rules(checks.rules())
        return source.snapshot()

    checks.scan = scan
    return checks


def replayed_integrity_checks(snapshot_file: Path, *, enforce: bool = True) -> IntegrityChecks:
    """Checks against a recorded snapshot (support replays, demo, end-to-end tests)."""
    from client.integrity.replay import ReplayCollector
    from client.integrity.rules import builtin_rules

    collector = ReplayCollector(snapshot_file)
    return IntegrityChecks(scan=collector.snapshot, collector=lambda: collector,
                           rules=builtin_rules, enforce=enforce)


@dataclass
class CameraChecks:
    """Identity check before the exam and proctoring during it (client/camera)."""

    source_factory: Callable[[], FrameSource] | None  # a file source, or None: real camera
    settings: CameraSettings
    data_dir: Path
    enforce: bool = True  # False only in demo mode: shown, not blocking

    def selection(self) -> CameraSelection:
        from client.camera.devices import CameraSelection, DeviceChoiceStore, enumerate_devices

        return CameraSelection(enumerate_devices(), store=DeviceChoiceStore(self.data_dir),
                               width=self.settings.capture_width,
                               height=self.settings.capture_height,
                               flip_horizontal=self.settings.flip_horizontal)


def camera_checks_from(settings_values: Settings, *, enforce: bool, low_end: bool,
                       source_override: Path | None = None) -> CameraChecks | None:
    """The camera part of the checks, or None when [camera] enabled = false (which only the
    machine-wide config can say: client.config.loader).

    A file instead of a camera (``--camera-source`` / ``[camera] source``) is for the demo
    and tests only: in a real exam (*enforce*) it is refused and the real camera is used,
    whatever file asked for it (a file rewritten by a script is a virtual camera).
    """
    if not settings_values.get("camera/enabled"):
        return None
    from client.camera.sources import FileSequenceSource
    from client.config.camera import camera_settings

    camera = camera_settings(settings_values, low_end=low_end)
    source_path = source_override or settings_values.get("camera/source")
    factory: Callable[[], FrameSource] | None = None
    if source_path is not None and enforce:
        log.error("camera source %s refused: a file replaces the camera only in the demo",
                  source_path)
    elif source_path is not None:
        path = Path(source_path)
        factory = lambda: FileSequenceSource(path, realtime=True, loop=True)  # noqa: E731
    return CameraChecks(source_factory=factory, settings=camera,
                        data_dir=settings_values.data_dir, enforce=enforce)
