"""FaceLandmarker's Python API, imported without the rest of mediapipe.

WHY: ``import mediapipe`` runs mediapipe/__init__.py, which imports every task package:
audio (sounddevice), text, and vision/__init__.py with drawing_utils, which imports
matplotlib.pyplot at module level (and with it Pillow, fontTools, kiwisolver). In the
client process that is +44 MB of RSS for modules the client never calls, measured
before and after in docs/camera.md ("Memory"); FaceLandmarker itself needs its own
module, the base options, the image type and the running mode (+3 MB).

How: the four package levels above face_landmarker.py are registered in ``sys.modules``
as package modules whose __init__ is NOT run; their submodules then import normally and
the siblings the __init__ files would import are never loaded. They stay registered for
the life of the process: FaceLandmarker loads its native library later through the
package ``mediapipe.tasks.c``, and a package re-run over submodules imported this way
would miss their attributes. So in the client process ``import mediapipe`` gives the
bare package: nothing else in the client imports mediapipe (use this module), and a
stray ``mediapipe.Image`` fails loudly with AttributeError. If mediapipe is already
imported, nothing is skipped. The packages are found through ``importlib.util.find_spec``,
so this also works with PyInstaller's frozen importer; a mediapipe release that moves
them fails here with ImportError, in the tests and in the frozen ``--self-test``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from dataclasses import dataclass
from typing import Any

_PACKAGES = ("mediapipe", "mediapipe.tasks", "mediapipe.tasks.python",
             "mediapipe.tasks.python.vision")


@dataclass(frozen=True)
class LandmarkerApi:
    """The few mediapipe names the analyzer uses."""

    face_landmarker: Any         # FaceLandmarker, FaceLandmarkerOptions
    base_options: Any            # BaseOptions
    running_mode: Any            # VisionTaskRunningMode
    image: Any                   # Image, ImageFormat


_lock = threading.Lock()
_api: LandmarkerApi | None = None


def landmarker_api() -> LandmarkerApi:
    """Import (once) and return FaceLandmarker's modules."""
    global _api
    with _lock:
        if _api is None:
            _api = _import()
        return _api


def _import() -> LandmarkerApi:
    if "mediapipe" not in sys.modules:
        for name in _PACKAGES:
            spec = importlib.util.find_spec(name)
            if spec is None:
                raise ImportError(f"{name} is not installed", name=name)
            sys.modules[name] = importlib.util.module_from_spec(spec)   # __init__ not run
    # Plain import statements (not import_module): PyInstaller's analysis follows them.
    from mediapipe.tasks.python.core import base_options
    from mediapipe.tasks.python.vision import face_landmarker
    from mediapipe.tasks.python.vision.core import image, vision_task_running_mode

    return LandmarkerApi(face_landmarker=face_landmarker, base_options=base_options,
                         running_mode=vision_task_running_mode, image=image)
