"""Presentation-attack test material: genuine candidates and attackers, frame by frame.

Everything is built from one real photo (scikit-image's astronaut) and the real
landmarker's 3D landmarks of it (head3d.Head3D), so every frame goes through the real
models. A source here is *reactive*: the check's progress is fed back to it
(``observe``), so a genuine candidate and a prompt-following attacker act after the
prompt, as people do, while replays keep their own clock.

Kinds (``KINDS``):
- ``genuine``: a cooperative candidate: random reaction time, turn amplitude, blink and
  mouth depth, slow head sway, position, scale, light, mirrored or not.
- ``print_tilt``: one unedited print of the candidate held in the hand; on each prompt
  the attacker turns the sheet about its vertical axis (up to 45 deg) and rotates it in
  its plane (up to 16 deg), tilts it forward up to 60 deg (blink) or slanted (mouth). Half
  of the prints fill the camera's view (no edge visible), half are held inside the room.
- ``photo_swap``: prints "as taken / eyes closed / mouth open" swapped on cue, perfectly
  aligned, filling the view; the turn is done by turning the sheet.
- ``photo_swap_far``: as ``photo_swap``, but the sheet is turned 57-63 deg for a turn
  (ramped over 6 frames, as a hand does) instead of 35: far enough for the landmarker to
  read a 10 deg yaw from the flat picture (the audit's "sheet turned 60 deg" attack).
- ``photo_swap_tilted``: as ``photo_swap_far``, the sheet turned 38-46 deg and tilted
  forward 20-30 deg at once, which keeps the face's proportions, so the width rule does
  not see it; the 3D-shape rule (``plane_fit``) does (docs/camera.md, "Tilted and turned
  sheets").
- ``photo_swap_3d``: as above plus prints of the head turned left and right (rendered
  in 3D), swapped in on cue: every frame is a real-looking pose.
- ``screen_talk``: a video of the candidate talking (mouth, blinks, small sway), played on
  a phone or monitor held in front of the camera (gamma, colour cast, moire, bezel
  visible or not); it keeps its own clock.
- ``recording``: the frames of an earlier genuine check of this candidate (another
  challenge sequence), replayed on a screen, or injected digitally (virtual camera).
- ``recording_loop``: the same recording played in a loop (a virtual camera or a screen
  that restarts the clip), so that the stream never ends and every prompt sees the
  recorded actions again and again.

Attack-review kinds (``review_*``: bent and folded prints, sheets moved instead of
turned, genuine candidates with glasses, occlusion, low light, nodding turns) are built by
tests/camera/attack_review.py and run by the benchmark with ``--review``.

Limits (docs/camera.md): one real identity, 2.5D head rendering from one photo (no
occlusion beyond ~25 deg, no real skin, no real paper or screen physics); the print and
screen "looks" are simple colour and texture edits, not camera captures of real media.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
from camera_sequences import FPS, SIZE, eyes_closed, mouth_open, sensor_noise
from head3d import Head3D
from skimage import data

from client.camera.identity_check import CheckProgress
from client.camera.liveness import Challenge
from client.camera.sources import Frame

Image = npt.NDArray[np.uint8]

KINDS = ("genuine", "print_tilt", "photo_swap", "photo_swap_far", "photo_swap_tilted",
         "photo_swap_3d", "screen_talk", "recording", "recording_loop")
ATTACK_KINDS = KINDS[1:]
# Attacks known to pass some attempts: measured by the benchmark (--kinds), not asserted.
# None at present (photo_swap_tilted was one until the plane_fit rule).
OPEN_KINDS: tuple[str, ...] = ()


# -- the candidate's face -------------------------------------------------------------------
@dataclass
class Face:
    """One photo with its 3D landmarks; renders eyes/mouth/pose, caches the warps."""

    frame: Image
    points: npt.NDArray[np.float64]
    head: Head3D = field(init=False)

    def __post_init__(self) -> None:
        self.head = Head3D(self.frame, self.points)
        self._edited: dict[tuple[float, float], Image] = {}

    def render(self, *, eyes: float = 0.0, mouth: float = 0.0, yaw: float = 0.0,
               pitch: float = 0.0) -> Image:
        key = (round(eyes, 1), round(mouth, 1))
        image = self._edited.get(key)
        if image is None:
            image = self.frame
            if key[0]:
                image = eyes_closed(image, self.points, key[0])
            if key[1]:
                image = mouth_open(image, self.points, key[1])
            self._edited[key] = image
        # Quantised so that the warp cache stays small (1 deg steps).
        return self.head.render(image, yaw_deg=float(round(yaw)), pitch_deg=float(round(pitch)))


def room_background(rng: random.Random) -> Image:
    """A plain room behind a sheet or a phone: a blurred, dimmed scikit-image photo."""
    picture = data.coffee() if rng.random() < 0.5 else data.rocket()
    bgr = cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)
    bgr = cv2.resize(bgr, SIZE, interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(bgr, (0, 0), 3).astype(np.float32).__mul__(0.7).astype(np.uint8)


# -- media looks ----------------------------------------------------------------------------
def print_look(image: Image, rng: random.Random) -> Image:
    """Ink on paper: compressed range, warm paper white, a little blur and grain."""
    x = image.astype(np.float32) / 255.0
    black, white = rng.uniform(0.06, 0.14), rng.uniform(0.82, 0.93)
    x = black + (white - black) * np.power(x, rng.uniform(1.05, 1.3))
    x[..., 0] *= rng.uniform(0.9, 0.97)   # paper is warmer than the scene
    x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.6, 1.2))
    return np.clip(x * 255.0, 0, 255).astype(np.uint8)


def screen_look(image: Image, rng: random.Random) -> Image:
    """A phone or monitor filmed: gamma, blue cast, raised blacks, moire."""
    x = image.astype(np.float32)
    height, width = image.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    fx, fy = rng.uniform(0.2, 0.45), rng.uniform(0.02, 0.12)
    moire = rng.uniform(4, 10) * np.sin(2 * math.pi * (xx * fx + yy * fy))[..., None]
    x = x * rng.uniform(0.8, 0.95) + rng.uniform(15, 35) + moire
    x[..., 0] += rng.uniform(5, 20)
    return np.clip(x, 0, 255).astype(np.uint8)


# -- a flat medium held in front of the camera -----------------------------------------------
@dataclass
class SheetPose:
    yaw: float = 0.0      # about the sheet's vertical axis, degrees
    pitch: float = 0.0    # tilted forward (+) / back
    roll: float = 0.0     # in its own plane
    dx: float = 0.0       # pixels in the camera image
    dy: float = 0.0
    scale: float = 1.0    # 1: the medium's picture as large as the camera frame


def sheet_homography(pose: SheetPose, size: tuple[int, int] = SIZE,
                     focal: float = 700.0) -> npt.NDArray[np.float64]:
    width, height = size
    y, p, r = (math.radians(v) for v in (pose.yaw, pose.pitch, pose.roll))
    rot_y = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rot_x = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rot_z = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    rot = rot_z @ rot_x @ rot_y
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    projected = []
    for u, v in corners:
        point = rot @ np.array([(u - width / 2) * pose.scale, (v - height / 2) * pose.scale, 0.0])
        point[2] += focal
        projected.append([focal * point[0] / point[2] + width / 2 + pose.dx,
                          focal * point[1] / point[2] + height / 2 + pose.dy])
    return cv2.getPerspectiveTransform(corners.astype(np.float32),
                                       np.array(projected, np.float32))


def held(medium: Image, pose: SheetPose, background: Image) -> Image:
    matrix = sheet_homography(pose)
    warped = cv2.warpPerspective(medium, matrix, SIZE, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full(medium.shape[:2], 255, np.uint8), matrix, SIZE)
    return np.where(mask[..., None] > 127, warped, background)


# -- reactive sources -----------------------------------------------------------------------
Policy = Callable[[int, "Cue"], Image]


@dataclass
class Cue:
    """What the check shows now: the prompted challenge and since which frame."""

    challenge: Challenge | None = None
    since: int = 0


class ReactiveSource:
    """A FrameSource whose frames depend on what the check asked (``observe`` it)."""

    source_kind = "test"

    def __init__(self, policy: Policy, *, max_s: float = 40.0, fps: float = FPS) -> None:
        self._policy = policy
        self._max_frames = round(max_s * fps)
        self._fps = fps
        self._index = 0
        self.cue = Cue()
        self.frames: list[Image] = []   # what the camera saw (a "recording" of the check)
        self.keep_frames = False

    @property
    def description(self) -> str:
        return "reactive test source"

    def observe(self, progress: CheckProgress) -> None:
        if progress.challenge != self.cue.challenge:
            self.cue = Cue(progress.challenge, self._index)

    def open(self) -> None:
        self._index = 0

    def read(self) -> Frame | None:
        if self._index >= self._max_frames:
            return None
        index = self._index
        self._index += 1
        image = self._policy(index, self.cue)
        if self.keep_frames:
            self.frames.append(image)
        return Frame(image=image, t_ms=round(index * 1000 / self._fps))

    def close(self) -> None:
        pass

    def render(self, index: int, cue: Cue) -> Image:
        """The frame the policy shows at *index* for *cue* (to put it on another medium)."""
        return self._policy(index, cue)


class ReplaySource(ReactiveSource):
    """Frames recorded earlier, shown through *medium* (identity: digital injection);
    *loop*: restarted at its end (for up to 40 s), else the stream ends with the clip."""

    def __init__(self, frames: list[Image], medium: Callable[[int, Image], Image], *,
                 loop: bool = False) -> None:
        count = len(frames)

        def show(index: int, _cue: Cue) -> Image:
            return medium(index, frames[index % count if loop else min(index, count - 1)])

        super().__init__(show, max_s=40.0 if loop else count / FPS)


# -- genuine ---------------------------------------------------------------------------------
@dataclass
class Person:
    """A candidate's habits: how fast they react and how far they move."""

    reaction_f: int
    turn_deg: float
    blink_depth: float
    mouth_depth: float
    sway_deg: float
    sway_phase: float
    repeat_after_f: int = 30

    @staticmethod
    def draw(rng: random.Random) -> Person:
        return Person(reaction_f=rng.randint(6, 17), turn_deg=rng.uniform(18.0, 26.0),
                      blink_depth=rng.uniform(0.85, 1.0), mouth_depth=rng.uniform(0.8, 1.0),
                      sway_deg=rng.uniform(0.0, 2.0), sway_phase=rng.uniform(0, 6.28))


def action_track(challenge: Challenge, person: Person) -> list[dict[str, float]]:
    if challenge is Challenge.BLINK:
        d = person.blink_depth
        return [{"eyes": a * d} for a in (0.5, 1.0, 1.0, 0.5)]
    if challenge is Challenge.OPEN_MOUTH:
        d = person.mouth_depth
        return [{"mouth": a * d} for a in (0.4, 0.8, 1.0, 1.0, 1.0, 0.6, 0.2)]
    sign = 1.0 if challenge is Challenge.TURN_LEFT else -1.0
    return [{"yaw": sign * person.turn_deg * a}
            for a in (0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 0.7, 0.4, 0.15)]


def _camera(image: Image, index: int, *, shift: tuple[int, int], gain: float) -> Image:
    if shift != (0, 0):
        matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
        image = cv2.warpAffine(image, matrix, SIZE, borderMode=cv2.BORDER_REPLICATE)
    if gain != 1.0:
        image = cv2.convertScaleAbs(image, alpha=gain)
    return sensor_noise(image, index)


def genuine_policy(face: Face, rng: random.Random) -> Policy:
    person = Person.draw(rng)
    shift = (rng.randint(-25, 25), rng.randint(-15, 15))
    gain = rng.uniform(0.8, 1.1)

    def frame(index: int, cue: Cue) -> Image:
        sway = person.sway_deg * math.sin(index / 12.0 + person.sway_phase)
        pose: dict[str, float] = {"yaw": sway, "pitch": sway / 2}
        if cue.challenge is not None:
            since = index - cue.since - person.reaction_f
            if since >= 0:
                track = action_track(cue.challenge, person)
                step = since % (len(track) + person.repeat_after_f)
                if step < len(track):
                    for key, value in track[step].items():
                        pose[key] = pose.get(key, 0.0) + value
        return _camera(face.render(**pose), index, shift=shift, gain=gain)

    return frame


def cooperative(face: Face, seed: int, *, reaction_f: int = 8) -> ReactiveSource:
    """A typical cooperative candidate (the tests' and the benchmark's genuine user)."""
    person = Person(reaction_f=reaction_f, turn_deg=22.0, blink_depth=1.0, mouth_depth=1.0,
                    sway_deg=1.0, sway_phase=float(seed))

    def frame(index: int, cue: Cue) -> Image:
        pose: dict[str, float] = {"yaw": person.sway_deg * math.sin(index / 12.0 + seed)}
        if cue.challenge is not None and index - cue.since >= person.reaction_f:
            track = action_track(cue.challenge, person)
            step = (index - cue.since - person.reaction_f) % (len(track) + 30)
            if step < len(track):
                for key, value in track[step].items():
                    pose[key] = pose.get(key, 0.0) + value
        return sensor_noise(face.render(**pose), index)

    return ReactiveSource(frame, max_s=30.0)


# -- attackers ------------------------------------------------------------------------------
def _hand_tremor(index: int, seed: float) -> tuple[float, float, float]:
    return (2.0 * math.sin(index / 7.0 + seed), 1.5 * math.sin(index / 5.0 + 2 * seed),
            0.8 * math.sin(index / 9.0 + 3 * seed))


def print_tilt_policy(face: Face, rng: random.Random) -> Policy:
    paper = print_look(face.frame, rng)
    fills = rng.random() < 0.5
    scale = rng.uniform(1.15, 1.35) if fills else rng.uniform(0.55, 0.75)
    background = room_background(rng)
    turn_deg, roll_deg = rng.uniform(25, 45), rng.uniform(8, 16)
    forward_deg, seed = rng.uniform(45, 60), rng.uniform(0, 6)

    def frame(index: int, cue: Cue) -> Image:
        tx, ty, tr = _hand_tremor(index, seed)
        pose = SheetPose(yaw=tx, pitch=ty, roll=tr, scale=scale)
        since = index - cue.since - 8
        if cue.challenge is not None and since >= 0:
            ramp = min(1.0, since / 6.0) if since < 30 else max(0.0, 1 - (since - 30) / 6.0)
            if cue.challenge in (Challenge.TURN_LEFT, Challenge.TURN_RIGHT):
                sign = 1.0 if cue.challenge is Challenge.TURN_LEFT else -1.0
                pose.yaw += sign * turn_deg * ramp
                pose.roll += sign * roll_deg * ramp
            elif cue.challenge is Challenge.BLINK:
                pose.pitch += forward_deg * ramp
            else:
                pose.pitch += forward_deg * 0.7 * ramp
                pose.yaw += 25 * ramp
        return sensor_noise(held(paper, pose, background), index)

    return frame


def photo_swap_policy(face: Face, rng: random.Random, *, turned_prints: bool,
                      far_turn: bool = False, tilt: bool = False) -> Policy:
    look_rng = random.Random(rng.random())
    prints = {
        None: print_look(face.render(), random.Random(look_rng.random())),
        Challenge.BLINK: print_look(face.render(eyes=1.0), random.Random(look_rng.random())),
        Challenge.OPEN_MOUTH: print_look(face.render(mouth=1.0), random.Random(look_rng.random())),
    }
    if turned_prints:
        prints[Challenge.TURN_LEFT] = print_look(face.render(yaw=22), random.Random(0))
        prints[Challenge.TURN_RIGHT] = print_look(face.render(yaw=-22), random.Random(0))
    scale, seed = rng.uniform(1.15, 1.3), rng.uniform(0, 6)
    background = room_background(rng)
    # Drawn last so that the other kinds' material stays as it was for a given seed.
    sheet_turn, sheet_tilt = (rng.uniform(57, 63) if far_turn else 35.0), 0.0
    if tilt:   # turned less, tilted forward as well: keeps the face's proportions
        sheet_turn, sheet_tilt = rng.uniform(38, 46), rng.uniform(20, 30)

    def frame(index: int, cue: Cue) -> Image:
        tx, ty, tr = _hand_tremor(index, seed)
        pose = SheetPose(yaw=tx / 2, pitch=ty / 2, roll=tr / 2, scale=scale)
        shown = prints[None]
        since = index - cue.since - 8
        turn = cue.challenge is not None and cue.challenge not in prints
        if cue.challenge is not None and since >= 0 and far_turn and turn:
            # Turned by hand: a 6-frame ramp, held, turned back (the continuity rule
            # stops a one-frame flip, so an attacker ramps), and in the direction that
            # makes the landmarker read the prompted turn (a sheet's near edge turned
            # away reads as the face turning the other way).
            ramp = min(1.0, since / 6.0) if since < 30 else max(0.0, 1 - (since - 30) / 6.0)
            sign = -1.0 if cue.challenge is Challenge.TURN_LEFT else 1.0
            pose.yaw += sign * sheet_turn * ramp
            pose.pitch += sheet_tilt * ramp
        elif cue.challenge is not None and 0 <= since < 12:
            if cue.challenge in prints:
                shown = prints[cue.challenge]
            else:   # no print of a turned head: turn the sheet
                sign = 1.0 if cue.challenge is Challenge.TURN_LEFT else -1.0
                pose.yaw += sign * sheet_turn
        return sensor_noise(held(shown, pose, background), index)

    return frame


def talking_video(face: Face, rng: random.Random, frames: int) -> list[Image]:
    """The candidate talking to a camera: mouth moving, blinks, a little sway."""
    person = Person.draw(rng)
    out = []
    blink_every = rng.randint(60, 100)
    for index in range(frames):
        mouth = max(0.0, math.sin(index / rng.uniform(2.5, 3.5))) * 0.7 if index > 20 else 0.0
        eyes = 1.0 if index % blink_every in (0, 1) else 0.0
        sway = person.sway_deg * math.sin(index / 12.0 + person.sway_phase)
        out.append(face.render(eyes=eyes, mouth=mouth, yaw=sway * 2, pitch=sway))
    return out


def screen_medium(rng: random.Random) -> Callable[[int, Image], Image]:
    fills = rng.random() < 0.4
    scale = rng.uniform(1.1, 1.3) if fills else rng.uniform(0.5, 0.8)
    background, seed = room_background(rng), rng.uniform(0, 6)
    look = random.Random(rng.random())
    bezel = rng.randint(12, 30)

    def show(index: int, picture: Image) -> Image:
        tx, ty, tr = _hand_tremor(index, seed)
        screen = screen_look(picture, look)
        framed = cv2.copyMakeBorder(screen, bezel, bezel, bezel, bezel,
                                    cv2.BORDER_CONSTANT, value=(20, 20, 20))
        framed = cv2.resize(framed, SIZE, interpolation=cv2.INTER_AREA)
        return sensor_noise(held(framed, SheetPose(tx, ty, tr, scale=scale), background), index)

    return show


def reactive_screen(face: Face, seed: int, *, scale: float, bezel: int = 20) -> ReactiveSource:
    """A phone held in the room showing a live puppet of the candidate that follows the
    prompts (a cooperative rendering, as a face-reenactment app would drive it): liveness
    sees a 3D head doing what was asked; only passive PAD can see the phone. *scale* < 1
    keeps the bezel and the hand-held edge inside the PAD model's 4x crop."""
    person = cooperative(face, seed)
    rng = random.Random(seed)
    look, background = random.Random(rng.random()), room_background(rng)

    def frame(index: int, cue: Cue) -> Image:
        screen = screen_look(person.render(index, cue), look)
        framed = cv2.copyMakeBorder(screen, bezel, bezel, bezel, bezel,
                                    cv2.BORDER_CONSTANT, value=(20, 20, 20))
        framed = cv2.resize(framed, SIZE, interpolation=cv2.INTER_AREA)
        return sensor_noise(held(framed, SheetPose(scale=scale), background), index)

    return ReactiveSource(frame, max_s=30.0)


def digital(index: int, picture: Image) -> Image:
    """A virtual camera: the recorded frames as they were."""
    return picture


# -- scenarios ---------------------------------------------------------------------------------
@dataclass
class Scenario:
    kind: str
    candidate: int
    make_source: Callable[[int], ReactiveSource]   # attempt number -> a fresh source
    detail: str = ""


def scenarios(kind: str, faces: list[Face], *, candidates: int, seed: int,
              recordings: Callable[[Face, random.Random], list[Image]] | None = None,
              ) -> Iterator[Scenario]:
    for candidate in range(candidates):
        rng = random.Random(f"{kind}-{seed}-{candidate}")
        face = faces[candidate % len(faces)]
        yield _scenario(kind, candidate, face, rng, recordings)


def _scenario(kind: str, candidate: int, face: Face, rng: random.Random,
              recordings: Callable[[Face, random.Random], list[Image]] | None) -> Scenario:
    def fresh(attempt: int) -> random.Random:
        return random.Random(f"{rng.random()}-{attempt}")

    if kind == "genuine":
        return Scenario(kind, candidate, lambda a: ReactiveSource(genuine_policy(face, fresh(a))))
    if kind == "print_tilt":
        return Scenario(kind, candidate,
                        lambda a: ReactiveSource(print_tilt_policy(face, fresh(a))))
    if kind == "photo_swap":
        return Scenario(kind, candidate, lambda a: ReactiveSource(
            photo_swap_policy(face, fresh(a), turned_prints=False)))
    if kind == "photo_swap_far":
        return Scenario(kind, candidate, lambda a: ReactiveSource(
            photo_swap_policy(face, fresh(a), turned_prints=False, far_turn=True)))
    if kind == "photo_swap_tilted":
        return Scenario(kind, candidate, lambda a: ReactiveSource(
            photo_swap_policy(face, fresh(a), turned_prints=False, far_turn=True, tilt=True)))
    if kind == "photo_swap_3d":
        return Scenario(kind, candidate, lambda a: ReactiveSource(
            photo_swap_policy(face, fresh(a), turned_prints=True)))
    if kind == "screen_talk":
        def talk(attempt: int) -> ReactiveSource:
            r = fresh(attempt)
            return ReplaySource(talking_video(face, r, 400), screen_medium(r))
        return Scenario(kind, candidate, talk)
    if kind in ("recording", "recording_loop"):
        if recordings is None:
            raise ValueError("the recording kinds need earlier checks")

        def replay(attempt: int) -> ReactiveSource:
            r = fresh(attempt)
            frames = recordings(face, r)
            medium = digital if attempt % 2 == 0 else screen_medium(r)
            return ReplaySource(frames, medium, loop=kind == "recording_loop")
        return Scenario(kind, candidate, replay)
    from attack_review import REVIEW_KINDS, review_source  # attack-review kinds
    if kind in REVIEW_KINDS:
        return Scenario(kind, candidate, lambda a: review_source(kind, face, fresh(a)))
    raise ValueError(kind)
