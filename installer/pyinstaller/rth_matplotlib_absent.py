"""PyInstaller runtime hook: matplotlib is left out of the frozen build.

WORKAROUND: mediapipe.tasks.python.vision imports drawing_utils, which runs
``import matplotlib.pyplot`` at module level although only its plotting helpers (never
called by the client) use it. Bundling matplotlib costs ~35 MB with Pillow, fontTools and
kiwisolver, and importing pyplot builds a font cache in the user profile: seconds on a
lab PC at the first start, and again after every reboot where restore software resets
C:. This hook registers ``matplotlib`` and ``matplotlib.pyplot`` as modules whose every
attribute raises, so the import succeeds and any real use fails loudly. The frozen
``--self-test`` loads mediapipe for real, so a mediapipe release that starts using
matplotlib at import time fails the build, not an exam.
"""

import sys
import types


class _AbsentModule(types.ModuleType):
    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ModuleNotFoundError(
            f"matplotlib is not part of the Exam Client build ({self.__name__}.{name})",
            name="matplotlib")


def _install() -> None:
    if "matplotlib" in sys.modules:
        return
    package = _AbsentModule("matplotlib")
    package.__path__ = []  # a package, so ``import matplotlib.pyplot`` resolves
    pyplot = _AbsentModule("matplotlib.pyplot")
    package.pyplot = pyplot  # type: ignore[attr-defined]
    sys.modules["matplotlib"] = package
    sys.modules["matplotlib.pyplot"] = pyplot


_install()
