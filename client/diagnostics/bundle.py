"""Build the diagnostics zip from plain inputs.

The caller names what goes in (log files, crash logs, the render state directory, the
configuration as a dict, callables for the integrity snapshot, the network test and the
GPU strings); nothing is collected behind its back. Three guards keep secrets out:
configuration values with secret-looking names are removed (scrub.scrub_config), every
text file is scrubbed (scrub.scrub_text), and files of the kinds that hold answers,
photos or keys are refused whatever the caller passes (REFUSED_SUFFIXES).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client import __version__
from client.diagnostics.scrub import scrub_config, scrub_text
from client.render import sentinel

log = logging.getLogger(__name__)

# Answer stores, camera images, keys, packages: never in a diagnostics zip.
REFUSED_SUFFIXES = frozenset({
    ".db", ".sqlite", ".sqlite3", ".db-wal", ".db-shm", ".wal", ".jpg", ".jpeg", ".png",
    ".bmp", ".webp", ".gif", ".tif", ".tiff", ".npy", ".key", ".pem", ".p12", ".pfx", ".der",
    ".crt", ".exampkg", ".examans", ".zip",
})
MAX_TEXT_FILE_BYTES = 5 * 1024 * 1024

Provider = Callable[[], Any]


@dataclass
class DiagnosticsInputs:
    log_files: Iterable[Path] = ()
    crash_logs: Iterable[Path] = ()
    render_state_dir: Path | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    integrity_snapshot: Provider | None = None
    network_test: Provider | None = None
    gpu_info: Provider | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


# The wheels that install the cv2 package: the shipped build carries the main headless one,
# development the contrib ones (pyproject.toml's "build" extra says why).
OPENCV_DISTRIBUTIONS = ("opencv-python-headless", "opencv-contrib-python-headless",
                        "opencv-contrib-python", "opencv-python")


def opencv_version() -> str | None:
    """'4.14.0.94 (opencv-python-headless)': the version and every OpenCV wheel installed
    (without importing cv2); None when no OpenCV wheel's metadata is there."""
    import importlib.metadata

    found: dict[str, str] = {}
    for dist in OPENCV_DISTRIBUTIONS:
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    if not found:
        return None
    versions = sorted(set(found.values()))
    return f"{' / '.join(versions)} ({', '.join(found)})"


def system_facts() -> dict[str, Any]:
    """Versions and OS facts, without importing Qt (package metadata only)."""
    import importlib.metadata

    versions: dict[str, str | None] = {"exam-client": __version__, "python": sys.version}
    # The frozen build carries these packages' metadata (build.spec, copy_metadata).
    for dist in ("PySide6-Essentials", "shiboken6", "sqlcipher3", "cryptography", "requests",
                 "mediapipe", "numpy", "psutil", "pillow"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    versions["opencv"] = opencv_version()
    facts: dict[str, Any] = {
        "versions": versions,
        "frozen": bool(getattr(sys, "frozen", False)),
        "os": {"platform": platform.platform(), "system": platform.system(),
               "release": platform.release(), "version": platform.version(),
               "machine": platform.machine()},
        "cpu_count": os.cpu_count(),
        "time": {"local": time.strftime("%Y-%m-%d %H:%M:%S %z"), "epoch": time.time(),
                 "timezone": list(time.tzname)},
    }
    try:
        import psutil

        memory = psutil.virtual_memory()
        facts["memory"] = {"total": memory.total, "available": memory.available}
        facts["boot_time"] = psutil.boot_time()
    except Exception as exc:  # diagnostics must be written even if a probe fails
        facts["memory_error"] = str(exc)
    return facts


def _refused(path: Path) -> bool:
    suffixes = {s.lower() for s in path.suffixes}
    return bool(suffixes & REFUSED_SUFFIXES) or path.suffix.lower() in REFUSED_SUFFIXES


def _call(provider: Provider | None, name: str, errors: dict[str, str]) -> Any:
    if provider is None:
        return None
    try:
        return provider()
    except Exception as exc:  # one failing probe must not cost support the rest
        log.exception("diagnostics: %s failed", name)
        errors[name] = f"{type(exc).__name__}: {exc}"
        return None


def build_diagnostics_zip(*, out: Path, inputs: DiagnosticsInputs) -> Path:
    """Write the zip to *out*; a directory (or a path not ending in .zip) gets a timestamped
    file name inside it. Returns the zip's path."""
    if out.is_dir() or out.suffix.lower() != ".zip":
        out.mkdir(parents=True, exist_ok=True)
        out = out / f"exam-client-diagnostics-{time.strftime('%Y%m%d-%H%M%S')}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    errors: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    refused: list[str] = []
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add_json(name: str, value: Any) -> None:
            archive.writestr(name, json.dumps(value, ensure_ascii=False, indent=2, default=str))
            entries.append({"name": name})

        def add_text_file(folder: str, path: Path) -> None:
            if _refused(path):
                refused.append(path.name)
                return
            try:
                data = path.read_bytes()[-MAX_TEXT_FILE_BYTES:]
            except OSError as exc:
                errors[f"{folder}/{path.name}"] = str(exc)
                return
            name = f"{folder}/{path.name}"
            archive.writestr(name, scrub_text(data.decode("utf-8", errors="replace")))
            entries.append({"name": name, "source": str(path)})

        add_json("system.json", system_facts())
        for path in inputs.log_files:
            add_text_file("logs", Path(path))
        for path in inputs.crash_logs:
            add_text_file("crash", Path(path))
        if inputs.render_state_dir is not None:
            state_dir = inputs.render_state_dir
            for name in (sentinel.HISTORY_FILE, sentinel.REMEMBERED_FILE, sentinel.SENTINEL_FILE):
                if (state_dir / name).is_file():
                    add_text_file("render", state_dir / name)
            remembered = sentinel.read_remembered(state_dir)
            add_json("render/level.json", {
                "remembered_level": None if remembered is None else int(remembered.level),
                "name": None if remembered is None else remembered.level.label,
                "reason": None if remembered is None else remembered.reason,
                "configured": inputs.config.get("OpenGL/Level", "auto"),
            })
        add_json("config.json", scrub_config(inputs.config))
        for name, provider in (("integrity", inputs.integrity_snapshot),
                               ("network", inputs.network_test), ("gpu", inputs.gpu_info)):
            value = _call(provider, name, errors)
            if value is not None:
                add_json(f"{name}.json", _scrub_any(value))
        if inputs.extra:
            add_json("extra.json", _scrub_any(dict(inputs.extra)))
        add_json("manifest.json", {
            "created": time.strftime("%Y-%m-%d %H:%M:%S %z"), "client_version": __version__,
            "entries": entries, "refused_files": refused, "errors": errors,
            "policy": "no answers, no photos, no keys; configuration and logs scrubbed",
        })
    os.replace(tmp, out)
    log.info("diagnostics written to %s (%d entries)", out, len(entries))
    return out


def _scrub_any(value: Any) -> Any:
    if isinstance(value, Mapping):
        return scrub_config(value)
    if isinstance(value, list | tuple):
        return [_scrub_any(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def run_diagnostics(
    *,
    out: Path,
    log_dir: Path,
    crash_dir: Path,
    render_state_dir: Path,
    config: Mapping[str, Any],
    integrity_snapshot: Provider | None = None,
    network_test: Provider | None = None,
    gpu_info: Provider | None = None,
) -> Path:
    """What ``exam-client diagnostics`` and the proctor button run."""
    from client.startup import early  # the crash-log layout lives there

    inputs = DiagnosticsInputs(
        log_files=early.log_files(log_dir) if log_dir.is_dir() else [],
        crash_logs=early.all_crash_logs(crash_dir),
        render_state_dir=render_state_dir,
        config=config,
        integrity_snapshot=integrity_snapshot,
        network_test=network_test,
        gpu_info=gpu_info,
    )
    return build_diagnostics_zip(out=out, inputs=inputs)
