"""user.ini [camera] keys -> client.camera.settings.CameraSettings.

Only the thresholds a center may need to tune are declared as settings (declarations.py,
documented in config/user.ini.example); the rest keep the defaults measured in
docs/camera.md. Low-end mode lowers the capture resolution.
"""

from __future__ import annotations

import dataclasses
import logging

from client.camera.settings import CameraSettings
from client.config.loader import Settings

log = logging.getLogger(__name__)

TUNABLE = (
    "match_threshold", "max_failures_before_proctor", "challenge_min_count",
    "challenge_max_count", "challenge_timeout_s", "monitor_interval_s", "monitor_debounce",
    "review_no_face_total_s", "flip_horizontal",
)


def camera_settings(settings: Settings, *, low_end: bool = False) -> CameraSettings:
    """The machine's camera settings (security keys only from the machine-wide file:
    client.config.loader). Values that do not fit together fall back one key at a
    time, never the whole section."""
    values = {name: settings.get(f"camera/{name}") for name in TUNABLE}
    if low_end:
        values.update(capture_width=320, capture_height=240)
    result = CameraSettings()
    for name, value in values.items():
        try:
            result = dataclasses.replace(result, **{name: value})
        except ValueError as exc:  # e.g. challenge_min_count > challenge_max_count
            log.error("[camera] %s = %r does not fit (%s); keeping %r", name, value, exc,
                      getattr(result, name))
    return result
