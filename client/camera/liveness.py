"""Active liveness: a random sequence of 2-3 challenges judged against the person's baseline.

The state machine is fed one observation per frame (signals from the landmarks, the face
count, the pixel motion to the previous frame) with the frame's own timestamp, so that a
replayed sequence is judged exactly as it was recorded and the tests need no real time.

    BASELINE  collect ``baseline_frames`` frames looking ahead with open eyes; their
              medians are the person's baseline. A stream whose pixels do not move over
              the window is a frozen frame (virtual camera replaying a still, stuck driver).
    CHALLENGE for each challenge: first back to neutral, then the action, relative to the
              baseline (EAR ratio for a blink, yaw change for a turn, lip gap increase for
              the mouth), within ``challenge_timeout_s``. Doing a different action than the
              one asked fails at once: a recording of an earlier check does its own
              sequence, not the one drawn now.
    FINAL     look back at the camera (a frontal frame for the face match).

Why a photo fails: it cannot blink or open its mouth, and every sequence holds at least
one of those two (turning a flat photo does not move the nose between the eyes, see
signals.py). Why a frozen frame fails: no pixel motion over the baseline window.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from client.camera.settings import CameraSettings
from client.camera.signals import FaceSignals
from client.i18n import _


class Challenge(StrEnum):
    BLINK = "blink"
    TURN_LEFT = "turn_left"      # the person's own left
    TURN_RIGHT = "turn_right"
    OPEN_MOUTH = "open_mouth"


NON_RIGID = (Challenge.BLINK, Challenge.OPEN_MOUTH)


def challenge_instruction(challenge: Challenge) -> str:
    return {
        Challenge.BLINK: _("请眨眨眼"),
        Challenge.TURN_LEFT: _("请向左转头"),
        Challenge.TURN_RIGHT: _("请向右转头"),
        Challenge.OPEN_MOUTH: _("请张开嘴巴"),
    }[challenge]


def draw_challenges(
    rng: random.Random, *, min_count: int = 2, max_count: int = 3
) -> tuple[Challenge, ...]:
    """A random sequence without repeats that holds at least one blink or mouth challenge."""
    count = rng.randint(min_count, max_count)
    while True:
        sequence = tuple(rng.sample(list(Challenge), count))
        if any(challenge in NON_RIGID for challenge in sequence):
            return sequence


class LivenessPhase(StrEnum):
    BASELINE = "baseline"
    CHALLENGE = "challenge"
    FINAL = "final"
    PASSED = "passed"
    FAILED = "failed"


class LivenessFailure(StrEnum):
    BASELINE_TIMEOUT = "baseline_timeout"
    FROZEN = "frozen"
    CHALLENGE_TIMEOUT = "challenge_timeout"
    WRONG_ACTION = "wrong_action"
    FACE_LOST = "face_lost"
    MULTIPLE_FACES = "multiple_faces"
    FINAL_TIMEOUT = "final_timeout"


def failure_message(failure: LivenessFailure) -> str:
    return {
        LivenessFailure.BASELINE_TIMEOUT: _("没有看清你的脸，请正视摄像头并保持不动"),
        LivenessFailure.FROZEN: _("摄像头画面静止不动，请确认使用的是真实摄像头"),
        LivenessFailure.CHALLENGE_TIMEOUT: _("没有在规定时间内完成动作，请按提示重新做"),
        LivenessFailure.WRONG_ACTION: _("做的动作与提示不符，请看清提示后重新做"),
        LivenessFailure.FACE_LOST: _("脸离开了画面，请保持在框内"),
        LivenessFailure.MULTIPLE_FACES: _("画面中出现了多个人脸，请其他人离开镜头"),
        LivenessFailure.FINAL_TIMEOUT: _("完成动作后请看向摄像头"),
    }[failure]


@dataclass(frozen=True)
class Observation:
    t_ms: int
    signals: FaceSignals | None
    face_count: int
    motion: float | None = None     # mean |grey diff| to the previous frame


@dataclass(frozen=True)
class Baseline:
    ear: float
    mouth: float
    yaw: float


@dataclass(frozen=True)
class LivenessStatus:
    phase: LivenessPhase
    instruction: str
    challenge: Challenge | None = None
    completed: int = 0
    total: int = 0
    failure: LivenessFailure | None = None
    # This frame shows the person at rest and facing the camera: a match candidate.
    neutral_frame: bool = False


@dataclass
class _Action:
    """Hold counters of the current frame's actions, relative to the baseline."""

    left: int = 0
    right: int = 0
    mouth: int = 0
    eyes_closed_seen: bool = False


class LivenessSession:
    """One liveness attempt over one challenge sequence (not thread-safe; one per check)."""

    def __init__(self, *, challenges: Sequence[Challenge], settings: CameraSettings) -> None:
        if not challenges:
            raise ValueError("a liveness session needs at least one challenge")
        self.challenges = tuple(challenges)
        self.settings = settings
        self._phase = LivenessPhase.BASELINE
        self._start_ms: int | None = None
        self._samples: list[FaceSignals] = []
        self._sample_times: list[int] = []
        self._motions: list[tuple[int, float]] = []
        self._baseline: Baseline | None = None
        self._index = 0
        self._challenge_start_ms = 0
        self._acting = False
        self._action = _Action()
        self._last_face_ms: int | None = None
        self._final_start_ms = 0
        self._failure: LivenessFailure | None = None
        self._completed_at: list[int] = []

    # -- public state -----------------------------------------------------------------
    @property
    def phase(self) -> LivenessPhase:
        return self._phase

    @property
    def baseline(self) -> Baseline | None:
        return self._baseline

    @property
    def failure(self) -> LivenessFailure | None:
        return self._failure

    @property
    def completed_at_ms(self) -> tuple[int, ...]:
        return tuple(self._completed_at)

    # -- the machine ------------------------------------------------------------------
    def feed(self, observation: Observation) -> LivenessStatus:
        if self._phase in (LivenessPhase.PASSED, LivenessPhase.FAILED):
            return self._status()
        t = observation.t_ms
        if self._start_ms is None:
            self._start_ms = t
        if observation.face_count > 1:
            return self._fail(LivenessFailure.MULTIPLE_FACES)
        signals = observation.signals
        if signals is None:
            return self._no_face(t)
        self._last_face_ms = t
        if self._phase is LivenessPhase.BASELINE:
            if observation.motion is not None:
                self._motions.append((t, observation.motion))
            return self._feed_baseline(t, signals)
        if self._phase is LivenessPhase.CHALLENGE:
            return self._feed_challenge(t, signals)
        return self._feed_final(t, signals)

    def _no_face(self, t: int) -> LivenessStatus:
        settings = self.settings
        if self._phase is LivenessPhase.BASELINE:
            assert self._start_ms is not None
            if t - self._start_ms > settings.baseline_timeout_s * 1000:
                return self._fail(LivenessFailure.BASELINE_TIMEOUT)
        elif (
            self._last_face_ms is not None
            and t - self._last_face_ms > settings.face_lost_timeout_s * 1000
        ):
            return self._fail(LivenessFailure.FACE_LOST)
        elif self._phase is LivenessPhase.CHALLENGE and self._timed_out(t):
            return self._fail(LivenessFailure.CHALLENGE_TIMEOUT)
        return self._status(instruction=_("请正对摄像头，让脸出现在框内"))

    def _feed_baseline(self, t: int, signals: FaceSignals) -> LivenessStatus:
        settings = self.settings
        assert self._start_ms is not None
        if t - self._start_ms > settings.baseline_timeout_s * 1000:
            return self._fail(LivenessFailure.BASELINE_TIMEOUT)
        looking_ahead = abs(signals.yaw) <= settings.baseline_max_abs_yaw
        if not (looking_ahead and signals.ear >= settings.baseline_min_ear):
            return self._status(instruction=_("请正视摄像头，睁开眼睛，保持不动"))
        self._samples.append(signals)
        self._sample_times.append(t)
        if len(self._samples) < settings.baseline_frames:
            return self._status(neutral_frame=True)
        if self._is_frozen():
            return self._fail(LivenessFailure.FROZEN)
        self._baseline = Baseline(
            ear=statistics.median(sample.ear for sample in self._samples),
            mouth=statistics.median(sample.mouth for sample in self._samples),
            yaw=statistics.median(sample.yaw for sample in self._samples),
        )
        self._phase = LivenessPhase.CHALLENGE
        self._start_challenge(t)
        return self._status(neutral_frame=True)

    def _is_frozen(self) -> bool:
        window_start = self._sample_times[0]
        motions = [motion for when, motion in self._motions if when >= window_start]
        # Need motion values for (nearly) every baseline frame to call it frozen.
        if len(motions) < self.settings.baseline_frames - 1:
            return False
        return max(motions) < self.settings.frozen_max_motion

    def _start_challenge(self, t: int) -> None:
        self._challenge_start_ms = t
        self._acting = False
        self._action = _Action()

    def _timed_out(self, t: int) -> bool:
        return t - self._challenge_start_ms > self.settings.challenge_timeout_s * 1000

    def _feed_challenge(self, t: int, signals: FaceSignals) -> LivenessStatus:
        settings = self.settings
        baseline = self._baseline
        assert baseline is not None
        if self._timed_out(t):
            return self._fail(LivenessFailure.CHALLENGE_TIMEOUT)
        challenge = self.challenges[self._index]
        d_yaw = signals.yaw - baseline.yaw
        d_mouth = signals.mouth - baseline.mouth
        ear_ratio = signals.ear / baseline.ear if baseline.ear > 0 else 1.0

        if not self._acting:
            # Each action must start from rest, so that the end of one challenge (a head
            # still turned, a mouth still open) does not count for the next.
            at_rest = abs(d_yaw) < settings.turn_yaw_delta / 2 and (
                d_mouth < settings.mouth_open_delta / 2
            )
            if challenge is Challenge.BLINK:
                at_rest = at_rest and ear_ratio >= settings.blink_open_ratio
            if not at_rest:
                return self._status(instruction=_("请先恢复正视摄像头"))
            self._acting = True

        action = self._action
        action.left = action.left + 1 if d_yaw > settings.turn_yaw_delta else 0
        action.right = action.right + 1 if d_yaw < -settings.turn_yaw_delta else 0
        action.mouth = action.mouth + 1 if d_mouth > settings.mouth_open_delta else 0
        hold = settings.hold_frames
        done_by = {
            Challenge.TURN_LEFT: action.left >= hold,
            Challenge.TURN_RIGHT: action.right >= hold,
            Challenge.OPEN_MOUTH: action.mouth >= hold,
        }
        if challenge is Challenge.BLINK:
            if ear_ratio < settings.blink_closed_ratio:
                action.eyes_closed_seen = True
            done = action.eyes_closed_seen and ear_ratio >= settings.blink_open_ratio
        else:
            done = done_by[challenge]
        # Blinks are involuntary, so only turns and the mouth can be "wrong".
        wrong = any(held for kind, held in done_by.items() if kind is not challenge)
        if wrong and settings.fail_on_wrong_action:
            return self._fail(LivenessFailure.WRONG_ACTION)
        if not done:
            return self._status()
        self._completed_at.append(t)
        self._index += 1
        if self._index == len(self.challenges):
            self._phase = LivenessPhase.FINAL
            self._final_start_ms = t
        else:
            self._start_challenge(t)
        return self._status()

    def _feed_final(self, t: int, signals: FaceSignals) -> LivenessStatus:
        settings = self.settings
        baseline = self._baseline
        assert baseline is not None
        if t - self._final_start_ms > settings.final_timeout_s * 1000:
            return self._fail(LivenessFailure.FINAL_TIMEOUT)
        neutral = (
            abs(signals.yaw - baseline.yaw) < settings.turn_yaw_delta / 2
            and signals.mouth - baseline.mouth < settings.mouth_open_delta / 2
            and signals.ear >= baseline.ear * settings.blink_open_ratio
        )
        if not neutral:
            return self._status()
        self._phase = LivenessPhase.PASSED
        return self._status(neutral_frame=True)

    def _fail(self, failure: LivenessFailure) -> LivenessStatus:
        self._phase = LivenessPhase.FAILED
        self._failure = failure
        return self._status()

    def _status(
        self, *, instruction: str | None = None, neutral_frame: bool = False
    ) -> LivenessStatus:
        phase = self._phase
        challenge = (
            self.challenges[self._index] if phase is LivenessPhase.CHALLENGE else None
        )
        if instruction is None:
            if phase is LivenessPhase.BASELINE:
                instruction = _("请正视摄像头，保持不动")
            elif challenge is not None:
                instruction = challenge_instruction(challenge)
            elif phase is LivenessPhase.FINAL:
                instruction = _("请看向摄像头")
            elif phase is LivenessPhase.PASSED:
                instruction = _("活体检测通过")
            else:
                assert self._failure is not None
                instruction = failure_message(self._failure)
        return LivenessStatus(
            phase=phase,
            instruction=instruction,
            challenge=challenge,
            completed=self._index,
            total=len(self.challenges),
            failure=self._failure,
            neutral_frame=neutral_frame,
        )
