"""Every camera threshold in one place (the config module maps user.ini [Camera] keys here).

The numbers are defaults measured on this project's test images (docs/camera.md has the
measurements and the margins); none of them was validated on a population of real
candidates, which is why they are settings and not constants.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class CameraSettings:
    # --- capture -------------------------------------------------------------------
    capture_width: int = 640
    capture_height: int = 480
    # A driver that delivers mirrored frames would swap the turn challenges.
    flip_horizontal: bool = False

    # --- detection -----------------------------------------------------------------
    # YuNet score; 0.7 keeps real faces (0.89-0.95 on the test images) and drops noise.
    detection_score: float = 0.7
    # Wider frames are searched at this width (3x faster at 640x480); 0: full size.
    detection_max_width: int = 320

    # --- quality gate (one plain instruction per failure) ---------------------------
    min_face_width_ratio: float = 0.20     # face box width / frame width (move closer)
    max_face_width_ratio: float = 0.65     # (move back)
    max_center_offset_x: float = 0.20      # face centre offset / frame width
    max_center_offset_y: float = 0.25      # face centre offset / frame height
    min_face_brightness: float = 50.0      # mean grey level in the face box, 0-255
    max_backlight_delta: float = 70.0      # background mean minus face mean
    min_sharpness: float = 18.0            # normalised Laplacian variance of the face
    quality_stable_frames: int = 3         # consecutive good frames before liveness
    quality_timeout_s: float = 30.0

    # --- camera health ---------------------------------------------------------------
    black_max_brightness: float = 12.0     # frame mean at or below: black
    black_max_contrast: float = 6.0        # frame grey std at or below: black/uniform
    black_window_s: float = 2.0            # all frames black this long: diagnose

    # --- liveness (relative to the person's own baseline) ----------------------------
    challenge_min_count: int = 2
    challenge_max_count: int = 3
    challenge_timeout_s: float = 6.0
    baseline_frames: int = 8
    baseline_timeout_s: float = 6.0
    baseline_max_abs_yaw: float = 0.15     # the baseline is taken looking roughly ahead
    baseline_min_ear: float = 0.12         # sanity floor: eyes must be visible at all
    blink_closed_ratio: float = 0.60       # EAR below 60 % of baseline: eyes closed
    blink_open_ratio: float = 0.85         # back above 85 %: eyes open again
    turn_yaw_delta: float = 0.10           # nose offset change, ~14 degrees of head turn
    mouth_open_delta: float = 0.15         # lip gap / mouth width increase over baseline
    hold_frames: int = 2                   # turns and mouth must hold this many frames
    face_lost_timeout_s: float = 2.0
    fail_on_wrong_action: bool = True      # a replay doing another challenge fails at once
    frozen_max_motion: float = 0.3         # mean |grey diff| between frames, whole window
    final_timeout_s: float = 4.0           # looking back at the camera after the last action

    # --- 1:1 match ---------------------------------------------------------------------
    # OpenCV zoo's SFace cosine threshold (LFW-calibrated). docs/camera.md: margins.
    match_threshold: float = 0.363
    max_failures_before_proctor: int = 3

    # --- proctoring during the exam ----------------------------------------------------
    monitor_interval_s: float = 5.0
    monitor_debounce: int = 2              # analyses in a row before an event opens
    monitor_clear: int = 2                 # analyses in a row without it before it closes
    monitor_dark_brightness: float = 40.0  # frame mean below: too dark
    monitor_covered_contrast: float = 8.0  # frame grey std below: covered / black
    monitor_max_identity_yaw: float = 0.25 # more turned than this: identity inconclusive
    review_no_face_total_s: float = 60.0   # cumulative absence that holds the result
    snapshot_width: int = 160

    def __post_init__(self) -> None:
        if not 1 <= self.challenge_min_count <= self.challenge_max_count <= 4:
            raise ValueError("challenge counts must satisfy 1 <= min <= max <= 4")
        if not 0.0 < self.blink_closed_ratio < self.blink_open_ratio <= 1.0:
            raise ValueError("need 0 < blink_closed_ratio < blink_open_ratio <= 1")
        if not -1.0 <= self.match_threshold <= 1.0:
            raise ValueError("match_threshold is a cosine similarity in [-1, 1]")
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{field.name} must not be negative")


DEFAULT_SETTINGS = CameraSettings()
