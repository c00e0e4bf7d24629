"""Camera test material built from real photos (scikit-image's astronaut and camera).

There is no face video that can be had offline, so sequences are built from stills with
the edits a webcam would see: sensor noise, shifts, mirroring, darkness, a covered lens,
a second face, and doctored frames for the liveness actions (eyes painted shut with
eyelid skin, a dark open mouth, the nose region pushed sideways for a head turn). The
real models run on all of them; the edits are located with the real landmarker.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from head3d import Head3D
from skimage import data

from client.camera.liveness import Challenge
from client.camera.sources import Frame

Image = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float64]

FPS = 25.0
SIZE = (640, 480)
_HEADS: dict[int, Head3D] = {}


def astronaut_frame() -> Image:
    """The astronaut's portrait as a 640x480 webcam frame (face ~190 px wide, centred)."""
    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    return np.ascontiguousarray(
        cv2.resize(bgr[7:232, 73:373], SIZE, interpolation=cv2.INTER_CUBIC)
    )


def astronaut_portrait() -> Image:
    """The whole 512x512 photo: what a base photo (底照) looks like."""
    return np.ascontiguousarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))


def cameraman_frame() -> Image:
    """A different person (the man in scikit-image's camera(), seen in profile)."""
    gray = data.camera()[40:340, 60:460]
    return np.ascontiguousarray(
        cv2.resize(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), SIZE, interpolation=cv2.INTER_CUBIC)
    )


def cameraman_closeup() -> Image:
    """The same man filling a webcam frame (face ~190 px wide), still in profile."""
    gray = data.camera()[78:228, 125:325]
    return np.ascontiguousarray(
        cv2.resize(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), SIZE, interpolation=cv2.INTER_CUBIC)
    )


def encode(image: Image, ext: str = ".jpg") -> bytes:
    ok, buffer = cv2.imencode(ext, image)
    assert ok
    return bytes(buffer.tobytes())


# -- simple edits -------------------------------------------------------------------------
def with_noise(image: Image, rng: np.random.Generator, sigma: float = 2.0) -> Image:
    noisy = image.astype(np.float32) + rng.normal(0.0, sigma, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


_NOISE_BANK: list[npt.NDArray[np.int8]] = []


def sensor_noise(image: Image, index: int) -> Image:
    """Cheap per-frame sensor noise (sigma ~2): one of 5 fixed noise fields, so that
    consecutive frames always differ, as they do on a real camera."""
    if not _NOISE_BANK:
        rng = np.random.default_rng(2024)
        _NOISE_BANK.extend(
            np.clip(np.round(rng.normal(0.0, 2.0, (SIZE[1], SIZE[0], 3))), -8, 8).astype(np.int8)
            for _ in range(5)
        )
    noise = _NOISE_BANK[index % len(_NOISE_BANK)]
    if noise.shape != image.shape:
        return image
    return np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def shifted(image: Image, dx: int, dy: int) -> Image:
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, SIZE, borderMode=cv2.BORDER_REPLICATE)


def mirrored(image: Image) -> Image:
    return np.ascontiguousarray(image[:, ::-1])


def darkened(image: Image, factor: float) -> Image:
    return (image.astype(np.float32) * factor).astype(np.uint8)


def covered(rng: np.random.Generator, level: int = 3) -> Image:
    """A lens covered by a finger or a slider: nearly black, a little sensor noise."""
    base = np.full((SIZE[1], SIZE[0], 3), level, np.uint8)
    return with_noise(base, rng, sigma=1.0)


def finger_over_lens(rng: np.random.Generator, index: int = 0) -> Image:
    """A fingertip on the lens in a lit room: light through skin, reddish, out of focus,
    brighter towards one edge, a little sensor noise; no edges at all."""
    xs = np.linspace(0.0, 1.0, SIZE[0], dtype=np.float32)[None, :]
    ys = np.linspace(0.0, 1.0, SIZE[1], dtype=np.float32)[:, None]
    glow = 0.55 + 0.45 * (0.6 * xs + 0.4 * ys)
    image = np.stack([28 * glow, 45 * glow, 110 * glow], axis=2) + 0 * index
    return with_noise(np.clip(image, 0, 255).astype(np.uint8), rng, sigma=1.5)


def dark_room(image: Image, rng: np.random.Generator, level: float = 0.08) -> Image:
    """The same scene with the light off: dim, with the camera's gain noise."""
    return with_noise(darkened(image, level), rng, sigma=3.0)


def motion_blurred(image: Image, length: int, *, vertical: bool = False) -> Image:
    kernel = np.zeros((length, length), np.float32)
    if vertical:
        kernel[:, length // 2] = 1.0 / length
    else:
        kernel[length // 2, :] = 1.0 / length
    return cv2.filter2D(image, -1, kernel)


def blurred(image: Image, sigma: float) -> Image:
    return cv2.GaussianBlur(image, (0, 0), sigma)


def backlit(image: Image) -> Image:
    """Face darkened, everything around it glaring (a window behind the candidate)."""
    as_float = image.astype(np.float32)
    mask = np.zeros(image.shape[:2], np.float32)
    cv2.ellipse(mask, (322, 250), (110, 140), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 15)[..., None]
    result = as_float * 0.35 * mask + np.minimum(255, as_float * 1.6 + 60) * (1 - mask)
    return result.astype(np.uint8)


def two_faces(left: Image, right: Image) -> Image:
    canvas = np.full((SIZE[1], SIZE[0], 3), 128, np.uint8)
    canvas[120:360, 0:320] = cv2.resize(left, (320, 240))
    canvas[120:360, 320:640] = cv2.resize(right, (320, 240))
    return canvas


# -- liveness actions (need the landmarks of the frame) --------------------------------------
def eyes_closed(image: Image, points: Points, amount: float = 1.0) -> Image:
    """Paint the eyes over with the eyelid skin just above them, plus a lash line."""
    out = image.copy()
    for outer, inner, top, bottom in ((33, 133, 159, 145), (263, 362, 386, 374)):
        x0 = int(min(points[outer][0], points[inner][0]) - 8)
        x1 = int(max(points[outer][0], points[inner][0]) + 8)
        y0, y1 = int(points[top][1] - 8), int(points[bottom][1] + 5)
        width, height = x1 - x0, y1 - y0
        skin = cv2.resize(image[y0 - 12:y0 - 2, x0:x1], (width, height))
        cv2.line(skin, (4, int(height * 0.75)), (width - 4, int(height * 0.75)), (30, 30, 40), 2)
        mask = np.zeros((height, width), np.float32)
        cv2.ellipse(mask, (width // 2, height // 2), (width // 2, height // 2), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (9, 9), 3)[..., None] * amount
        region = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = (skin * mask + region * (1 - mask)).astype(np.uint8)
    return out


def mouth_open(image: Image, points: Points, amount: float = 1.0) -> Image:
    out = image.copy()
    center_x = int((points[78][0] + points[308][0]) / 2)
    center_y = int((points[13][1] + points[14][1]) / 2 + 10 * amount)
    half_width = int((points[308][0] - points[78][0]) / 2 * 0.8)
    cv2.ellipse(out, (center_x, center_y), (half_width, max(1, int(32 * amount))),
                0, 0, 360, (20, 15, 50), -1)
    return out


def head_turned(image: Image, points: Points, shift_px: float) -> Image:
    """Push the nose region sideways (positive: towards the person's left = image right)."""
    height, width = image.shape[:2]
    center_x, center_y = points[1][0], points[1][1]
    sigma_x = (points[263][0] - points[33][0]) * 0.45
    sigma_y = (points[152][1] - points[10][1]) * 0.4
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    weight = np.exp(-(((xs - center_x) / sigma_x) ** 2 + ((ys - center_y) / sigma_y) ** 2) / 2)
    map_x = (xs - shift_px * weight).astype(np.float32)
    return cv2.remap(image, map_x, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


TURN_PX = 45.0
TURN_DEG = 22.0     # a turn rendered in 3D (head3d.Head3D); the landmarker reads ~14 deg


@dataclass(frozen=True)
class Pose:
    eyes: float = 0.0     # 1 = closed
    mouth: float = 0.0    # 1 = wide open
    turn: float = 0.0     # +1 = the person's left, -1 = right


@dataclass(frozen=True)
class Actor:
    """A cooperative candidate built from one still frame and its landmarks."""

    frame: Image
    points: Points      # (478, 3): x, y, depth in pixels

    @property
    def head(self) -> Head3D:
        cached = _HEADS.get(id(self))
        if cached is None:
            cached = _HEADS[id(self)] = Head3D(self.frame, self.points)
        return cached

    def pose(self, *, eyes: float = 0.0, mouth: float = 0.0, turn: float = 0.0,
             pitch_deg: float = 0.0) -> Image:
        """Eyes and mouth edited on the photo, then the head turned in 3D."""
        image = self.frame
        if eyes:
            image = eyes_closed(image, self.points, eyes)
        if mouth:
            image = mouth_open(image, self.points, mouth)
        if turn or pitch_deg:
            image = self.head.render(image, yaw_deg=turn * TURN_DEG, pitch_deg=pitch_deg)
        return image

    @staticmethod
    def action_poses(challenge: Challenge) -> list[Pose]:
        """The poses of one action at 25 fps, from rest back to rest."""
        if challenge is Challenge.BLINK:
            return [Pose(eyes=a) for a in (0.6, 1.0, 1.0, 0.4)]
        if challenge is Challenge.OPEN_MOUTH:
            return [Pose(mouth=a) for a in (0.5, 1.0, 1.0, 1.0, 1.0, 0.5)]
        sign = 1.0 if challenge is Challenge.TURN_LEFT else -1.0
        return [Pose(turn=sign * a) for a in (0.4, 0.8, 1.0, 1.0, 1.0, 1.0, 0.6, 0.3)]

    @staticmethod
    def script(
        challenges: Sequence[Challenge],
        *,
        lead_in_s: float = 0.5,
        reaction_s: float = 0.3,
        tail_s: float = 1.0,
    ) -> list[Pose]:
        """Sit still until the first instruction, then for each challenge: react, act."""
        rest = Pose()
        poses = [rest] * round(lead_in_s * FPS)
        for challenge in challenges:
            poses += [rest] * round(reaction_s * FPS)
            poses += Actor.action_poses(challenge)
        return poses + [rest] * round(tail_s * FPS)

    def render(self, pose: Pose, index: int) -> Image:
        """One frame; every frame gets its own sensor noise (a camera never repeats)."""
        return sensor_noise(self.pose(eyes=pose.eyes, mouth=pose.mouth, turn=pose.turn), index)

    def perform(
        self,
        challenges: Sequence[Challenge],
        *,
        lead_in_s: float = 0.5,
        reaction_s: float = 0.3,
        tail_s: float = 1.0,
        seed: int = 0,
    ) -> list[Image]:
        script = self.script(challenges, lead_in_s=lead_in_s, reaction_s=reaction_s,
                             tail_s=tail_s)
        return [self.render(pose, index + seed) for index, pose in enumerate(script)]


class ScriptedSource:
    """A FrameSource that renders an actor's script frame by frame, like a camera: no
    sequence is held in memory (the benchmark measures the check's own memory)."""

    def __init__(self, actor: Actor, script: Sequence[Pose], *, fps: float = FPS) -> None:
        self._actor = actor
        self._script = script
        self._fps = fps
        self._index = 0

    @property
    def description(self) -> str:
        return f"scripted actor ({len(self._script)} frames)"

    def open(self) -> None:
        self._index = 0

    def read(self) -> Frame | None:
        if self._index >= len(self._script):
            return None
        index = self._index
        self._index += 1
        image = self._actor.render(self._script[index], index)
        return Frame(image=image, t_ms=round(index * 1000 / self._fps))

    def close(self) -> None:
        pass


def predicted_challenges(
    seed: int, *, min_count: int = 2, max_count: int = 3
) -> tuple[Challenge, ...]:
    """The sequence a check seeded with *seed* will draw (its first use of the RNG)."""
    from client.camera.liveness import draw_challenges

    return draw_challenges(random.Random(seed), min_count=min_count, max_count=max_count)
