"""What the installer tests under wine share: the tools they need (CI must have them),
their marks, and building an installer with makensis."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "installer" / "exam-client.nsi"
TOOLS = ("wine", "makensis", "Xvfb")
MISSING = [tool for tool in TOOLS if shutil.which(tool) is None]
if MISSING and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the installer under wine; missing {MISSING} "
                       "(scripts/setup.sh installs them)")
WINE_MARKS = [pytest.mark.slow, pytest.mark.skipif(bool(MISSING), reason=f"missing {MISSING}")]


def nsis(source: Path | str, out: Path, *defines: str) -> None:
    """Build *source* into *out* (makensis runs beside the product script's includes)."""
    result = subprocess.run(["makensis", "-V2", *defines, f"-DOUTFILE={out}", str(source)],
                            cwd=SCRIPT.parent, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
