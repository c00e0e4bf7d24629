"""Camera fixtures: the real models, loaded once per test session, and real photos."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from attacks import Face
from camera_sequences import Actor, astronaut_frame, astronaut_portrait, encode

from client.camera.analyzer import FaceAnalyzer


@pytest.fixture(scope="session")
def analyzer() -> Iterator[FaceAnalyzer]:
    """VIDEO-mode analyzer, as the identity check uses it (one thread at a time)."""
    with FaceAnalyzer() as instance:
        yield instance


@pytest.fixture(scope="session")
def image_analyzer() -> Iterator[FaceAnalyzer]:
    """IMAGE-mode analyzer: every frame judged on its own (stills, base photos)."""
    with FaceAnalyzer(video_mode=False) as instance:
        yield instance


@pytest.fixture(scope="session")
def frame() -> np.ndarray:
    return astronaut_frame()


@pytest.fixture(scope="session")
def actor(image_analyzer: FaceAnalyzer, frame: np.ndarray) -> Actor:
    points = image_analyzer.landmarks(frame, t_ms=0)
    assert points is not None, "the landmarker must find the astronaut"
    return Actor(frame=frame, points=points)


@pytest.fixture(scope="session")
def base_photo() -> bytes:
    """The astronaut's whole portrait as the platform's base photo (JPEG)."""
    return encode(astronaut_portrait())


@pytest.fixture(scope="session")
def face(actor: Actor) -> Face:
    """The astronaut as a 3D head (turns rendered from her landmarks' depth)."""
    return Face(actor.frame, actor.points)
