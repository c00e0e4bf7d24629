"""GPU/OpenGL strings for diagnostics, read in a child process.

Creating an OpenGL context is exactly what crashes on the PCs support asks about, so the
probe (client/ui/render_guard.py, run as a module) runs in its own process: a crash there
is itself a finding and costs the diagnostics nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

PROBE_MODULE = "client.ui.render_guard"


def probe_command() -> list[str]:
    if getattr(sys, "frozen", False):
        # The frozen executable has no -m; the CLI maps this sub-command to the probe.
        return [sys.executable, "gpu-probe"]
    return [sys.executable, "-m", PROBE_MODULE]


def gpu_info_in_subprocess(
    *, timeout_s: float = 20.0, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    try:
        done = subprocess.run(probe_command(), capture_output=True, text=True, timeout=timeout_s,
                              env=dict(environ) if environ is not None else None, check=False)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"GPU probe hung for {timeout_s:.0f} s"}
    except OSError as exc:
        return {"ok": False, "error": str(exc)}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = {"returncode": done.returncode, "stderr": done.stderr[-4000:]}
    if lines:
        try:
            result.update(json.loads(lines[-1]))
        except ValueError:
            result["stdout"] = done.stdout[-4000:]
    result.setdefault("ok", done.returncode == 0)
    return result
