"""Gather everything ``exam-client diagnostics`` puts in the zip, from the settings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from client.config import Settings


def _integrity_snapshot() -> Any:
    # Imported here: a broken detector must not stop the rest of the bundle.
    from client.integrity.collector import platform_collector
    from client.integrity.rules import builtin_rules

    return platform_collector(rules=builtin_rules()).snapshot().to_json()


def collect_diagnostics(settings: Settings, *, out: Path | None) -> Path:
    from client.diagnostics.bundle import run_diagnostics
    from client.diagnostics.gpu import gpu_info_in_subprocess
    from client.diagnostics.network import run_network_checks

    data_dir = settings.data_dir
    target = out if out is not None else (
        data_dir / "diagnostics" / time.strftime("diagnostics-%Y%m%d-%H%M%S.zip"))
    target.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, object] = {name: (str(value) if value is not None else None)
                                 for name, value in settings.values.items()}
    config["_files"] = [str(path) for path in settings.files]
    config["_problems"] = [problem.message() for problem in settings.problems]
    ca_file = settings.get("server/ca_file")
    return run_diagnostics(
        out=target, log_dir=data_dir / "logs", crash_dir=data_dir / "crash",
        render_state_dir=data_dir / "render", config=config,
        integrity_snapshot=_integrity_snapshot,
        network_test=lambda: run_network_checks(
            server_url=settings.get("server/url"),
            cafile=str(ca_file) if ca_file is not None else None),
        gpu_info=gpu_info_in_subprocess)
