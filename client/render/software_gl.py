"""Where level 0's software OpenGL (opengl32sw.dll, Mesa llvmpipe) must be on Windows.

The PySide6 Windows wheel ships it as ``PySide6/opengl32sw.dll`` next to Qt6Gui.dll, where
Qt's dynamic OpenGL loader looks for it; a frozen build must carry it to the same place
(``<bundle>/PySide6/opengl32sw.dll``). Without it Qt::AA_UseSoftwareOpenGL has nothing
to load and level 0 silently becomes "whatever opengl32.dll does".
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path

DLL_NAME = "opengl32sw.dll"


def candidate_dirs() -> list[Path]:
    """Directories Qt searches for the software OpenGL DLL in this installation."""
    dirs: list[Path] = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        dirs += [Path(frozen_root) / "PySide6", Path(frozen_root)]
    # find_spec locates the package without importing it (no Qt DLL is loaded here).
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        dirs += [Path(p) for p in spec.submodule_search_locations]
    dirs.append(Path(sys.executable).parent)
    return dirs


def find_software_opengl(dirs: Iterable[Path] | None = None) -> Path | None:
    """The DLL Qt would load for level 0 (honours QT_OPENGL_DLL), or None."""
    name = os.environ.get("QT_OPENGL_DLL", DLL_NAME)
    for directory in candidate_dirs() if dirs is None else dirs:
        path = directory / name
        if path.is_file():
            return path
    return None
