#!/usr/bin/env bash
# Fresh machine -> every check CI runs: lint, types, the Qt boundary, the core tests with
# Qt unavailable, the whole test suite (offscreen Qt, real server on 127.0.0.1, SQLite),
# the server tests again against PostgreSQL, the frozen build's self-test and the Windows
# wheel check. .ci/run calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1

step() { printf '\n==== %s ====\n' "$*"; }

step "ruff"
ruff check client server tests benchmarks tools scripts

step "mypy (strict core, Linux)"
mypy client server
step "mypy (Windows code paths)"
mypy --platform win32 --cache-dir .mypy_cache_win32 client server

step "import-linter (only client/ui imports Qt)"
lint-imports

step "user.ini.example matches the declarations"
python -m client.config.example | diff -u config/user.ini.example -

step "core tests with PySide6 made unimportable"
EXAM_BLOCK_QT=1 python -m pytest -q -p no:pytest-qt -p no:cacheprovider -m "not qt" \
  tests/core_without_qt.py tests/config tests/paper tests/store tests/sync tests/render \
  tests/startup tests/diagnostics tests/integrity tests/export tests/proctor

step "full test suite"
python -m pytest -q -p no:cacheprovider

step "lockdown under a real X server (Xvfb, xcb): another process takes the focus and the clipboard; a monitor plugged in and out"
QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1366x768x24" python -m pytest -q \
  -p no:cacheprovider tests/ui/test_lockdown_xvfb.py tests/ui/test_session_lock.py \
  tests/ui/test_display_hotplug_xvfb.py

step "server tests against PostgreSQL (a throwaway cluster)"
eval "$(bash scripts/postgres_temp.sh start)"
trap 'bash scripts/postgres_temp.sh stop "$EXAM_PG_DIR"' EXIT
python -m pytest -q -p no:cacheprovider tests/server
bash scripts/postgres_temp.sh stop "$EXAM_PG_DIR"
trap - EXIT
unset EXAM_SERVER_TEST_POSTGRES_URL

# -- frozen build, frozen end-to-end exam, installer (issue 14) ----------------------------
step "modules the source tree's end-to-end exam imports"
EXAM_RECORD_MODULES=build/e2e-modules.json PYTHONPATH=tools python -m pytest -q \
  -p no:cacheprovider -p record_modules \
  "tests/ui/test_end_to_end.py::test_candidate_takes_the_demo_exam"

step "frozen build (PyInstaller, locked build environment): bundle check, imports, self-test"
frozen_started=$SECONDS
python tools/build_frozen.py --required-modules build/e2e-modules.json --max-mb 470
echo "frozen build step: $((SECONDS - frozen_started)) s"

step "the frozen client takes a whole exam (Xvfb, AT-SPI, xdotool) and the frozen demo"
exam_started=$SECONDS
python tools/frozen_exam.py
echo "frozen exam step: $((SECONDS - exam_started)) s"

step "startup benchmark: source and frozen time to first frame"
python benchmarks/startup.py --frozen dist/ExamClient
# -- end of the frozen build block --------------------------------------------------------

step "every runtime dependency has a Windows x64 wheel"
python tools/check_windows_wheels.py
