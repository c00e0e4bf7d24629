"""Start-up time to the first painted login window, per rendering level, under Xvfb.

Each run is a fresh process doing the client's real start-up sequence (client/startup,
client/render, client/ui/render_guard, the shipped font) and showing a representative
login window on a real X server (Xvfb, xcb platform plugin). The time is wall clock from
spawning the process to the window's first paint event. Levels 0 (software) and 2
(hardware) are compared; Xvfb has no GPU, so level 2 also ends up on Mesa llvmpipe and the
difference is the cost of the level's settings, not of a GPU.

    python benchmarks/startup_levels.py [--runs 7]

Needs Xvfb (apt-get install xvfb); uses $DISPLAY if one is set.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(level: str, data_dir: Path) -> int:
    """One start: the client's start-up order, then a login-like window."""
    sys.path.insert(0, str(ROOT))
    from client.render import levels, sentinel
    from client.startup import early

    early.setup_logging(log_dir=data_dir / "logs")
    early.arm_faulthandler(data_dir / "crash")
    state_dir = data_dir / "state"
    decision = sentinel.choose_level(levels.parse_level_setting(level), state_dir)
    levels.apply_environment(decision.level)

    from PySide6.QtWidgets import (
        QApplication,
        QFormLayout,
        QLabel,
        QLineEdit,
        QPushButton,
        QVBoxLayout,
        QWidget,
    )

    from client.ui import fonts, render_guard

    render_guard.apply_qt_attributes(decision.level)
    app = QApplication([sys.argv[0]])
    fonts.setup_fonts(app)
    guard = render_guard.RenderGuard(state_dir=state_dir, decision=decision,
                                     on_failure=lambda failure: app.exit(75))
    guard.install_message_handler()
    guard.arm()
    window = QWidget()
    window.setWindowTitle("考试客户端")
    layout = QVBoxLayout(window)
    layout.addWidget(QLabel("<h2>2026 年春季学期期末考试</h2>"))
    form = QFormLayout()
    form.addRow("准考证号 / 身份证号", QLineEdit())
    password = QLineEdit()
    password.setEchoMode(QLineEdit.EchoMode.Password)
    form.addRow("密码", password)
    layout.addLayout(form)
    layout.addWidget(QPushButton("登录"))
    layout.addWidget(QLabel("考生姓名示例：张𠮷 王堃 李赟 刘䶮"))
    window.resize(800, 600)

    def painted() -> None:
        print(json.dumps({"event": "first_frame", "level": int(decision.level),
                          "platform": QApplication.platformName()}), flush=True)
        app.quit()

    guard.first_frame.connect(painted)
    window.show()
    guard.watch(window)
    code = app.exec()
    guard.uninstall_message_handler()
    early.disarm_faulthandler()
    return code


def start_xvfb() -> tuple[subprocess.Popen[bytes] | None, str]:
    if os.environ.get("DISPLAY"):
        return None, os.environ["DISPLAY"]
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb not found: apt-get install -y xvfb")
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        process.kill()
        raise SystemExit("Xvfb did not start")
    return process, f":{number}"


def time_one(level: str, display: str) -> float:
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as scratch:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb",
                   PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", level, "--data-dir", scratch],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert process.stdout is not None
        elapsed = None
        for line in process.stdout:
            if line.startswith("{") and json.loads(line)["event"] == "first_frame":
                elapsed = time.perf_counter() - started
        _, err = process.communicate(timeout=60)
        if elapsed is None or process.returncode != 0:
            raise SystemExit(f"level {level} start failed (rc {process.returncode}):\n{err}")
        return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child")
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    if args.child is not None:
        return child(args.child, args.data_dir)
    xvfb, display = start_xvfb()
    try:
        time_one("2", display)  # warm the OS file cache once; not counted
        results: dict[str, list[float]] = {"0": [], "2": []}
        for _ in range(args.runs):  # interleaved, so drift affects both levels alike
            for level in results:
                results[level].append(time_one(level, display))
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
    medians = {level: statistics.median(times) for level, times in results.items()}
    print(f"start-up to first painted login window, Xvfb {display}, {args.runs} runs per level")
    for level, times in results.items():
        print(f"level {level}: median {medians[level] * 1000:.0f} ms "
              f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")
    print(f"ratio level 0 / level 2: {medians['0'] / medians['2']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
