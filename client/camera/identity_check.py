"""The identity check before the exam: quality gate -> liveness -> match, on a worker thread.

``run_identity_check`` is the whole check as one synchronous function over a FrameSource
(tests and the benchmark call it directly); ``IdentityCheckRunner`` runs it on its own
thread and reports through callbacks (called on that thread: the UI re-posts them).
Captures are returned as JPEG bytes; the caller stores them in the encrypted store.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from client.camera import diagnose
from client.camera.errors import CameraError
from client.camera.liveness import (
    Challenge,
    LivenessFailure,
    LivenessPhase,
    LivenessSession,
    Observation,
    draw_challenges,
    draw_prompt_delays,
    failure_message,
)
from client.camera.pad_vote import PadVote
from client.camera.settings import DEFAULT_SETTINGS, CameraSettings, security_digest
from client.i18n import _

if TYPE_CHECKING:
    from client.camera.analyzer import DetectedFace, Embedding, FaceAnalyzer, Image
    from client.camera.sources import Frame, FrameSource

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    VERIFIED = "verified"
    NOT_MATCHED = "not_matched"
    LIVENESS_FAILED = "liveness_failed"
    QUALITY_TIMEOUT = "quality_timeout"
    PRESENTATION_ATTACK = "presentation_attack"
    NO_BASE_PHOTO = "no_base_photo"
    BASE_PHOTO_UNUSABLE = "base_photo_unusable"
    CAMERA_ERROR = "camera_error"
    CANCELLED = "cancelled"
    # The check is switched off on this PC (machine-wide config): reported so that the
    # server holds the result (nobody verified who sat the exam).
    DISABLED = "disabled"


class Stage(StrEnum):
    STARTING = "starting"
    QUALITY = "quality"
    LIVENESS = "liveness"
    MATCHING = "matching"
    DONE = "done"


@dataclass(frozen=True)
class CheckProgress:
    stage: Stage
    instruction: str
    challenge: Challenge | None = None
    completed: int = 0
    total: int = 0
    face_box: tuple[float, float, float, float] | None = None   # x, y, w, h in the frame
    quality_ok: bool = False            # this frame passed the quality gate


@dataclass(frozen=True)
class IdentityResult:
    outcome: Outcome
    message: str                        # for the candidate, translated
    reason: str                         # stable code: "liveness.frozen", "camera.black", ...
    threshold: float
    score: float | None = None          # lowest live-vs-base cosine; None if not matched
    scores: tuple[float, ...] = ()
    challenges: tuple[Challenge, ...] = ()
    # JPEG frames a reviewer sees (never on disk here; never in a log line: repr=False)
    captures: tuple[bytes, ...] = field(default=(), repr=False)
    candidate_time_s: float = 0.0       # first frame to decision, in frame time
    instructions: tuple[str, ...] = ()  # steps for camera errors
    admin_message: str | None = None    # for the center admin (missing base photo)
    # Live embeddings of this check: references for the proctor monitor.
    live_embeddings: tuple[Embedding, ...] = field(default=(), repr=False)
    prompt_delays_ms: tuple[int, ...] = ()
    parallax: tuple[float, ...] = ()    # per completed turn (geometry.homography_residual)
    foreshortening: tuple[float, ...] = ()   # per completed turn (liveness.foreshortening)
    head_vs_plane: tuple[float, ...] = ()    # per completed turn (geometry.head_vs_plane)
    pad_median: float | None = None     # MiniFASNet median live probability
    pad_frames: int = 0
    source: dict[str, str] = field(default_factory=dict)   # kind, device, path, backend
    settings_digest: dict[str, object] = field(default_factory=dict)
    attempt: int = 0                    # 1, 2, ... on this PC (set by IdentityAttempts)
    failures_before: int = 0            # failed attempts before this one

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.VERIFIED

    def to_record(self) -> dict[str, object]:
        """What is stored and synced about the attempt (images travel separately)."""
        return {
            "outcome": self.outcome.value,
            "reason": self.reason,
            "score": self.score,
            "scores": list(self.scores),
            "threshold": self.threshold,
            "challenges": [challenge.value for challenge in self.challenges],
            "candidate_time_s": round(self.candidate_time_s, 2),
            "capture_count": len(self.captures),
            "prompt_delays_ms": list(self.prompt_delays_ms),
            "parallax": list(self.parallax),
            "foreshortening": list(self.foreshortening),
            "head_vs_plane": list(self.head_vs_plane),
            "pad_median": None if self.pad_median is None else round(self.pad_median, 4),
            "pad_frames": self.pad_frames,
            "source": dict(self.source),
            "settings": dict(self.settings_digest),
            "attempt": self.attempt,
            "failures_before": self.failures_before,
        }


FAILED_OUTCOMES = frozenset(
    {
        Outcome.NOT_MATCHED,
        Outcome.LIVENESS_FAILED,
        Outcome.QUALITY_TIMEOUT,
        Outcome.PRESENTATION_ATTACK,
        Outcome.CAMERA_ERROR,
        Outcome.NO_BASE_PHOTO,
        Outcome.BASE_PHOTO_UNUSABLE,
    }
)


class IdentityAttempts:
    """Counts failed checks; after ``max_failures`` the candidate may ask for the proctor.

    Without a usable base photo, matching can never succeed: the proctor path opens at
    once.
    """

    def __init__(self, *, max_failures: int) -> None:
        self.max_failures = max_failures
        self.results: list[IdentityResult] = []

    def record(self, result: IdentityResult) -> IdentityResult:
        """Keep *result*; returns it numbered (attempt, failures before it) for the record."""
        if result.outcome is Outcome.CANCELLED:
            return result
        numbered = dataclasses.replace(result, attempt=len(self.results) + 1,
                                       failures_before=self.failures)
        self.results.append(numbered)
        return numbered

    @property
    def exhausted(self) -> bool:
        """No more attempts: the proctor path is the only way in (N from the package)."""
        return self.proctor_available and not self.verified

    @property
    def failures(self) -> int:
        return sum(1 for result in self.results if result.outcome in FAILED_OUTCOMES)

    @property
    def verified(self) -> bool:
        return any(result.passed for result in self.results)

    @property
    def proctor_available(self) -> bool:
        if any(
            result.outcome in (Outcome.NO_BASE_PHOTO, Outcome.BASE_PHOTO_UNUSABLE)
            for result in self.results
        ):
            return True
        return self.failures >= self.max_failures


@dataclass
class _Capture:
    image: Image
    face: DetectedFace
    quality: float


def _source_facts(source: object) -> dict[str, str]:
    from client.camera.sources import source_facts

    return source_facts(source)


ProgressCallback = Callable[[CheckProgress], None]
FrameCallback = Callable[["Frame", CheckProgress], None]


def run_identity_check(
    *,
    source: FrameSource,
    analyzer: FaceAnalyzer,
    base_photo: bytes | None,
    settings: CameraSettings = DEFAULT_SETTINGS,
    rng: random.Random | None = None,
    on_progress: ProgressCallback | None = None,
    on_frame: FrameCallback | None = None,
    cancel: threading.Event | None = None,
) -> IdentityResult:
    """Run one check to its end (verified, failed, camera error or cancelled)."""
    return _Check(
        source=source,
        analyzer=analyzer,
        base_photo=base_photo,
        settings=settings,
        rng=rng if rng is not None else random.SystemRandom(),
        on_progress=on_progress,
        on_frame=on_frame,
        cancel=cancel if cancel is not None else threading.Event(),
    ).run()


class _Check:
    def __init__(
        self,
        *,
        source: FrameSource,
        analyzer: FaceAnalyzer,
        base_photo: bytes | None,
        settings: CameraSettings,
        rng: random.Random,
        on_progress: ProgressCallback | None,
        on_frame: FrameCallback | None,
        cancel: threading.Event,
    ) -> None:
        self.source = source
        self.analyzer = analyzer
        self.base_photo = base_photo
        self.settings = settings
        self.rng = rng
        self.on_progress = on_progress
        self.on_frame = on_frame
        self.cancel = cancel
        self.challenges: tuple[Challenge, ...] = ()
        self.first_ms: int | None = None
        self.last_ms = 0
        self.best_baseline: _Capture | None = None
        self.final: _Capture | None = None
        self.last_face: _Capture | None = None
        self.prompt_delays: tuple[int, ...] = ()
        self.parallax: tuple[float, ...] = ()
        self.foreshortening: tuple[float, ...] = ()
        self.head_vs_plane: tuple[float, ...] = ()
        self.pad = PadVote(min_live=settings.pad_min_live, min_frames=settings.pad_min_frames)

    # -- helpers ------------------------------------------------------------------------
    def _result(
        self,
        outcome: Outcome,
        *,
        message: str,
        reason: str,
        score: float | None = None,
        scores: tuple[float, ...] = (),
        instructions: tuple[str, ...] = (),
        admin_message: str | None = None,
        live_embeddings: tuple[Embedding, ...] = (),
    ) -> IdentityResult:
        elapsed = 0.0 if self.first_ms is None else (self.last_ms - self.first_ms) / 1000.0
        return IdentityResult(
            outcome=outcome,
            message=message,
            reason=reason,
            threshold=self.settings.match_threshold,
            score=score,
            scores=scores,
            challenges=self.challenges,
            captures=self._evidence_captures(),
            candidate_time_s=elapsed,
            instructions=instructions,
            admin_message=admin_message,
            live_embeddings=live_embeddings,
            prompt_delays_ms=self.prompt_delays,
            parallax=self.parallax,
            foreshortening=self.foreshortening,
            head_vs_plane=self.head_vs_plane,
            pad_median=self.pad.median,
            pad_frames=len(self.pad.scores),
            source=_source_facts(self.source),
            settings_digest=security_digest(self.settings),
        )

    def _evidence_captures(self) -> tuple[bytes, ...]:
        from client.camera.analyzer import encode_jpeg

        chosen = [c for c in (self.best_baseline, self.final) if c is not None]
        if not chosen and self.last_face is not None:
            chosen = [self.last_face]
        return tuple(encode_jpeg(capture.image, quality=85) for capture in chosen)

    def _emit(self, progress: CheckProgress, frame: Frame | None = None) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)
        if frame is not None and self.on_frame is not None:
            self.on_frame(frame, progress)

    def _camera_error(self, error: CameraError) -> IdentityResult:
        return self._result(
            Outcome.CAMERA_ERROR,
            message=error.message,
            reason=error.code,
            instructions=tuple(error.instructions),
        )

    # -- the check ----------------------------------------------------------------------
    def run(self) -> IdentityResult:
        self._emit(CheckProgress(stage=Stage.STARTING, instruction=_("正在启动摄像头…")))
        try:
            self.source.open()
        except CameraError as error:
            return self._camera_error(error)
        try:
            outcome = self._run_stream()
        finally:
            self.source.close()
        if outcome is not None:
            return outcome
        # Without a usable base photo quality and liveness still ran: the live captures
        # are the reviewer's evidence for the proctor path.
        return self._decide()

    def _run_stream(self) -> IdentityResult | None:
        """Quality and liveness; None when liveness passed (match next), else the result."""
        from client.camera.quality import assess

        settings = self.settings
        self.analyzer.reset_motion()
        health = diagnose.FrameHealth(
            window_ms=round(settings.black_window_s * 1000),
            max_brightness=settings.black_max_brightness,
            max_contrast=settings.black_max_contrast,
            covered_max_detail=settings.covered_max_detail,
            dark_brightness=settings.min_face_brightness * 0.8,
        )
        stage = Stage.QUALITY
        quality_start: int | None = None
        good_frames = 0
        liveness: LivenessSession | None = None
        liveness_frames = 0
        last_instruction = ""
        while True:
            if self.cancel.is_set():
                return self._result(Outcome.CANCELLED, message=_("已取消"), reason="cancelled")
            frame = self.source.read()
            if frame is None:
                error = diagnose.no_frames(consent=diagnose.read_consent_state())
                return self._camera_error(error)
            t = frame.t_ms
            if self.first_ms is None:
                self.first_ms = t
            self.last_ms = t
            analysis = self.analyzer.analyze(
                frame.image, t_ms=t, with_landmarks=stage is Stage.LIVENESS
            )
            diagnosed = health.diagnose(t_ms=t, brightness=analysis.brightness,
                                        contrast=analysis.contrast, detail=analysis.detail)
            if diagnosed is diagnose.FrameState.BLACK:
                return self._camera_error(diagnose.black_frames())
            if diagnosed is diagnose.FrameState.COVERED:
                return self._camera_error(diagnose.covered_lens())
            face = analysis.face
            box = (face.x, face.y, face.width, face.height) if face is not None else None
            if face is not None and len(analysis.faces) == 1:
                self.last_face = _Capture(frame.image, face, 0.0)

            if stage is Stage.QUALITY:
                if quality_start is None:
                    quality_start = t
                verdict = assess(analysis, settings)
                last_instruction = verdict.instruction
                good_frames = good_frames + 1 if verdict.ok else 0
                if good_frames >= settings.quality_stable_frames:
                    stage = Stage.LIVENESS
                    self.challenges = draw_challenges(
                        self.rng,
                        min_count=settings.challenge_min_count,
                        max_count=settings.challenge_max_count,
                    )
                    self.prompt_delays = draw_prompt_delays(
                        self.rng, len(self.challenges),
                        min_s=settings.prompt_delay_min_s, max_s=settings.prompt_delay_max_s,
                        total_max_s=settings.prompt_delay_total_max_s,
                    )
                    liveness = LivenessSession(challenges=self.challenges, settings=settings,
                                               prompt_delays_ms=self.prompt_delays)
                    liveness_frames = 0
                    log.info("quality ok after %d ms; challenges %s",
                             t - quality_start, [c.value for c in self.challenges])
                elif t - quality_start > settings.quality_timeout_s * 1000:
                    return self._result(
                        Outcome.QUALITY_TIMEOUT,
                        message=last_instruction,
                        reason="quality." + (verdict.issue or "unknown"),
                    )
                self._emit(
                    CheckProgress(stage=Stage.QUALITY, instruction=last_instruction,
                                  total=len(self.challenges), face_box=box,
                                  quality_ok=verdict.ok),
                    frame,
                )
                continue

            assert liveness is not None
            liveness_frames += 1
            if (
                settings.pad_enabled
                and face is not None
                and len(analysis.faces) == 1
                and liveness_frames % max(settings.pad_every_n_frames, 1) == 0
            ):
                self.pad.add(self.analyzer.spoof_score(frame.image, face))
            status = liveness.feed(
                Observation(
                    t_ms=t,
                    signals=analysis.signals,
                    face_count=len(analysis.faces),
                    motion=analysis.motion,
                )
            )
            if status.neutral_frame and face is not None and len(analysis.faces) == 1:
                capture = _Capture(
                    frame.image, face, (analysis.sharpness or 0.0) * face.score
                )
                if status.phase is LivenessPhase.PASSED:
                    self.final = capture
                elif self.best_baseline is None or capture.quality > self.best_baseline.quality:
                    self.best_baseline = capture
            self._emit(
                CheckProgress(
                    stage=Stage.LIVENESS,
                    instruction=status.instruction,
                    challenge=status.challenge,
                    completed=status.completed,
                    total=status.total,
                    face_box=box,
                ),
                frame,
            )
            self.parallax = tuple(liveness.parallax)
            self.foreshortening = tuple(liveness.foreshortening)
            self.head_vs_plane = tuple(liveness.head_vs_plane)
            if status.phase is LivenessPhase.FAILED:
                failure = status.failure or LivenessFailure.CHALLENGE_TIMEOUT
                return self._result(
                    Outcome.LIVENESS_FAILED,
                    message=failure_message(failure),
                    reason="liveness." + failure.value,
                )
            if status.phase is LivenessPhase.PASSED:
                if settings.pad_enabled and (self.pad.attack or not self.pad.decided):
                    # Too few scored frames is a failure too: the vote must have run.
                    log.info("passive PAD: median %s over %d frames", self.pad.median,
                             len(self.pad.scores))
                    return self._result(
                        Outcome.PRESENTATION_ATTACK,
                        message=_("画面不像是真人直接面对摄像头（疑似照片或屏幕），"
                                  "请本人正对摄像头重新核验"),
                        reason="pad.attack" if self.pad.decided else "pad.undecided",
                    )
                return None

    def _decide(self) -> IdentityResult:
        from client.camera.match import base_photo_reference, match

        self._emit(CheckProgress(stage=Stage.MATCHING, instruction=_("正在比对底照…")))
        live_frames = [c for c in (self.best_baseline, self.final) if c is not None]
        embeddings = tuple(self.analyzer.embed(c.image, c.face) for c in live_frames)
        try:
            reference = base_photo_reference(self.analyzer, self.base_photo)
        except CameraError as base_error:
            outcome = (
                Outcome.NO_BASE_PHOTO
                if base_error.code == "camera.base_photo_missing"
                else Outcome.BASE_PHOTO_UNUSABLE
            )
            admin = base_error.detail.get("admin_message")
            return self._result(
                outcome,
                message=base_error.message,
                reason=base_error.code,
                admin_message=str(admin) if admin is not None else None,
                live_embeddings=embeddings,
            )
        result = match(embeddings, reference, threshold=self.settings.match_threshold)
        log.info("face match scores %s threshold %.3f", result.scores, result.threshold)
        if result.matched:
            outcome, message, reason = Outcome.VERIFIED, _("身份核验通过"), "verified"
        else:
            outcome = Outcome.NOT_MATCHED
            message = _("与底照比对未通过，请摘下帽子或眼镜、正对摄像头后重试")
            reason = "match.below_threshold"
        self._emit(CheckProgress(stage=Stage.DONE, instruction=message))
        return self._result(
            outcome,
            message=message,
            reason=reason,
            score=result.score,
            scores=result.scores,
            live_embeddings=embeddings,
        )


class IdentityCheckRunner:
    """Runs one identity check on a daemon thread (camera and models live on that thread).

    Callbacks run on the worker thread. ``analyzer_factory`` defaults to the process's
    shared models (client.camera.shared), built once and reused by every retry.
    """

    def __init__(
        self,
        *,
        source_factory: Callable[[], FrameSource],
        base_photo: bytes | None,
        on_done: Callable[[IdentityResult], None],
        on_progress: ProgressCallback | None = None,
        on_frame: FrameCallback | None = None,
        settings: CameraSettings = DEFAULT_SETTINGS,
        analyzer_factory: Callable[[], FaceAnalyzer] | None = None,
        seed: int | None = None,
    ) -> None:
        self._source_factory = source_factory
        self._base_photo = base_photo
        self._on_done = on_done
        self._on_progress = on_progress
        self._on_frame = on_frame
        self._settings = settings
        self._analyzer_factory = analyzer_factory
        self._rng = random.Random(seed) if seed is not None else random.SystemRandom()
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="identity-check", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _check(self, analyzer: FaceAnalyzer) -> IdentityResult:
        return run_identity_check(
            source=self._source_factory(),
            analyzer=analyzer,
            base_photo=self._base_photo,
            settings=self._settings,
            rng=self._rng,
            on_progress=self._on_progress,
            on_frame=self._on_frame,
            cancel=self._cancel,
        )

    def _run(self) -> None:
        started = time.monotonic()
        try:
            if self._on_progress is not None:
                self._on_progress(
                    CheckProgress(stage=Stage.STARTING, instruction=_("正在加载人脸识别模型…"))
                )
            if self._analyzer_factory is not None:
                result = self._check(self._analyzer_factory())
            else:
                from client.camera import shared

                # The process's one set of models: a retry loads nothing.
                with shared.lease(self._settings) as analyzer:
                    result = self._check(analyzer)
        except CameraError as error:
            result = IdentityResult(
                outcome=Outcome.CAMERA_ERROR,
                message=error.message,
                reason=error.code,
                threshold=self._settings.match_threshold,
                instructions=tuple(error.instructions),
            )
        except Exception as exc:
            # A crash in the camera stack must end in a result the UI can show (and the
            # proctor path), never in a silent thread death.
            log.exception("identity check crashed")
            result = IdentityResult(
                outcome=Outcome.CAMERA_ERROR,
                message=_("摄像头检测出错，请重试或联系监考老师"),
                reason=f"camera.internal_error.{type(exc).__name__}",
                threshold=self._settings.match_threshold,
            )
        log.info("identity check %s (%s) in %.1f s", result.outcome.value, result.reason,
                 time.monotonic() - started)
        self._on_done(result)
