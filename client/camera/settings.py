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
    # analyzer.directional_sharpness: sharp ~44, Gaussian sigma 1.5: 15, 9-15 px of
    # motion blur: 4-14 (docs/camera.md, quality gate).
    min_directional_sharpness: float = 12.0
    quality_stable_frames: int = 3         # consecutive good frames before liveness
    quality_timeout_s: float = 30.0

    # --- camera health ---------------------------------------------------------------
    # Black needs all three: dark, uniform and no structure (a very dark room has
    # structure: diagnose.scene_detail 2.2-9.4; a black or covered lens 0.2-0.7).
    black_max_brightness: float = 12.0     # frame mean at or below: black
    black_max_contrast: float = 6.0        # frame grey std at or below: black/uniform
    covered_max_detail: float = 1.2        # light but no structure: a covered lens
    black_window_s: float = 2.0            # all frames black this long: diagnose

    # --- liveness (relative to the person's own baseline; docs/camera.md calibration) ----
    challenge_min_count: int = 2
    challenge_max_count: int = 3
    challenge_timeout_s: float = 6.0
    # Each prompt appears after a random pause in this window; acting before the prompt
    # fails (a recording acts on its own clock).
    prompt_delay_min_s: float = 0.2
    prompt_delay_max_s: float = 1.0
    # ... and the pauses of one check add up to at most this: a 2-challenge check draws
    # as before, a 3-challenge one stays within the 5 s a cooperative candidate may take
    # (three 1.0 s pauses made it 5.4 s; docs/camera.md, "Time").
    prompt_delay_total_max_s: float = 2.0
    baseline_frames: int = 8
    baseline_timeout_s: float = 6.0
    baseline_max_abs_yaw: float = 20.0     # degrees: the baseline is taken looking ahead
    baseline_max_abs_pitch: float = 25.0   # degrees
    baseline_min_ear: float = 0.12         # sanity floor: eyes must be visible at all
    blink_closed_ratio: float = 0.60       # EAR below 60 % of baseline: eyes closed
    blink_open_ratio: float = 0.85         # back above 85 %: eyes open again
    blink_min_rise: float = 0.20           # eyeBlink blendshape rise over baseline
    turn_yaw_deg: float = 10.0             # head-pose yaw change for a turn (roll removed)
    mouth_open_delta: float = 0.15         # lip gap / mouth width increase over baseline
    hold_frames: int = 2                   # turns and mouth must hold this many frames
    # A blink or an open mouth counts only while the head pose holds: yaw and pitch
    # within this many degrees of the baseline and the rigid landmarks within
    # ``rigid_max_residual`` (similarity fit) of the baseline shape.
    pose_hold_deg: float = 8.0
    rigid_max_residual: float = 0.035
    # A turn must show parallax: rigid landmarks at least this far from the best
    # homography of the baseline shape (a sheet: ~0.005, a head turned 12 deg: ~0.03).
    turn_min_parallax: float = 0.014
    # The largest one-frame yaw step of a turn as a share of the whole turn: a head
    # passes through intermediate poses, pictures swapped on cue jump (liveness.py).
    turn_max_step_share: float = 0.7
    # A turn must narrow the face no more than its yaw explains (liveness.foreshortening):
    # median over the held frames, a rendered head 0.92-1.00, a sheet turned far enough
    # to read a 10 deg yaw 0.55-0.78 (docs/camera.md, "Flat pictures turned far").
    turn_min_foreshortening: float = 0.85
    # A turn must be explained clearly better by the baseline's 3D landmarks turned than
    # by a plane (geometry.head_vs_plane, median over the held frames): a rendered head
    # 5-8, a sheet turned 38-46 deg AND tilted forward 20-30 deg 1.6-2.8, which the
    # width rule does not see (docs/camera.md, "Tilted and turned sheets").
    turn_min_head_vs_plane: float = 2.0
    face_lost_timeout_s: float = 2.0
    fail_on_wrong_action: bool = True      # a replay doing another challenge fails at once
    frozen_max_motion: float = 0.3         # mean |grey diff| between frames, whole window
    final_timeout_s: float = 4.0           # looking back at the camera after the last action

    # --- passive presentation-attack detection (MiniFASNet, pad.py) -------------------
    pad_enabled: bool = True
    pad_every_n_frames: int = 2            # score every n-th liveness frame
    pad_min_frames: int = 5                # frames scored before the vote counts
    pad_min_live: float = 0.40             # median live probability below: an attack

    # --- 1:1 match ---------------------------------------------------------------------
    # OpenCV zoo's SFace cosine threshold (LFW-calibrated). docs/camera.md: margins.
    match_threshold: float = 0.363
    max_failures_before_proctor: int = 3
    # A pass after this many failed attempts is held for review (server and client).
    review_failures_before_pass: int = 2

    # --- proctoring during the exam ----------------------------------------------------
    monitor_interval_s: float = 5.0
    monitor_debounce: int = 2              # analyses in a row before an event opens
    monitor_clear: int = 2                 # analyses in a row without it before it closes
    monitor_dark_brightness: float = 40.0  # frame mean below: too dark
    monitor_covered_contrast: float = 8.0  # frame grey std below: covered / black
    monitor_max_identity_yaw: float = 0.25 # more turned than this: identity inconclusive
    # Smallest face (pixels wide in the captured frame) that gets an identity verdict.
    # Measured (docs/camera.md): YuNet finds the astronaut down to ~32 px; SFace's cosine
    # to her base photo is 0.92-0.98 from 53 px up, 0.63-0.86 at 32-40 px. A USB camera on
    # a monitor 70 cm away sees a face ~13 % of 640 px = ~83 px.
    monitor_min_identity_face_px: float = 56.0
    monitor_away_yaw_deg: float = 35.0     # head turned further: looking away
    monitor_down_pitch_deg: float = 25.0   # head bowed further: looking down
    review_no_face_total_s: float = 60.0   # cumulative absence that holds the result
    snapshot_width: int = 160

    def __post_init__(self) -> None:
        if not 1 <= self.challenge_min_count <= self.challenge_max_count <= 4:
            raise ValueError("challenge counts must satisfy 1 <= min <= max <= 4")
        if not 0.0 < self.blink_closed_ratio < self.blink_open_ratio <= 1.0:
            raise ValueError("need 0 < blink_closed_ratio < blink_open_ratio <= 1")
        if self.prompt_delay_min_s > self.prompt_delay_max_s:
            raise ValueError("prompt_delay_min_s must not exceed prompt_delay_max_s")
        if self.prompt_delay_total_max_s < self.prompt_delay_min_s * self.challenge_max_count:
            raise ValueError("prompt_delay_total_max_s must allow the shortest pauses")
        if not -1.0 <= self.match_threshold <= 1.0:
            raise ValueError("match_threshold is a cosine similarity in [-1, 1]")
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{field.name} must not be negative")


DEFAULT_SETTINGS = CameraSettings()


# The settings that decide whether an impostor or an attack passes. They come only from
# the signed paper package or the machine-wide config (client.config.camera), and every
# attempt's record carries them so that the server can hold a weaker check.
SECURITY_FIELDS = (
    "match_threshold", "challenge_min_count", "challenge_max_count", "challenge_timeout_s",
    "turn_yaw_deg", "turn_min_parallax", "turn_max_step_share", "turn_min_foreshortening",
    "turn_min_head_vs_plane", "rigid_max_residual",
    "pad_enabled",
    "pad_min_live", "max_failures_before_proctor", "fail_on_wrong_action",
)


def security_digest(settings: CameraSettings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in SECURITY_FIELDS}
