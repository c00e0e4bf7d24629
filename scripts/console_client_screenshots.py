"""The console's actions as the candidate sees them, into docs/screenshots/:

    python scripts/console_client_screenshots.py   # starts Xvfb itself when there is no DISPLAY

client-message-banner.png: a proctor's message on the exam page while the candidate types
an answer (the banner in the notice strip, the focus still in the answer);
client-paused.png: the paused page (a proctor's 暂停作答, the clock stopped);
client-face-held.png / client-face-approved.png: the identity page held after a failed face
check (asked the console, 审批编号 N) and after the proctor's 批准入场 in the console. Runs
the real window's tests (tests/ui/test_console_actions_ui.py, test_face_hold_ui.py) against
a real server under Xvfb with EXAM_MESSAGE_SCREENSHOTS pointing at docs/screenshots/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from screenshots import OUT, ensure_display  # noqa: E402


def main() -> int:
    ensure_display()
    OUT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, EXAM_MESSAGE_SCREENSHOTS=str(OUT), PYTHONPATH=str(ROOT),
               QT_QPA_PLATFORM="xcb")
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(ROOT / "tests" / "ui" / "test_console_actions_ui.py"),
                            str(ROOT / "tests" / "ui" / "test_face_hold_ui.py")],
                           cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
