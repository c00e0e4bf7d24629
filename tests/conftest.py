"""Suite-wide test setup.

EXAM_BLOCK_QT=1 makes PySide6 unimportable, to prove the client core runs without Qt
(the import-linter contract checks the imports statically; this checks them for real).
"""

from __future__ import annotations

import importlib.abc
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Helpers shared by several test folders (TLS test server, admin web login).
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))


class _BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname.split(".")[0] in ("PySide6", "shiboken6"):
            raise ImportError(f"{fullname} is blocked: this run proves the core needs no Qt")
        return None


if os.environ.get("EXAM_BLOCK_QT") == "1":
    sys.meta_path.insert(0, _BlockQt())
