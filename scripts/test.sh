#!/usr/bin/env bash
# Fresh machine -> every check CI runs: lint, types, the Qt boundary, the core tests with
# Qt unavailable, the whole test suite (offscreen Qt, real server on 127.0.0.1), and the
# frozen build's self-test. .ci/run calls exactly this script.
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
mypy --platform win32 client

step "import-linter (only client/ui imports Qt)"
lint-imports

step "core tests with PySide6 made unimportable"
EXAM_BLOCK_QT=1 python -m pytest -q -p no:pytest-qt -m "not qt" tests/core_without_qt.py tests/config tests/paper tests/store tests/sync

step "full test suite"
python -m pytest -q

step "user.ini.example matches the declarations"
python -m client.config.example | diff -u config/user.ini.example -
