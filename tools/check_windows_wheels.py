"""Check that every runtime dependency has a Windows x64 wheel (Python 3.11 and 3.12).

The release is built on Windows for lab PCs; a dependency without a ``win_amd64`` (or
pure-Python) wheel for the build's Python would need a compiler there, or fail. CI runs on
Linux, so this asks pip for the Windows wheels explicitly, one requirement at a time:

    pip download --only-binary=:all: --platform win_amd64 --python-version 3.11 --no-deps REQ

starting from [project.dependencies] in pyproject.toml and following each wheel's own
Requires-Dist, with environment markers evaluated for Windows (pip would evaluate
``sys_platform`` markers for the Linux machine it runs on, and miss e.g. keyring's
pywin32-ctypes). Prints a table; exits 1 if any wheel is missing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PYTHONS = ("3.11", "3.12")


@dataclass(frozen=True)
class Row:
    python: str
    requirement: str
    required_by: str
    wheel: str | None   # file name, None when pip found no usable wheel
    error: str = ""


def project_dependencies(pyproject: Path) -> list[str]:
    with pyproject.open("rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def windows_environment(python: str) -> dict[str, str]:
    """Marker variables of CPython *python* on 64-bit Windows."""
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "nt",
        "platform_machine": "AMD64",
        "platform_python_implementation": "CPython",
        "platform_release": "10",
        "platform_system": "Windows",
        "platform_version": "10.0.19045",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": "win32",
    }


def applies(requirement: Requirement, *, python: str, extras: Sequence[str]) -> bool:
    if requirement.marker is None:
        return True
    environment = windows_environment(python)
    return any(requirement.marker.evaluate({**environment, "extra": extra})
               for extra in ("", *extras))


def download(requirement: Requirement, *, python: str, dest: Path) -> tuple[Path | None, str]:
    """Ask pip for the Windows wheel of one requirement; (wheel path, "") or (None, error)."""
    before = set(dest.iterdir())
    spec = str(requirement).split(";")[0].strip()  # the marker was evaluated already
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--platform", "win_amd64", "--python-version", python,
               "--implementation", "cp", "--no-deps", "--dest", str(dest), spec]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        return None, (lines[0] if lines else result.stderr.strip()[-300:])
    new = sorted(set(dest.iterdir()) - before)
    wheels = [p for p in new if p.suffix == ".whl"]
    if wheels:
        return wheels[0], ""
    # Already downloaded for an earlier requirement: pip reports it but adds no file.
    name = canonicalize_name(requirement.name)
    for candidate in sorted(dest.glob("*.whl")):
        if canonicalize_name(candidate.name.split("-")[0]) == name:
            return candidate, ""
    return None, "pip succeeded but left no wheel"


def wheel_requirements(wheel: Path) -> list[Requirement]:
    """The Requires-Dist entries of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        metadata_name = next(n for n in archive.namelist()
                             if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        metadata = HeaderParser().parsestr(archive.read(metadata_name).decode("utf-8"))
    return [Requirement(value) for value in metadata.get_all("Requires-Dist") or []]


def check_python(python: str, roots: Sequence[str], *, dest: Path) -> list[Row]:
    rows: list[Row] = []
    seen: set[str] = set()
    queue: deque[tuple[Requirement, str]] = deque(
        (Requirement(text), "pyproject.toml") for text in roots)
    while queue:
        requirement, parent = queue.popleft()
        name = canonicalize_name(requirement.name)
        if name in seen or not applies(requirement, python=python, extras=()):
            continue
        seen.add(name)
        wheel, error = download(requirement, python=python, dest=dest)
        rows.append(Row(python, str(requirement), parent, wheel.name if wheel else None, error))
        if wheel is None:
            continue
        for child in wheel_requirements(wheel):
            if applies(child, python=python, extras=sorted(requirement.extras)):
                queue.append((child, requirement.name))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    header = ("python", "requirement", "required by", "Windows x64 wheel")
    table = [header] + [(r.python, r.requirement, r.required_by,
                         r.wheel or f"MISSING: {r.error}") for r in rows]
    widths = [max(len(line[i]) for line in table[:]) if i < 3 else 0 for i in range(4)]
    out = []
    for line in table:
        out.append("  ".join(cell.ljust(widths[i]) if i < 3 else cell
                             for i, cell in enumerate(line)).rstrip())
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", dest="pythons",
                        help="target Python version (repeatable; default 3.11 and 3.12)")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    args = parser.parse_args(argv)
    roots = project_dependencies(args.pyproject)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="win-wheels-") as scratch:
        for python in args.pythons or DEFAULT_PYTHONS:
            dest = Path(scratch) / python
            dest.mkdir()
            rows += check_python(python, roots, dest=dest)
    print(format_table(rows))
    missing = [r for r in rows if r.wheel is None]
    if missing:
        print(f"\n{len(missing)} requirement(s) without a Windows x64 wheel:", file=sys.stderr)
        for row in missing:
            print(f"  Python {row.python}: {row.requirement} (from {row.required_by})",
                  file=sys.stderr)
        return 1
    print(f"\nall {len(rows)} requirement(s) have Windows x64 wheels")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
