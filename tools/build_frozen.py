"""Build the frozen client with build.spec and prove it runs: ``python tools/build_frozen.py``.

Steps (CI runs this on Linux; the Windows release build runs the same script):
1. A build environment made from installer/build.lock (exact versions, every wheel checked
   against its sha256; ``pip install --require-hashes --no-deps``) in build/frozen-venv,
   remade when the lock changes. ``--current-env`` builds with the running interpreter
   instead (quicker while iterating, not for a release).
2. PyInstaller with build.spec into dist/ExamClient/.
3. Check the bundle carries what the client loads by path (models, fonts, rules,
   translations, the MediaPipe library, the Qt platform plugins, on Windows opengl32sw.dll).
4. ``--required-modules FILE`` (the modules the source tree's end-to-end exam imported,
   recorded by tools/record_modules.py): every one must import inside the bundle.
5. Run the frozen ``ExamClient-console --self-test`` headless (QT_QPA_PLATFORM=offscreen):
   it must exit 0 and write nothing to stderr except the known-benign lines below.
6. Print the bundle size per component, its 15 largest items and the frozen start time;
   ``--max-mb`` fails a bundle above the size budget.

Exit status 0 when every step passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINDOWS = sys.platform == "win32"
EXE_SUFFIX = ".exe" if WINDOWS else ""
SELF_TEST_TIMEOUT_S = 300
LOCK_FILE = ROOT / "installer" / "build.lock"
BUILD_VENV = ROOT / "build" / "frozen-venv"

# stderr lines the frozen self-test may print. Everything else fails the build.
BENIGN_STDERR: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^WARNING: Logging before InitGoogle\(\) is written to STDERR$"),
     "MediaPipe's C++ logging (absl) announces itself once before its first message"),
    (re.compile(r"^[IW]\d{4} [\d:. ]+\d+ face_landmarker_graph\.cc:\d+\] Sets "
                r"FaceBlendshapesGraph acceleration to xnnpack by default\.$"),
     "MediaPipe reports its CPU backend when the face landmarker is built"),
    (re.compile(r"^INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.$"),
     "TensorFlow Lite inside MediaPipe reports its CPU delegate"),
    (re.compile(r"^[IW]\d{4} [\d:. ]+\d+ inference_feedback_manager\.cc:\d+\] Feedback "
                r"manager requires a model with a single signature inference\. Disabling "
                r"support for feedback tensors\.$"),
     "MediaPipe notes that the landmarker model has no feedback tensors (it needs none)"),
    (re.compile(r"^This plugin does not support propagateSizeHints\(\)$"),
     "Qt's offscreen platform plugin (CI only) cannot forward window size hints"),
    (re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?:DEBUG|INFO) "),
     "progress lines of the client's own log format (client/cli.py); warnings still fail"),
)


@dataclass(frozen=True)
class Bundle:
    folder: Path

    @property
    def console_exe(self) -> Path:
        return self.folder / f"ExamClient-console{EXE_SUFFIX}"

    @property
    def gui_exe(self) -> Path:
        return self.folder / f"ExamClient{EXE_SUFFIX}"

    @property
    def internal(self) -> Path:
        return self.folder / "_internal"


def required_files() -> list[str]:
    """Paths (relative to _internal, glob patterns) the client opens by name at run time."""
    required = [
        "resources/models/face_detection_yunet_2023mar_int8bq.onnx",
        "resources/models/face_recognition_sface_2021dec_int8bq.onnx",
        "resources/models/face_landmarker.task",
        "resources/fonts/*.otf",
        "resources/i18n/en/*.json",
        "resources/integrity/rules.json",
        "resources/integrity/rules.json.sig",
        "resources/demo/paper/paper.json",
    ]
    if WINDOWS:
        required += [
            "mediapipe/tasks/c/libmediapipe.dll",
            "PySide6/opengl32sw.dll",
            "PySide6/plugins/platforms/qwindows.dll",
            "PySide6/plugins/platforms/qoffscreen.dll",
        ]
    else:
        required += [
            "mediapipe/tasks/c/libmediapipe.so",
            "PySide6/Qt/plugins/platforms/libqxcb.so",
            "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        ]
    return required


def missing_files(bundle: Bundle, patterns: Iterable[str]) -> list[str]:
    return [p for p in patterns if not any(bundle.internal.glob(p))]


def unexpected_stderr(lines: Iterable[str]) -> list[str]:
    return [line for line in lines
            if line.strip() and not any(p.match(line) for p, _why in BENIGN_STDERR)]


def tree_size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() or f.is_symlink())


# Where the bytes of a bundle go: first matching pattern (path relative to the bundle,
# "/" separators) names the component.
COMPONENTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("executables", re.compile(r"^ExamClient[^/]*$")),
    ("Qt (PySide6, shiboken6)", re.compile(r"^_internal/(?:PySide6|shiboken6)/")),
    ("Qt libraries (top level)", re.compile(r"^_internal/libQt6|^_internal/Qt6")),
    ("OpenCV (cv2)", re.compile(r"^_internal/(?:cv2|opencv[^/]*)/")),
    ("MediaPipe", re.compile(r"^_internal/mediapipe/")),
    ("NumPy", re.compile(r"^_internal/numpy(?:\.libs)?/")),
    ("models (resources/models)", re.compile(r"^_internal/resources/models/")),
    ("fonts (resources/fonts)", re.compile(r"^_internal/resources/fonts/")),
    ("other resources", re.compile(r"^_internal/resources/")),
    ("cryptography, SQLCipher", re.compile(r"^_internal/(?:cryptography|sqlcipher3)[^/]*/")),
    ("Pillow", re.compile(r"^_internal/(?:PIL|pillow\.libs)/")),
    ("Python modules (PYZ)", re.compile(r"^_internal/base_library\.zip$|\.pyz$")),
    ("Python runtime and extensions", re.compile(r"^_internal/(?:libpython|python3|"
                                                  r"lib-dynload/)")),
)


def component_of(relative: str) -> str:
    for name, pattern in COMPONENTS:
        if pattern.search(relative):
            return name
    return "other libraries"


def component_sizes(bundle: Bundle) -> list[tuple[int, str]]:
    """Bytes per component (COMPONENTS), largest first."""
    sizes: dict[str, int] = {}
    for path in bundle.folder.rglob("*"):
        if path.is_file() or path.is_symlink():
            relative = path.relative_to(bundle.folder).as_posix()
            name = component_of(relative)
            sizes[name] = sizes.get(name, 0) + path.lstat().st_size
    return sorted(((size, name) for name, size in sizes.items()), reverse=True)


def largest_items(bundle: Bundle, *, count: int = 15) -> list[tuple[int, str]]:
    """The biggest entries: the executables and each top-level item of _internal."""
    items = [(tree_size(p), p.name) for p in bundle.folder.iterdir() if p.is_file()]
    items += [(tree_size(p), f"_internal/{p.name}") for p in bundle.internal.iterdir()]
    return sorted(items, reverse=True)[:count]


def lock_digest(lock: Path) -> str:
    return hashlib.sha256(lock.read_bytes()).hexdigest()[:16]


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if WINDOWS else "bin/python")


def ensure_build_venv(*, lock: Path = LOCK_FILE, venv: Path = BUILD_VENV) -> Path:
    """A virtual environment with exactly the locked, hash-checked packages; its python.

    --no-deps: the lock is complete (uv resolved it) and overrides mediapipe's
    opencv-contrib-python with the headless wheel, which pip's resolver would undo.
    """
    stamp = venv / f".lock-{lock_digest(lock)}"
    if stamp.is_file():
        return venv_python(venv)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv_python(venv)
    command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
               "--require-hashes", "--no-deps", "--only-binary", ":all:", "-r", str(lock)]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)
    stamp.write_text(lock.name, encoding="utf-8")
    return python


def run_pyinstaller(*, python: Path, dist: Path, work: Path) -> None:
    command = [str(python), "-m", "PyInstaller", "--noconfirm", "--clean",
               "--distpath", str(dist), "--workpath", str(work), str(ROOT / "build.spec")]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def frozen_env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # The frozen program must find everything in its bundle, not in this checkout.
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    return env


def run_frozen(exe: Path, args: Sequence[str], *,
               cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    result = subprocess.run([str(exe), *args], cwd=cwd, env=frozen_env(), capture_output=True,
                            text=True, encoding="utf-8", errors="replace",
                            timeout=SELF_TEST_TIMEOUT_S, check=False)
    return result, time.perf_counter() - started


def unimportable_modules(bundle: Bundle, modules_file: Path, *, cwd: Path) -> list[str]:
    """Modules of *modules_file* that the frozen program cannot import (or its error)."""
    result, _seconds = run_frozen(bundle.console_exe, ["--import-check", str(modules_file)],
                                  cwd=cwd)
    failed = [line.removeprefix("MISSING ") for line in result.stdout.splitlines()
              if line.startswith("MISSING ")]
    if result.returncode != 0 and not failed:
        failed.append(f"--import-check exited {result.returncode}: {result.stderr[-2000:]}")
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    parser.add_argument("--skip-build", action="store_true",
                        help="check and run an existing dist/ExamClient")
    parser.add_argument("--current-env", action="store_true",
                        help="build with this interpreter instead of the locked build/frozen-venv")
    parser.add_argument("--required-modules", type=Path,
                        help="JSON list of modules that must import inside the bundle")
    parser.add_argument("--max-mb", type=float, default=None,
                        help="fail when the bundle is larger (MB, 10^6 bytes)")
    args = parser.parse_args(argv)

    if not args.skip_build:
        python = Path(sys.executable) if args.current_env else ensure_build_venv()
        run_pyinstaller(python=python, dist=args.dist, work=args.work)
    bundle = Bundle(args.dist / "ExamClient")
    failures: list[str] = []

    for exe in (bundle.gui_exe, bundle.console_exe):
        if not exe.is_file():
            failures.append(f"executable missing: {exe}")
    missing = missing_files(bundle, required_files())
    failures += [f"bundle lacks {pattern}" for pattern in missing]
    if failures:
        return report(failures)

    # Scratch working directory: the frozen program must not read files of the checkout.
    scratch = args.work / "run"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)

    starts = []
    for _attempt in range(3):
        version, seconds = run_frozen(bundle.console_exe, ["--version"], cwd=scratch)
        if version.returncode != 0:
            failures.append(f"--version exited {version.returncode}: {version.stderr[-2000:]}")
            break
        starts.append(seconds)

    if args.required_modules is not None:
        wanted = json.loads(args.required_modules.read_text(encoding="utf-8"))
        failed = unimportable_modules(bundle, args.required_modules.resolve(), cwd=scratch)
        print(f"modules the source end-to-end exam imported: {len(wanted)}, "
              f"not importable in the bundle: {len(failed)}")
        failures += [f"not importable in the bundle: {name}" for name in failed]

    result, self_test_s = run_frozen(bundle.console_exe, ["--self-test"], cwd=scratch)
    print(result.stdout, end="")
    if result.returncode != 0:
        failures.append(f"--self-test exited {result.returncode}")
    unexpected = unexpected_stderr(result.stderr.splitlines())
    if unexpected:
        failures.append("unexpected stderr from --self-test:\n    " + "\n    ".join(unexpected))

    total = tree_size(bundle.folder)
    print(f"\nbundle: {bundle.folder} {total / 1e6:.1f} MB")
    print("per component:")
    for size, name in component_sizes(bundle):
        print(f"  {size / 1e6:8.1f} MB  {name}")
    print("largest items:")
    for size, name in largest_items(bundle):
        print(f"  {size / 1e6:8.1f} MB  {name}")
    if args.max_mb is not None and total / 1e6 > args.max_mb:
        failures.append(f"bundle is {total / 1e6:.1f} MB, budget {args.max_mb:.0f} MB")
    if starts:
        print(f"frozen start (--version), median of {len(starts)}: "
              f"{statistics.median(starts):.2f} s (first {starts[0]:.2f} s)")
    print(f"frozen --self-test: {self_test_s:.2f} s")
    return report(failures)


def report(failures: Sequence[str]) -> int:
    if failures:
        print("\nFROZEN BUILD FAILED:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print("\nfrozen build OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
