"""Regenerate docs/screenshots/console-*.png: the invigilation console in headless Chromium.

Runs the console's browser tests (tests/console/test_console_browser.py and
test_console_materials_browser.py) against a real server with EXAM_CONSOLE_SCREENSHOTS
pointing at docs/screenshots/, so the pictures show exactly the path the tests walk: a
proctor's room with a held login, a seat's detail, the chief examiner's one-time code,
the audit log, a seat's 切屏 count, emergency materials submitted from the console
(console-06), extra time for one seat and for a group (console-07, console-08), and a
message read by the candidate (console-09), a seat paused too long with answers its PC
saved during the pause (console-10), a failed face check with its frames beside the
base photo, then approved, with a real client session (console-12, console-13), and
proctor actions an offline PC reported late, in the seat's details and on the audit page
with both times (console-14, console-15).

    python scripts/console_screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, EXAM_CONSOLE_SCREENSHOTS=str(out), PYTHONPATH=str(ROOT))
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(ROOT / "tests" / "console" / "test_console_browser.py"),
                            str(ROOT / "tests" / "console" / "test_console_materials_browser.py"),
                            str(ROOT / "tests" / "console" /
                                "test_console_extra_time_browser.py"),
                            str(ROOT / "tests" / "console" /
                                "test_console_messages_browser.py"),
                            str(ROOT / "tests" / "console" /
                                "test_console_pause_browser.py"),
                            str(ROOT / "tests" / "console" /
                                "test_console_face_hold_browser.py")],
                           cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
