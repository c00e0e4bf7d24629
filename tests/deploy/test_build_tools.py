"""The pure parts of tools/build_frozen.py and tools/check_windows_wheels.py."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import build_frozen  # noqa: E402
import check_windows_wheels as wheels  # noqa: E402
from packaging.requirements import Requirement  # noqa: E402

# What the frozen --self-test printed on stderr in a real run (MediaPipe, Qt offscreen).
OBSERVED_BENIGN = [
    "WARNING: Logging before InitGoogle() is written to STDERR",
    "W0000 00:00:1795314142.343915   21156 face_landmarker_graph.cc:181] Sets "
    "FaceBlendshapesGraph acceleration to xnnpack by default.",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "W0000 00:00:1795314142.361491   21160 inference_feedback_manager.cc:121] Feedback manager "
    "requires a model with a single signature inference. Disabling support for feedback "
    "tensors.",
    "This plugin does not support propagateSizeHints()",
    "2025-11-22 09:00:01,123 INFO client.cli: self-test",
]


def test_known_benign_stderr_passes_and_anything_else_fails() -> None:
    assert build_frozen.unexpected_stderr(OBSERVED_BENIGN) == []
    bad = ["2025-11-22 09:00:01,123 WARNING client.ui.fonts: cannot load shipped font",
           "Traceback (most recent call last):",
           "qt.qpa.plugin: Could not load the Qt platform plugin \"xcb\""]
    assert build_frozen.unexpected_stderr([*OBSERVED_BENIGN, *bad]) == bad
    for _pattern, why in build_frozen.BENIGN_STDERR:
        assert why  # every allowed line says why it is harmless


def test_missing_files_are_reported(tmp_path: Path) -> None:
    bundle = build_frozen.Bundle(tmp_path / "ExamClient")
    (bundle.internal / "resources" / "fonts").mkdir(parents=True)
    (bundle.internal / "resources" / "fonts" / "a.otf").write_bytes(b"OTTO")
    missing = build_frozen.missing_files(bundle, ["resources/fonts/*.otf",
                                                  "resources/models/face_landmarker.task"])
    assert missing == ["resources/models/face_landmarker.task"]
    assert "resources/integrity/rules.json.sig" in build_frozen.required_files()


def test_largest_items(tmp_path: Path) -> None:
    bundle = build_frozen.Bundle(tmp_path / "ExamClient")
    (bundle.internal / "big").mkdir(parents=True)
    (bundle.internal / "big" / "x.bin").write_bytes(b"x" * 5000)
    (bundle.internal / "small.so").write_bytes(b"x" * 10)
    (bundle.folder / "ExamClient").write_bytes(b"x" * 100)
    assert build_frozen.largest_items(bundle) == [
        (5000, "_internal/big"), (100, "ExamClient"), (10, "_internal/small.so")]


@pytest.mark.parametrize(("marker", "python", "applies"), [
    ('pywin32-ctypes>=0.2.0; sys_platform == "win32"', "3.11", True),
    ('uvloop; sys_platform != "win32"', "3.11", False),
    ('importlib_metadata>=4.11.4; python_version < "3.12"', "3.12", False),
    ('importlib_metadata>=4.11.4; python_version < "3.12"', "3.11", True),
    ('colorama; platform_system == "Windows"', "3.12", True),
])
def test_markers_are_evaluated_for_windows(marker: str, python: str, applies: bool) -> None:
    assert wheels.applies(Requirement(marker), python=python, extras=()) is applies


def test_extras_bring_their_requirements() -> None:
    requirement = Requirement('httptools>=0.6; extra == "standard"')
    assert not wheels.applies(requirement, python="3.11", extras=())
    assert wheels.applies(requirement, python="3.11", extras=("standard",))


def test_requirements_are_read_from_a_wheel(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo-1.0.dist-info/METADATA",
                         "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
                         "Requires-Dist: requests>=2\n"
                         'Requires-Dist: pywin32-ctypes; sys_platform == "win32"\n')
    assert [str(r) for r in wheels.wheel_requirements(wheel)] == [
        "requests>=2", 'pywin32-ctypes; sys_platform == "win32"']


def test_project_dependencies_come_from_pyproject() -> None:
    dependencies = wheels.project_dependencies(ROOT / "pyproject.toml")
    assert any(d.startswith("PySide6-Essentials") for d in dependencies)
    table = wheels.format_table([wheels.Row("3.11", "numpy>=2", "pyproject.toml", None,
                                            "ERROR: No matching distribution")])
    assert "MISSING: ERROR: No matching distribution" in table


def test_the_import_check_names_a_module_left_out(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """What build_frozen's --required-modules step runs inside the bundle: a module the
    end-to-end exam needs but the bundle lacks (QtNetwork once) fails it by name."""
    from client.cli import run_import_check

    listed = tmp_path / "modules.json"
    listed.write_text('["json", "client.errors", "no_such_module_in_this_bundle"]')
    assert run_import_check(listed) == 1
    out = capsys.readouterr().out
    assert "MISSING no_such_module_in_this_bundle: ModuleNotFoundError" in out
    assert "imported 2 of 3 modules" in out
    listed.write_text('["json", "client.errors"]')
    assert run_import_check(listed) == 0


def test_recorded_modules_leave_out_tests_and_optional_server_speedups() -> None:
    import record_modules

    loaded = {name: object() for name in (
        "client.cli", "server.app", "PySide6.QtNetwork", "uvicorn.main", "uvloop",
        "uvloop.loop", "httptools", "uvicorn.protocols.http.httptools_impl",
        "_cython_3_3_0", "pytest", "PySide6.QtTest", "json")}
    names = record_modules.recorded_modules(loaded, baseline={"json", "client.cli"})
    # client/server modules always count, even when loaded before the tests started
    assert names == ["PySide6.QtNetwork", "client.cli", "server.app", "uvicorn.main"]


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in executable is a shell script")
def test_the_module_guard_fails_on_what_the_bundle_cannot_import(tmp_path: Path) -> None:
    """tools/build_frozen.py's --required-modules step, end to end: the program's hidden
    --import-check runs as a separate process in the environment the frozen program gets
    (no PYTHONPATH), and every module it cannot import becomes a named build failure
    (shown on a real build without QtNetwork: docs/deploy.md §13)."""
    import json
    import stat

    bundle = build_frozen.Bundle(tmp_path / "ExamClient")
    bundle.folder.mkdir()
    # Stands in for the frozen ExamClient-console: this checkout's program, started the
    # way the bundle starts it (its own module path, not the caller's).
    bundle.console_exe.write_text(
        f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m client "$@"\n',
        encoding="utf-8")
    bundle.console_exe.chmod(bundle.console_exe.stat().st_mode | stat.S_IXUSR)
    modules = tmp_path / "e2e-modules.json"
    modules.write_text(json.dumps(["json", "client.errors", "PySide6.QtNoSuchModule"]))
    assert build_frozen.unimportable_modules(bundle, modules, cwd=tmp_path) == [
        "PySide6.QtNoSuchModule: ModuleNotFoundError: No module named 'PySide6.QtNoSuchModule'"]
    modules.write_text(json.dumps(["json", "client.errors"]))
    assert build_frozen.unimportable_modules(bundle, modules, cwd=tmp_path) == []


def _report_program(tmp_path: Path, name: str, *, statuses: dict[str, str], code: int) -> list[str]:
    """A program that prints a `check --json` report with *statuses* and exits *code*."""
    checks = [{"name": check, "status": status, "message": "", "detail": {}}
              for check, status in statuses.items()]
    script = tmp_path / f"{name}.py"
    script.write_text(
        "import json, sys\n"
        f"print(json.dumps({{'checks': {checks!r}, 'exit_code': {code}}}))\n"
        f"sys.exit({code})\n", encoding="utf-8")
    return [sys.executable, str(script)]


def test_the_frozen_readiness_check_must_judge_the_pc_as_the_source_does(
        tmp_path: Path) -> None:
    import frozen_exam

    same = {"camera": "fail", "server": "pass", "opengl": "warn"}
    source = _report_program(tmp_path, "source", statuses=same, code=2)
    agreeing = _report_program(tmp_path, "frozen_ok", statuses=same, code=2)
    user_ini = tmp_path / "user.ini"
    user_ini.write_text("", encoding="utf-8")
    env = dict(os.environ)
    assert frozen_exam.compare_readiness_checks(
        frozen=agreeing, source=source, user_ini=user_ini, env=env, scratch=tmp_path) == []

    # A check that fails only in the bundle (a model or module left out), one missing.
    broken = _report_program(tmp_path, "frozen_broken",
                             statuses={"camera": "fail", "server": "fail"}, code=3)
    failures = frozen_exam.compare_readiness_checks(
        frozen=broken, source=source, user_ini=user_ini, env=env, scratch=tmp_path)
    assert failures == ["readiness check 'opengl': frozen missing, source tree warn",
                        "readiness check 'server': frozen fail, source tree pass",
                        "readiness check exit code: frozen 3, source tree 2"]

    silent = _report_program(tmp_path, "frozen_silent", statuses={}, code=1)
    silent[-1:] = ["-c", "import sys; sys.exit(1)"]
    assert frozen_exam.compare_readiness_checks(
        frozen=silent, source=source, user_ini=user_ini, env=env,
        scratch=tmp_path)[0].startswith("frozen check --json printed no report (exit 1)")


def test_the_frozen_run_gives_the_server_address_through_the_machine_wide_config(
        tmp_path: Path) -> None:
    """tools/frozen_exam.py's run: a --config file's [server] url is ignored now; the
    machine-wide file the environment points at is read, by the client's own loader in
    a fresh process (what the frozen client does at start)."""
    import subprocess

    import frozen_exam

    user_ini = tmp_path / "run-user.ini"
    frozen_exam.write_user_ini(user_ini, {"server": {"url": "http://127.0.0.1:5"},
                                          "data": {"directory": str(tmp_path / "data")}})
    show = ("import sys; from pathlib import Path; "
            "from client.config import config_search_path, load_settings; "
            "s = load_settings(config_search_path(Path(sys.argv[1]))); "
            "print(s.get('server/url'), s.get('server/center_id'), s.data_dir)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("XDG_CONFIG_DIRS", None)

    def effective(extra: dict[str, str]) -> str:
        return subprocess.run([sys.executable, "-c", show, str(user_ini)],
                              env={**env, **extra}, capture_output=True, text=True,
                              check=True, timeout=60).stdout.split()

    assert effective({})[0] == "https://exam.example.invalid"   # --config: ignored
    machine = frozen_exam.machine_config_env(tmp_path / "machine", {
        "server": {"url": "http://127.0.0.1:5", "center_id": "4401001",
                   "allow_plain_http": "true"}})
    assert effective(machine) == ["http://127.0.0.1:5", "4401001", str(tmp_path / "data")]
