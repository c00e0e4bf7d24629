"""Active liveness: random challenges that only a live 3D head can do, judged per frame.

The state machine is fed one observation per frame (signals from FaceLandmarker, the face
count, the pixel motion to the previous frame) with the frame's own timestamp, so that a
replayed sequence is judged exactly as it was recorded and the tests need no real time.

    BASELINE  ``baseline_frames`` frames looking ahead with open eyes; their medians (pose,
              EAR, blendshapes, rigid landmark shape) are the person's baseline. A stream
              whose pixels do not move over the window is a frozen frame.
    CHALLENGE for each challenge: a random pause (acting then fails: a recording keeps
              its own clock), then the prompt; back to rest, then the action within
              ``challenge_timeout_s``:
              - turn: head-pose yaw (roll removed) beyond ``turn_yaw_deg`` for
                ``hold_frames``, AND the rigid landmarks show parallax against the
                baseline (no homography maps one onto the other): a sheet turned,
                tilted or rotated in the hand fails here (``planar``), AND the face
                narrows no more than the reported yaw explains: a sheet turned far
                about its vertical axis shrinks by cos(sheet turn), 0.5 at 60 deg,
                while the landmarker reads ~10 deg of yaw from it (``flat_picture``),
                AND the baseline's 3D landmarks turned explain the turn clearly better
                than a plane does: a sheet turned AND tilted forward keeps the face's
                proportions but not its 3D shape (``plane_fit``);
              - blink: eyes closed (EAR ratio and the eyeBlink blendshape) WHILE the head
                pose holds (yaw/pitch, and the rigid landmarks keep their shape up to a
                similarity), then open again: the foreshortening of a tilted sheet is
                not a blink;
              - open mouth: lip gap and jawOpen up while the pose holds.
              Another turn or mouth action than the one asked fails at once.
    FINAL     look back at the camera (a frontal frame for the face match).

Every sequence holds a turn (3D) and a blink or the mouth (non-rigid), in random order
with random pauses: 2-3 of 4 actions, 20 orders, and timing that a recording matches
rarely (docs/camera.md, threat model).
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from client.camera.settings import CameraSettings
from client.camera.signals import FaceSignals
from client.i18n import _

Shape = tuple[tuple[float, float], ...]


class Challenge(StrEnum):
    BLINK = "blink"
    TURN_LEFT = "turn_left"      # the person's own left
    TURN_RIGHT = "turn_right"
    OPEN_MOUTH = "open_mouth"


NON_RIGID = (Challenge.BLINK, Challenge.OPEN_MOUTH)
TURNS = (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)


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
    """A random sequence without repeats holding a turn and a blink or the mouth.

    The turn is what a flat picture cannot do (parallax); the blink or the mouth is what
    a rigid object cannot do. With one challenge allowed, a turn is drawn (the 3D test).
    """
    count = rng.randint(max(min_count, 1), max(max_count, 1))
    if count == 1:
        return (rng.choice(TURNS),)
    while True:
        sequence = tuple(rng.sample(list(Challenge), count))
        if any(c in NON_RIGID for c in sequence) and any(c in TURNS for c in sequence):
            return sequence


def draw_prompt_delays(
    rng: random.Random, count: int, *, min_s: float, max_s: float,
    total_max_s: float | None = None,
) -> tuple[int, ...]:
    """The pause (ms) before each prompt: each uniform in [min_s, max_s], and together at
    most *total_max_s*: each pause is drawn in what the budget leaves after keeping
    *min_s* for every pause still to come (a budget of at least ``count * max_s`` changes
    nothing, so two pauses of 0.2-1.0 s in a 2.0 s budget are drawn exactly as before)."""
    budget = total_max_s if total_max_s is not None else count * max_s
    delays: list[int] = []
    for index in range(count):
        later = count - index - 1
        high = max(min_s, min(max_s, budget - later * min_s))
        delay = rng.uniform(min_s, high)
        budget -= delay
        delays.append(round(delay * 1000))
    return tuple(delays)


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
    PLANAR = "planar"                   # a turn without parallax: a sheet or a screen
    JUMP = "jump"                       # a turn in one frame: pictures swapped on cue
    EARLY_ACTION = "early_action"       # acted before the prompt: a replay's own clock
    FLAT_PICTURE = "flat_picture"       # a turn narrower than its yaw: a sheet turned far
    PLANE_FIT = "plane_fit"             # a turn a plane explains about as well as a head


def failure_message(failure: LivenessFailure) -> str:
    return {
        LivenessFailure.BASELINE_TIMEOUT: _("没有看清你的脸，请正视摄像头并保持不动"),
        LivenessFailure.FROZEN: _("摄像头画面静止不动，请确认使用的是真实摄像头"),
        LivenessFailure.CHALLENGE_TIMEOUT: _("没有在规定时间内完成动作，请按提示重新做"),
        LivenessFailure.WRONG_ACTION: _("做的动作与提示不符，请看清提示后重新做"),
        LivenessFailure.FACE_LOST: _("脸离开了画面，请保持在框内"),
        LivenessFailure.MULTIPLE_FACES: _("画面中出现了多个人脸，请其他人离开镜头"),
        LivenessFailure.FINAL_TIMEOUT: _("完成动作后请看向摄像头"),
        LivenessFailure.PLANAR: _("转头动作不像真实的人脸，请本人正对摄像头重新核验"),
        LivenessFailure.EARLY_ACTION: _("请等提示出现后再做动作"),
        LivenessFailure.JUMP: _("转头动作不连贯，请本人正对摄像头重新核验"),
        LivenessFailure.FLAT_PICTURE: _("没有看清转头动作，请本人正对摄像头，按提示慢慢转动头部"),
        LivenessFailure.PLANE_FIT: _(
            "转头动作不像真实的人脸，请本人正对摄像头，按提示慢慢转动头部"),
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
    pitch: float = 0.0
    blink: float = 0.0
    jaw: float = 0.0
    span_ratio: float = 0.0
    shape: Shape = ()
    shape_depth: tuple[float, ...] = ()


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
    prompted: bool = True               # False while the random pause before a prompt runs


@dataclass
class _Action:
    """Hold counters of the current frame's actions, relative to the baseline."""

    left: int = 0
    right: int = 0
    mouth: int = 0
    eyes_closed_seen: bool = False
    parallax: float = 0.0         # largest homography residual while the turn held
    yaws: list[float] = field(default_factory=list)   # head-pose yaw since acting began
    # foreshortening() of each frame while the turn held
    narrowing: list[float] = field(default_factory=list)
    # geometry.head_vs_plane of each frame while the turn held
    head_vs_plane: list[float] = field(default_factory=list)


class LivenessSession:
    """One liveness attempt over one challenge sequence (not thread-safe; one per check)."""

    def __init__(
        self,
        *,
        challenges: Sequence[Challenge],
        settings: CameraSettings,
        prompt_delays_ms: Sequence[int] = (),
    ) -> None:
        if not challenges:
            raise ValueError("a liveness session needs at least one challenge")
        self.challenges = tuple(challenges)
        self.prompt_delays_ms = tuple(prompt_delays_ms) or (0,) * len(self.challenges)
        if len(self.prompt_delays_ms) != len(self.challenges):
            raise ValueError("one prompt delay per challenge")
        self._prompt_at_ms = 0
        self.parallax: list[float] = []     # per completed turn, for the record
        self.foreshortening: list[float] = []   # per completed turn, for the record
        self.head_vs_plane: list[float] = []    # per completed turn, for the record
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
        looking_ahead = (
            abs(signals.yaw) <= settings.baseline_max_abs_yaw
            and abs(signals.pitch) <= settings.baseline_max_abs_pitch
        )
        if not (looking_ahead and signals.ear >= settings.baseline_min_ear):
            return self._status(instruction=_("请正视摄像头，睁开眼睛，保持不动"))
        self._samples.append(signals)
        self._sample_times.append(t)
        if len(self._samples) < settings.baseline_frames:
            return self._status(neutral_frame=True)
        if self._is_frozen():
            return self._fail(LivenessFailure.FROZEN)
        samples = self._samples
        self._baseline = Baseline(
            ear=statistics.median(sample.ear for sample in samples),
            mouth=statistics.median(sample.mouth for sample in samples),
            yaw=statistics.median(sample.yaw for sample in samples),
            pitch=statistics.median(sample.pitch for sample in samples),
            blink=statistics.median(sample.blink for sample in samples),
            jaw=statistics.median(sample.jaw for sample in samples),
            span_ratio=statistics.median(sample.span_ratio for sample in samples),
            shape=_median_shape([sample.shape for sample in samples]),
            shape_depth=_median_depth([sample.shape_depth for sample in samples]),
        )
        self._phase = LivenessPhase.CHALLENGE
        self._start_challenge(t)
        # Not the prompt yet: the pause starts now (showing it for this one frame gave
        # the next action away up to a pause early, and a candidate who reacted to the
        # flash failed with early_action).
        return self._pause_or_prompt(t, neutral_frame=True)

    def _is_frozen(self) -> bool:
        window_start = self._sample_times[0]
        motions = [motion for when, motion in self._motions if when >= window_start]
        # Need motion values for (nearly) every baseline frame to call it frozen.
        if len(motions) < self.settings.baseline_frames - 1:
            return False
        return max(motions) < self.settings.frozen_max_motion

    def _start_challenge(self, t: int) -> None:
        self._prompt_at_ms = t + self.prompt_delays_ms[self._index]
        self._challenge_start_ms = self._prompt_at_ms
        self._acting = False
        self._action = _Action()

    def _pause_or_prompt(self, t: int, *, neutral_frame: bool = False) -> LivenessStatus:
        if t >= self._prompt_at_ms:
            return self._status(neutral_frame=neutral_frame)
        return self._status(instruction=_("请保持正视摄像头，等待提示"), prompted=False,
                            neutral_frame=neutral_frame)

    def _timed_out(self, t: int) -> bool:
        return t - self._challenge_start_ms > self.settings.challenge_timeout_s * 1000

    def _pose_holds(self, signals: FaceSignals, baseline: Baseline) -> bool:
        """The head did not move in 3D: what a blink or an open mouth must keep."""
        settings = self.settings
        if abs(signals.yaw - baseline.yaw) > settings.pose_hold_deg:
            return False
        if abs(signals.pitch - baseline.pitch) > settings.pose_hold_deg:
            return False
        if signals.shape and baseline.shape:
            from client.camera.geometry import similarity_residual

            return similarity_residual(baseline.shape, signals.shape) <= (
                settings.rigid_max_residual
            )
        return True

    def _parallax(self, signals: FaceSignals, baseline: Baseline) -> float:
        if not (signals.shape and baseline.shape):
            return 0.0
        from client.camera.geometry import homography_residual

        return homography_residual(baseline.shape, signals.shape)

    def _head_vs_plane(self, signals: FaceSignals, baseline: Baseline) -> float | None:
        if not (signals.shape and baseline.shape and baseline.shape_depth):
            return None     # signals without 3D landmarks (synthetic tests)
        from client.camera.geometry import head_vs_plane

        return head_vs_plane(baseline.shape, baseline.shape_depth, signals.shape)

    def _feed_challenge(self, t: int, signals: FaceSignals) -> LivenessStatus:
        settings = self.settings
        baseline = self._baseline
        assert baseline is not None
        challenge = self.challenges[self._index]
        d_yaw = signals.yaw - baseline.yaw
        d_mouth = signals.mouth - baseline.mouth
        ear_ratio = signals.ear / baseline.ear if baseline.ear > 0 else 1.0
        action = self._action
        turned_left = d_yaw > settings.turn_yaw_deg
        turned_right = d_yaw < -settings.turn_yaw_deg
        mouth_open = d_mouth > settings.mouth_open_delta

        if t < self._prompt_at_ms:
            # The random pause before the prompt: someone live waits for it, a recording
            # does not know when it comes. Blinks are involuntary and allowed.
            action.left = action.left + 1 if turned_left else 0
            action.right = action.right + 1 if turned_right else 0
            action.mouth = action.mouth + 1 if mouth_open else 0
            if settings.fail_on_wrong_action and max(
                action.left, action.right, action.mouth
            ) >= settings.hold_frames:
                return self._fail(LivenessFailure.EARLY_ACTION)
            return self._status(instruction=_("请保持正视摄像头，等待提示"), prompted=False)
        if self._timed_out(t):
            return self._fail(LivenessFailure.CHALLENGE_TIMEOUT)

        if not self._acting:
            # Each action must start from rest, so that the end of one challenge (a head
            # still turned, a mouth still open) does not count for the next.
            at_rest = abs(d_yaw) < settings.turn_yaw_deg / 2 and (
                d_mouth < settings.mouth_open_delta / 2
            )
            if challenge is Challenge.BLINK:
                at_rest = at_rest and ear_ratio >= settings.blink_open_ratio
            if not at_rest:
                return self._status(instruction=_("请先恢复正视摄像头"))
            self._acting = True
            action = self._action = _Action()

        # An open mouth or closed eyes count only while the pose holds (a tilted sheet's
        # foreshortening is neither). Also during a turn challenge: an open mouth there
        # is the wrong action (a looped recording of another sequence opened its mouth
        # during the turn prompt, turned on its next loop and passed).
        holds = (
            (mouth_open or ear_ratio < settings.blink_closed_ratio)
            and self._pose_holds(signals, baseline)
        )
        action.left = action.left + 1 if turned_left else 0
        action.right = action.right + 1 if turned_right else 0
        action.mouth = action.mouth + 1 if mouth_open and holds else 0
        action.yaws.append(signals.yaw)
        if turned_left or turned_right:
            action.parallax = max(action.parallax, self._parallax(signals, baseline))
            narrowing = foreshortening(signals, baseline)
            if narrowing is not None:
                action.narrowing.append(narrowing)
            ratio = self._head_vs_plane(signals, baseline)
            if ratio is not None:
                action.head_vs_plane.append(ratio)
        hold = settings.hold_frames
        done_by = {
            Challenge.TURN_LEFT: action.left >= hold,
            Challenge.TURN_RIGHT: action.right >= hold,
            Challenge.OPEN_MOUTH: action.mouth >= hold,
        }
        if challenge is Challenge.BLINK:
            closed = (
                ear_ratio < settings.blink_closed_ratio
                and signals.blink >= baseline.blink + settings.blink_min_rise
                and holds
            )
            if closed:
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
        if challenge in TURNS:
            self.parallax.append(round(action.parallax, 4))
            if action.parallax < settings.turn_min_parallax:
                return self._fail(LivenessFailure.PLANAR)
            if action.narrowing:
                # The median of the held frames: one noisy landmark frame decides nothing.
                narrowing = statistics.median(action.narrowing)
                self.foreshortening.append(round(narrowing, 3))
                if narrowing < settings.turn_min_foreshortening:
                    return self._fail(LivenessFailure.FLAT_PICTURE)
            if action.head_vs_plane:
                ratio = statistics.median(action.head_vs_plane)
                self.head_vs_plane.append(round(ratio, 2))
                if ratio < settings.turn_min_head_vs_plane:
                    return self._fail(LivenessFailure.PLANE_FIT)
            if _largest_step_share(action.yaws) > settings.turn_max_step_share:
                return self._fail(LivenessFailure.JUMP)
        self._completed_at.append(t)
        self._index += 1
        if self._index == len(self.challenges):
            self._phase = LivenessPhase.FINAL
            self._final_start_ms = t
        else:
            self._start_challenge(t)
            return self._pause_or_prompt(t)
        return self._status()

    def _feed_final(self, t: int, signals: FaceSignals) -> LivenessStatus:
        settings = self.settings
        baseline = self._baseline
        assert baseline is not None
        if t - self._final_start_ms > settings.final_timeout_s * 1000:
            return self._fail(LivenessFailure.FINAL_TIMEOUT)
        neutral = (
            abs(signals.yaw - baseline.yaw) < settings.turn_yaw_deg / 2
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
        self, *, instruction: str | None = None, neutral_frame: bool = False,
        prompted: bool = True,
    ) -> LivenessStatus:
        phase = self._phase
        challenge = (
            self.challenges[self._index]
            if phase is LivenessPhase.CHALLENGE and prompted
            else None
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
            prompted=prompted,
        )


def foreshortening(signals: FaceSignals, baseline: Baseline) -> float | None:
    """How much of the face's width the reported yaw explains: ~1 for a head, < 1 for a sheet.

    The eye span over the eyes-to-mouth height, relative to the baseline, divided by
    what a head turning from the baseline yaw to this yaw keeps of it (the cosine ratio;
    the height barely changes with yaw). A sheet turned by 60 deg keeps cos 60 = 0.5 of
    its width while the landmarker reads ~10 deg of yaw (cos 10 = 0.98). None when the
    spans are unknown (signals without landmarks).
    """
    if signals.span_ratio <= 0.0 or baseline.span_ratio <= 0.0:
        return None
    expected = math.cos(math.radians(signals.yaw)) / math.cos(math.radians(baseline.yaw))
    if expected <= 1e-6:
        return None
    return signals.span_ratio / baseline.span_ratio / expected


def _largest_step_share(yaws: Sequence[float]) -> float:
    """The largest frame-to-frame yaw change of a turn as a share of the whole turn.

    A head turns through intermediate poses; pictures swapped on cue jump from one pose
    to the next. Measured in the landmarker's VIDEO mode (which smooths, but follows a
    jump within a frame): a hard cut 0.92, a 2-frame turn 0.51, a 4-frame turn 0.30.
    """
    if len(yaws) < 2:
        return 1.0
    total = max(abs(value - yaws[0]) for value in yaws)
    if total <= 1e-6:
        return 0.0
    step = max(abs(b - a) for a, b in itertools.pairwise(yaws))
    return step / total


def _median_depth(depths: Sequence[tuple[float, ...]]) -> tuple[float, ...]:
    usable = [depth for depth in depths if depth]
    if not usable or len({len(depth) for depth in usable}) != 1:
        return ()
    return tuple(statistics.median(column) for column in zip(*usable, strict=True))


def _median_shape(shapes: Sequence[Shape]) -> Shape:
    usable = [shape for shape in shapes if shape]
    if not usable or len({len(shape) for shape in usable}) != 1:
        return ()
    return tuple(
        (
            statistics.median(shape[i][0] for shape in usable),
            statistics.median(shape[i][1] for shape in usable),
        )
        for i in range(len(usable[0]))
    )
