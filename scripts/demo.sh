#!/usr/bin/env bash
# Fresh machine -> the demo exam against an embedded local server, in a window.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "demo: no display found; running under Xvfb (screenshots: scripts/screenshots.py)"
  exec xvfb-run -a -s "-screen 0 1280x800x24" exam-client demo "$@"
fi
exec exam-client demo "$@"
