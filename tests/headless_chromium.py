"""Debian's Chromium for the Playwright tests of the browser pages (console, admin upload):
where it is, how it is started, and the mark that skips a test where it is missing.

One place, so the flags stay the same in every browser test (.ci/run installs chromium)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# Set by scripts/console_screenshots.py: the browser tests save their pages there.
SHOTS = os.environ.get("EXAM_CONSOLE_SCREENSHOTS")

needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                    reason="needs Debian's chromium (.ci/run installs it)")


@contextmanager
def console_page(base_url: str, *, username: str, password: str) -> Iterator[Any]:
    """A Chromium page at 1366x768 in Chinese, signed in to the console as *username*.

    Leaving the block without an exception asserts that no script on the page failed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{base_url}/console/login")
            page.fill("#username", username)
            page.fill("#password", password)
            page.click("#login")
            yield page
            assert not errors, errors
        finally:
            browser.close()
