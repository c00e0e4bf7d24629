"""Where the shipped read-only files (resources/) are, in a source tree and in a frozen build."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """Return the resources/ directory.

    PyInstaller unpacks data files below ``sys._MEIPASS``; in a source checkout (or an
    editable install) resources/ sits beside the client package.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Return the path of one shipped file, e.g. ``resource_path("models", "x.onnx")``."""
    return resources_dir().joinpath(*parts)
