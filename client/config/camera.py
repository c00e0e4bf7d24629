"""user.ini [camera] keys -> client.camera.settings.CameraSettings.

Only the thresholds a center may need to tune are declared as settings (declarations.py,
documented in config/user.ini.example); the rest keep the defaults measured in
docs/camera.md. Low-end mode lowers the capture resolution.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

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


# The exam's camera policy in the signed package header (server/identity_audit.py puts
# it there; exam-server set-camera-policy sets it): the server's choice per exam. It
# comes after the machine-wide config.
POLICY_KEY = "camera_policy"
POLICY_FIELDS: dict[str, tuple[str, type, float, float]] = {
    # package key: (CameraSettings field, type, low, high)
    "match_threshold": ("match_threshold", float, 0.0, 1.0),
    "max_attempts": ("max_failures_before_proctor", int, 1, 10),
    "challenge_min_count": ("challenge_min_count", int, 1, 4),
    "challenge_max_count": ("challenge_max_count", int, 1, 4),
    "challenge_timeout_s": ("challenge_timeout_s", float, 2.0, 30.0),
}


def apply_package_policy(camera: CameraSettings, extra: Mapping[str, object]) -> CameraSettings:
    """*camera* with the package's per-exam policy applied (a bad value is skipped)."""
    policy = extra.get(POLICY_KEY)
    if not isinstance(policy, Mapping):
        return camera
    result = camera
    for key, (name, kind, low, high) in POLICY_FIELDS.items():
        value = policy.get(key)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if kind is int and not float(value).is_integer():
            continue
        if not low <= float(value) <= high:
            log.error("package camera policy %s = %r out of range; ignored", key, value)
            continue
        try:
            result = dataclasses.replace(result, **{name: kind(value)})
        except ValueError as exc:
            log.error("package camera policy %s = %r does not fit (%s)", key, value, exc)
    return result
