"""One set of models per process, loaded once, reused by every check and by proctoring.

Building the models costs ~1 s and, with SFace's ONNX import, a transient of ~125 MB;
building them again for every retry pushed the client to 548-598 MB after 6 retries
(issue 16). The analyzer is not thread-safe, so users take turns: ``lease()`` holds a
lock for as long as the caller uses it (an identity check, one proctoring analysis).
The two never run at the same time in practice: proctoring starts after the check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from client.camera.settings import DEFAULT_SETTINGS, CameraSettings

if TYPE_CHECKING:
    from client.camera.analyzer import FaceAnalyzer

_lock = threading.Lock()
_analyzer: FaceAnalyzer | None = None
builds = 0   # how many times the models were built in this process (tests, benchmark)


@contextmanager
def lease(settings: CameraSettings = DEFAULT_SETTINGS) -> Iterator[FaceAnalyzer]:
    """The process's analyzer, built on first use (with *settings*' detection options)."""
    global _analyzer, builds
    with _lock:
        if _analyzer is None:
            from client.camera.analyzer import FaceAnalyzer

            _analyzer = FaceAnalyzer(settings=settings)
            builds += 1
        _analyzer.reset_motion()
        yield _analyzer


def release() -> None:
    """Free the models (the client is quitting, or a test wants a cold start)."""
    global _analyzer
    with _lock:
        if _analyzer is not None:
            _analyzer.close()
            _analyzer = None
