"""Proctoring during the exam: every few seconds, one frame -> one condition -> debounced events.

Conditions, most specific first: the lens is covered (a uniform, near-black picture),
the room is too dark, nobody is there, several people are, the head is turned away or
bowed (head pose from the landmarker), or a different person is there (SFace against
the references: the live frames of the identity check and the base photo). A face
turned away or too small (in pixels) gives no identity verdict at all rather than a
false "different person".

A condition becomes an event only after ``monitor_debounce`` analyses in a row and ends
after ``monitor_clear`` analyses in a row without it, so a sneeze or a glance at the
keyboard never raises one. Events carry a small JPEG snapshot; the caller stores it
encrypted and syncs it (client/store, client/sync). The candidate gets a quiet notice;
the exam itself is never interrupted.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from client.camera.settings import DEFAULT_SETTINGS, CameraSettings
from client.i18n import _

if TYPE_CHECKING:
    from client.camera.analyzer import Embedding, FaceAnalyzer, FrameAnalysis, Image
    from client.camera.sources import Frame, FrameSource

log = logging.getLogger(__name__)


class Condition(StrEnum):
    COVERED = "covered"
    TOO_DARK = "too_dark"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    DIFFERENT_PERSON = "different_person"
    CAMERA_LOST = "camera_lost"      # frames stopped (unplugged, taken by another app)
    # No frame since proctoring began (no camera on this PC, or another program held it
    # from the start): nothing was "disconnected", so the candidate is not told it was.
    CAMERA_UNAVAILABLE = "camera_unavailable"
    LOOKING_AWAY = "looking_away"    # head turned far to a side (head pose)
    LOOKING_DOWN = "looking_down"    # head bowed (head pose), before the face is lost


def notice_text(condition: Condition) -> str:
    """The quiet notice for the candidate (the exam goes on; answers are safe)."""
    return {
        Condition.COVERED: _("摄像头被遮挡，请保持摄像头畅通"),
        Condition.TOO_DARK: _("光线太暗，请打开灯"),
        Condition.NO_FACE: _("摄像头看不到你，请坐回座位"),
        Condition.MULTIPLE_FACES: _("画面中有其他人，请保持独立作答"),
        Condition.DIFFERENT_PERSON: _("检测到的人与考生本人不符，已记录，待监考审核"),
        Condition.CAMERA_LOST: _("摄像头已断开，请举手联系监考老师，作答不受影响"),
        Condition.CAMERA_UNAVAILABLE: _("本机摄像头无法使用，已记录，请告知监考老师，作答不受影响"),
        Condition.LOOKING_AWAY: _("请面向屏幕作答"),
        Condition.LOOKING_DOWN: _("请抬头面向屏幕作答"),
    }[condition]


@dataclass(frozen=True)
class Reading:
    """What one analysed frame showed. ``identity_checked`` is False when no identity
    verdict was possible (no single frontal face of a usable size)."""

    condition: Condition | None
    identity_checked: bool
    face_count: int
    similarity: float | None = None
    brightness: float = 0.0


def classify(
    analysis: FrameAnalysis, *, similarity: float | None, settings: CameraSettings
) -> Reading:
    face_count = len(analysis.faces)
    brightness = round(analysis.brightness, 1)
    condition: Condition | None = None
    if analysis.contrast < settings.monitor_covered_contrast and not analysis.faces:
        condition = Condition.COVERED
    elif analysis.brightness < settings.monitor_dark_brightness:
        condition = Condition.TOO_DARK
    elif not analysis.faces:
        condition = Condition.NO_FACE
    elif face_count > 1:
        condition = Condition.MULTIPLE_FACES
    elif analysis.signals is not None:
        if abs(analysis.signals.yaw) > settings.monitor_away_yaw_deg:
            condition = Condition.LOOKING_AWAY
        elif analysis.signals.pitch > settings.monitor_down_pitch_deg:
            condition = Condition.LOOKING_DOWN
    if condition is not None or similarity is None:
        return Reading(condition, identity_checked=False, face_count=face_count,
                       brightness=brightness)
    different = similarity < settings.match_threshold
    return Reading(
        Condition.DIFFERENT_PERSON if different else None,
        identity_checked=True,
        face_count=face_count,
        similarity=round(similarity, 4),
        brightness=brightness,
    )


def identity_measurable(analysis: FrameAnalysis, settings: CameraSettings) -> bool:
    """One face, large enough (in pixels: what SFace gets) and frontal enough for SFace
    to mean something. Not a share of the frame width: a 640x480 camera on a monitor
    70 cm away sees a face of ~13 %, which the old 15 % rule never judged."""
    if len(analysis.faces) != 1:
        return False
    face = analysis.faces[0]
    large_enough = face.width >= settings.monitor_min_identity_face_px
    frontal = abs(face.frontal_yaw) <= settings.monitor_max_identity_yaw
    if analysis.signals is not None:
        frontal = frontal and abs(analysis.signals.yaw) <= settings.monitor_away_yaw_deg
    return large_enough and frontal


@dataclass(frozen=True)
class ProctorEvent:
    kind: Condition
    started_ms: int
    ended_ms: int | None
    snapshot: bytes = field(repr=False)    # small JPEG; store encrypted, never as a file
    detail: dict[str, object] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> dict[str, object]:
        """The synced record (the snapshot travels as a separate blob, by event_id)."""
        return {
            "event_id": self.event_id,
            "kind": self.kind.value,
            "started_ms": self.started_ms,
            "ended_ms": self.ended_ms,
            "detail": self.detail,
        }


EventCallback = Callable[[ProctorEvent], None]


class ProctorMonitor:
    """The debounce over readings (pure: the caller supplies time and snapshots)."""

    def __init__(
        self,
        *,
        settings: CameraSettings = DEFAULT_SETTINGS,
        on_opened: EventCallback | None = None,
        on_closed: EventCallback | None = None,
    ) -> None:
        self._settings = settings
        self._on_opened = on_opened
        self._on_closed = on_closed
        self._streak: dict[Condition, int] = dict.fromkeys(Condition, 0)
        self._first_seen: dict[Condition, int] = {}
        self._absent: dict[Condition, int] = dict.fromkeys(Condition, 0)
        self._first_absent: dict[Condition, int] = {}
        self._open: dict[Condition, ProctorEvent] = {}
        self.events: list[ProctorEvent] = []   # every event, open ones as last opened

    @property
    def open_conditions(self) -> tuple[Condition, ...]:
        return tuple(self._open)

    def observe(
        self, reading: Reading, *, t_ms: int, snapshot: Callable[[], bytes]
    ) -> list[ProctorEvent]:
        """Feed one reading; returns the events opened or closed by it."""
        changed: list[ProctorEvent] = []
        for kind in Condition:
            if kind is Condition.DIFFERENT_PERSON and not reading.identity_checked and (
                reading.condition is None
            ):
                continue  # no verdict about identity: neither evidence for nor against
            if reading.condition is kind:
                self._absent[kind] = 0
                self._first_absent.pop(kind, None)
                if self._streak[kind] == 0:
                    self._first_seen[kind] = t_ms
                self._streak[kind] += 1
                if kind not in self._open and self._streak[kind] >= self._settings.monitor_debounce:
                    event = ProctorEvent(
                        kind=kind,
                        started_ms=self._first_seen[kind],
                        ended_ms=None,
                        snapshot=snapshot(),
                        detail={
                            "face_count": reading.face_count,
                            "similarity": reading.similarity,
                            "brightness": reading.brightness,
                        },
                    )
                    self._open[kind] = event
                    self.events.append(event)
                    changed.append(event)
                    log.info("proctor event opened: %s", kind.value)
                    if self._on_opened is not None:
                        self._on_opened(event)
            else:
                self._streak[kind] = 0
                if kind in self._open:
                    if self._absent[kind] == 0:
                        self._first_absent[kind] = t_ms
                    self._absent[kind] += 1
                    if self._absent[kind] >= self._settings.monitor_clear:
                        changed.append(self._close(kind, self._first_absent[kind]))
        return changed

    def _close(self, kind: Condition, ended_ms: int) -> ProctorEvent:
        opened = self._open.pop(kind)
        closed = replace(opened, ended_ms=ended_ms)
        self.events[self.events.index(opened)] = closed
        self._absent[kind] = 0
        log.info("proctor event closed: %s", kind.value)
        if self._on_closed is not None:
            self._on_closed(closed)
        return closed

    def close_all(self, *, t_ms: int) -> list[ProctorEvent]:
        """End every open event (the exam ended or the monitor stops)."""
        return [self._close(kind, t_ms) for kind in list(self._open)]


def analyse_frame(
    analyzer: FaceAnalyzer,
    image: Image,
    *,
    references: Sequence[Embedding],
    settings: CameraSettings,
    t_ms: int = 0,
) -> Reading:
    """One proctoring analysis of one frame: boxes at full resolution (small faces),
    light, head pose (looking away / down), identity."""
    from client.camera.match import best_similarity

    analysis = analyzer.analyze(image, t_ms=t_ms, with_landmarks=True, full_resolution=True)
    similarity = None
    if references and identity_measurable(analysis, settings):
        embedding = analyzer.embed(image, analysis.faces[0])
        similarity = best_similarity(embedding, references)
    return classify(analysis, similarity=similarity, settings=settings)


class MonitorRunner:
    """Runs the monitor on its own thread: every ``monitor_interval_s`` read the newest
    frame, analyse it, feed the monitor. Callbacks run on this thread.

    References for "different person": *references* (the live embeddings of the identity
    check, ``IdentityResult.live_embeddings``) and the *base_photo*'s embedding.

    The camera stays open (opening one takes a second and blinks its light). Between
    analyses nothing is read; at each analysis a few frames are read and the last one is
    used, so that a frame buffered by the driver seconds ago is not the one judged.
    """

    DRAIN_FRAMES = 3

    def __init__(
        self,
        *,
        source_factory: Callable[[], FrameSource],
        references: Sequence[Embedding],
        on_opened: EventCallback,
        on_closed: EventCallback,
        base_photo: bytes | None = None,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        settings: CameraSettings = DEFAULT_SETTINGS,
        analyzer_factory: Callable[[], FaceAnalyzer] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._source_factory = source_factory
        self._references = tuple(references)
        self._base_photo = base_photo
        self._clock_ms = clock_ms
        self._settings = settings
        self._analyzer_factory = analyzer_factory
        self._on_error = on_error
        self.monitor = ProctorMonitor(settings=settings, on_opened=on_opened, on_closed=on_closed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="proctor-monitor", daemon=True)
        self.analyses = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> bool:
        """Stop, close open events; True if the thread has ended."""
        self._stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _latest_frame(self, source: FrameSource) -> Frame | None:
        latest = None
        for _index in range(self.DRAIN_FRAMES):
            frame = source.read()
            if frame is None:
                break
            latest = frame
        return latest

    def _run(self) -> None:
        from client.camera.analyzer import encode_jpeg
        from client.camera.errors import CameraError

        settings = self._settings
        references = list(self._references)
        try:
            with self._analyzer() as analyzer:
                if self._base_photo:
                    from client.camera.match import base_photo_reference

                    try:
                        references.append(base_photo_reference(analyzer, self._base_photo))
                    except CameraError as error:
                        log.warning("base photo not usable as a proctoring reference: %s",
                                    error.code)
        except Exception as exc:
            log.exception("proctor monitor could not load the models")
            if self._on_error is not None:
                self._on_error(exc)
            return
        source = self._source_factory()
        source_open = False
        ever_seen = False  # a frame since proctoring began: only then can it be "lost"
        try:
            next_due = time.monotonic()
            while not self._stop.wait(max(0.0, next_due - time.monotonic())):
                next_due = time.monotonic() + settings.monitor_interval_s
                frame = None
                try:
                    if not source_open:
                        source.open()
                        source_open = True
                    frame = self._latest_frame(source)
                except CameraError as error:
                    log.warning("proctor camera unavailable: %s", error.code)
                if frame is None:
                    # Unplugged or taken by another program: try to reopen next time.
                    source.close()
                    source_open = False
                    condition = (Condition.CAMERA_LOST if ever_seen
                                 else Condition.CAMERA_UNAVAILABLE)
                    reading = Reading(condition, identity_checked=False, face_count=0)
                else:
                    ever_seen = True
                    with self._analyzer() as analyzer:
                        reading = analyse_frame(analyzer, frame.image, references=references,
                                                settings=settings, t_ms=frame.t_ms)
                self.analyses += 1
                captured = frame.image if frame is not None else None

                def snapshot(captured: Image | None = captured) -> bytes:
                    if captured is None:
                        return b""
                    return encode_jpeg(captured, quality=60, max_width=settings.snapshot_width)

                self.monitor.observe(reading, t_ms=self._clock_ms(), snapshot=snapshot)
            self.monitor.close_all(t_ms=self._clock_ms())
        except Exception as exc:
            log.exception("proctor monitor stopped by an error")
            if self._on_error is not None:
                self._on_error(exc)
        finally:
            source.close()

    @contextmanager
    def _analyzer(self) -> Iterator[FaceAnalyzer]:
        """The given analyzer, or a turn with the process's shared models (the same ones
        the identity check used: nothing is loaded again)."""
        if self._analyzer_factory is not None:
            yield self._analyzer_factory()
            return
        from client.camera import shared

        with shared.lease(self._settings) as analyzer:
            yield analyzer
