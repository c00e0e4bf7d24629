"""pytest plugin: write the modules a test run imported to $EXAM_RECORD_MODULES (JSON list).

    EXAM_RECORD_MODULES=build/e2e-modules.json PYTHONPATH=tools \\
        python -m pytest -p record_modules tests/ui/test_end_to_end.py

tools/build_frozen.py --required-modules then imports each of them inside the frozen
bundle: a module the source tree's end-to-end exam needs but PyInstaller left out (one
imported by name, an excluded Qt module) fails the build, not a candidate's exam.
Recorded: what was imported after pytest and its plugins had loaded, plus every client and
server module; left out: the tests and the test tools themselves.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

# Test code and test tools, never part of the program.
TEST_ROOTS = frozenset({
    "tests", "conftest", "ui_support", "record_modules", "_pytest", "pytest", "pluggy",
    "pytestqt", "pytest_timeout", "hypothesis", "_hypothesis_pytestplugin",
    "_hypothesis_globals", "iniconfig", "py", "sortedcontainers", "attr", "attrs",
    "exceptiongroup", "skimage", "playwright", "keyrings",
})
# PySide6.QtTest is left out of the bundle on purpose (build.spec); client.ui.input_simulation
# types into widgets for the end-to-end tests and the screenshot script, never for the
# client itself.
TEST_MODULES = frozenset({"PySide6.QtTest", "client.ui.input_simulation", "__main__",
                          "__mp_main__"})
PROGRAM_ROOTS = frozenset({"client", "server"})
# Optional speed-ups of the reference server (pyproject's postgres/dev extras): uvicorn
# uses them when they are installed and its pure-Python parser and asyncio loop when they
# are not, which is what the bundle's embedded demo server does (the build lock has
# neither: uvloop has no Windows build). Cython's shared-utility modules (_cython_3_x) are
# made at run time by compiled extensions and can never be imported by name.
OPTIONAL_ROOTS = frozenset({"uvloop", "httptools"})
OPTIONAL_MODULES = frozenset({"uvicorn.protocols.http.httptools_impl", "uvicorn.loops.uvloop"})

TESTS = Path(__file__).resolve().parent.parent / "tests"

_baseline: set[str] = set()


def is_test_code(module: object) -> bool:
    """Modules loaded from tests/ (helpers imported by plain name, like ui_support)."""
    file = getattr(module, "__file__", None)
    return bool(file) and Path(str(file)).resolve().is_relative_to(TESTS)


def pytest_sessionstart(session: pytest.Session) -> None:
    _baseline.update(sys.modules)


def recorded_modules(loaded: dict[str, object], baseline: set[str]) -> list[str]:
    names = []
    for name, module in loaded.items():
        root = name.split(".")[0]
        if module is None or name in TEST_MODULES or root in TEST_ROOTS or \
                is_test_code(module):
            continue
        if root.startswith("test_") or root.endswith("_test"):
            continue
        if root in OPTIONAL_ROOTS or name in OPTIONAL_MODULES or root.startswith("_cython_"):
            continue
        if name not in baseline or root in PROGRAM_ROOTS:
            names.append(name)
    return sorted(names)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("EXAM_RECORD_MODULES")
    if not target:
        return
    names = recorded_modules(dict(sys.modules), _baseline)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text(json.dumps(names, indent=1), encoding="utf-8")
    print(f"\nrecord_modules: {len(names)} modules -> {target}")
