"""A real client start-up in miniature, run as a child process by the render tests.

It performs the same ordered sequence as the client (client/startup, client/render,
client/ui/render_guard): logging, faulthandler, level decision, environment, attributes,
QApplication, message handler, sentinel, window, first frame, probe. It can be told to
die before the first paint, to log a graphics failure, or to show a blank window.
Each step prints one JSON line on stdout for the test to read.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import sys
from pathlib import Path


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--level", default="auto")
    parser.add_argument("--crash-before-paint", choices=["abort", "segv", "exception"])
    parser.add_argument("--qt-warning")
    parser.add_argument("--blank", action="store_true")
    parser.add_argument("--healthy-after", type=float, default=0.2)
    args = parser.parse_args()

    from client.render import levels, sentinel
    from client.startup import early

    early.setup_logging(log_dir=args.data_dir / "logs")
    early.arm_faulthandler(args.data_dir / "crash")
    decision = sentinel.choose_level(levels.parse_level_setting(args.level), args.state_dir)
    levels.apply_environment(decision.level)
    early.install_excepthooks(crash_dir=args.data_dir / "crash", show_error=None,
                              errors_to_stderr=True)
    emit("decision", level=int(decision.level), code=decision.code, reason=decision.reason,
         environment={k: os.environ[k] for k in levels.MANAGED_VARIABLES if k in os.environ},
         pending_crashes=[r.kind for r in early.pending_crash_reports(args.data_dir / "crash")])

    from PySide6.QtCore import QTimer, qWarning
    from PySide6.QtWidgets import QApplication, QLabel, QWidget

    from client.ui import render_guard

    render_guard.apply_qt_attributes(decision.level)
    app = QApplication([sys.argv[0]])

    def on_failure(failure: render_guard.RenderFailure) -> None:
        emit("restart_requested", cause=failure.cause, reason=failure.reason,
             from_level=int(failure.from_level), next_level=int(failure.next_level))
        app.exit(75)

    guard = render_guard.RenderGuard(state_dir=args.state_dir, decision=decision,
                                     on_failure=on_failure, healthy_after_s=args.healthy_after)
    guard.install_message_handler()
    guard.arm()
    if args.crash_before_paint == "abort":
        os.abort()
    if args.crash_before_paint == "segv":
        faulthandler._sigsegv()
    if args.crash_before_paint == "exception":
        raise RuntimeError("start-up failed before the first paint")

    if args.blank:
        window: QWidget = QWidget()
        window.setStyleSheet("background: white;")
        window.setAutoFillBackground(True)
    else:
        window = QLabel("考试客户端 — 登录")
        window.setStyleSheet("background: white; color: black; font-size: 28px;")
    window.resize(480, 320)
    window.show()
    guard.watch(window)

    def confirmed() -> None:
        emit("healthy", level=int(decision.level))
        app.quit()

    guard.confirmed.connect(confirmed)
    if args.qt_warning:
        message = args.qt_warning
        QTimer.singleShot(0, lambda: qWarning(message))
    QTimer.singleShot(20_000, lambda: app.exit(3))  # never hang a test run
    code = app.exec()
    early.disarm_faulthandler()
    return code


if __name__ == "__main__":
    sys.exit(main())
