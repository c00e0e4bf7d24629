"""Debian's Chromium for the Playwright tests of the browser pages (console, admin upload):
where it is, how it is started, and the mark that skips a test where it is missing.

One place, so the flags stay the same in every browser test (.ci/run installs chromium)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# Set by scripts/console_screenshots.py: the browser tests save their pages there.
SHOTS = os.environ.get("EXAM_CONSOLE_SCREENSHOTS")

needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                    reason="needs Debian's chromium (.ci/run installs it)")
