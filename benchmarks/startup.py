"""Start-up time to the login window, time to first frame (source and frozen), and RSS
with the demo exam open.

    python benchmarks/startup.py [--runs 5] [--frozen dist/ExamClient]

Time to first frame: ``exam-client run`` itself, from the source tree and, with --frozen,
the built ExamClient, side by side: from just before the process is spawned until the
client logs that its first frame was painted (client/ui/render_guard.py), each run with
a fresh data folder (a killed run would otherwise count as a start failure of the next).
Targets: <= 1.5 s from source, <= 2.5 s frozen.

Each figure is measured in a fresh child process (offscreen Qt): from just before the
process is spawned until the login window has been shown and painted. The baseline,
measured in the same run, is a bare PySide6 window in a fresh process, so the ratio says
what the client adds on top of Qt itself. RSS is read (psutil) in the client process once
the demo exam's first question is on screen, with the reference server in another process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE_QT = """
from PySide6.QtWidgets import QApplication, QLabel
from PySide6.QtCore import QTimer
app = QApplication([])
w = QLabel("baseline"); w.resize(800, 600); w.show()
QTimer.singleShot(0, lambda: (print("SHOWN", flush=True), app.quit()))
app.exec()
"""


def child_login_window() -> None:
    from PySide6.QtCore import QTimer

    from client.config import load_settings
    from client.session.factory import create_session
    from client.ui.app import GuiOptions, build_window, ensure_application

    app = ensure_application()
    settings = load_settings([]).with_overrides({"data/directory": Path(sys.argv[3])})
    window = build_window(create_session(settings),
                          GuiOptions(server_url=settings.get("server/url")))
    window.show()
    QTimer.singleShot(0, lambda: (print("SHOWN", flush=True), app.quit()))
    app.exec()


def child_exam_rss() -> None:
    import psutil
    from PySide6.QtCore import QTimer

    from client.config import load_settings
    from client.session.factory import create_session
    from client.ui.app import GuiOptions, build_window, ensure_application

    url, center, data_dir, username, password = sys.argv[2:7]
    app = ensure_application()
    settings = load_settings([]).with_overrides({
        "server/url": url, "server/center_id": center, "data/directory": Path(data_dir)})
    window = build_window(create_session(settings), GuiOptions(server_url=url))
    window.show()
    window.login_page.username.setText(username)
    window.login_page.password.setText(password)
    window.login_page.login_button.click()

    deadline = time.monotonic() + 60

    def poll() -> None:
        if time.monotonic() > deadline:
            print(f"STUCK on {window.current_page}: {window.login_page.error.text()} "
                  f"{window.waiting_page.status.text()}", flush=True)
            app.quit()
        elif window.current_page == "exam":
            rss = psutil.Process().memory_info().rss
            print(f"RSS {rss}", flush=True)
            window.session.close()
            # The exam window asks "leave the exam?" when closed mid-exam; a benchmark
            # child has measured what it came for and leaves without that dialog.
            os._exit(0)
        else:
            QTimer.singleShot(100, poll)

    QTimer.singleShot(100, poll)
    app.exec()


def time_child(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("SHOWN"):
            elapsed = time.perf_counter() - start
            break
    else:
        raise RuntimeError(f"child did not show a window: {args}")
    process.wait(timeout=30)
    return elapsed


FIRST_FRAME = "first frame painted"
TARGET_SOURCE_S = 1.5
TARGET_FROZEN_S = 2.5


def time_to_first_frame(command: list[str], env: dict[str, str], scratch: Path) -> float:
    """Seconds from spawn until `exam-client run` logs its first painted frame."""
    ini = scratch / "user.ini"
    ini.write_text(f"[data]\ndirectory = {scratch / 'data'}\n", encoding="utf-8")
    # [server] url is read only from the machine-wide config ($XDG_CONFIG_DIRS on Linux).
    machine = scratch / "machine" / "ExamClient" / "user.ini"
    machine.parent.mkdir(parents=True, exist_ok=True)
    machine.write_text("[server]\nurl = https://127.0.0.1:9/\n", encoding="utf-8")
    env = {**env, "XDG_CONFIG_DIRS": str(machine.parents[1])}
    start = time.perf_counter()
    process = subprocess.Popen([*command, "--errors-to-stderr", "--config", str(ini), "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env, cwd=scratch, start_new_session=True)
    assert process.stdout is not None
    elapsed = None
    try:
        for line in process.stdout:
            if FIRST_FRAME in line:
                elapsed = time.perf_counter() - start
                break
    finally:
        process.kill()
        process.wait(timeout=30)
    if elapsed is None:
        raise RuntimeError(f"no first frame from {command}")
    return elapsed


def verdict(seconds: float, target: float) -> str:
    return f"target <= {target:.1f} s: {'met' if seconds <= target else 'NOT met'}"


def first_frame_figures(frozen: Path | None, runs: int, env: dict[str, str]) -> None:
    commands = {"source": [sys.executable, "-m", "client"]}
    if frozen is not None:
        commands["frozen"] = [str((frozen / "ExamClient").resolve())]
    frozen_env = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    medians = {}
    print(f"time to first frame of `exam-client run` (median of {runs}, offscreen):")
    for name, command in commands.items():
        times = []
        for _attempt in range(runs):
            with tempfile.TemporaryDirectory() as scratch:
                times.append(time_to_first_frame(
                    command, frozen_env if name == "frozen" else env, Path(scratch)))
        medians[name] = statistics.median(times)
        print(f"  {name:6} runs: {', '.join(f'{t:.2f}' for t in times)} s")
    print(f"  source {medians['source']:5.2f} s   {verdict(medians['source'], TARGET_SOURCE_S)}")
    if "frozen" in medians:
        print(f"  frozen {medians['frozen']:5.2f} s   {verdict(medians['frozen'], TARGET_FROZEN_S)}"
              f"   frozen/source {medians['frozen'] / medians['source']:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frozen", type=Path, default=None,
                        help="a built dist/ExamClient folder to time beside the source")
    options = parser.parse_args()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    print(f"load average before measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
          f" on {os.cpu_count()} CPUs (figures on a shared, busy machine run slow)")
    first_frame_figures(options.frozen, options.runs, env)

    with tempfile.TemporaryDirectory() as scratch:
        bare = [time_child([sys.executable, "-c", BARE_QT], env) for _ in range(options.runs)]
        client = [time_child([sys.executable, __file__, "--child-login", "x", scratch], env)
                  for _ in range(options.runs)]
    bare_median, client_median = statistics.median(bare), statistics.median(client)
    print(f"start-up to login window (median of {options.runs}, offscreen):")
    print(f"  bare PySide6 window (baseline)  {bare_median * 1000:7.0f} ms")
    print(f"  exam client login window        {client_median * 1000:7.0f} ms"
          f"   ratio {client_median / bare_median:.2f}x")
    print(f"  client runs: {', '.join(f'{t * 1000:.0f}' for t in client)} ms")

    sys.path.insert(0, str(ROOT))
    from server.testing import live_server

    with tempfile.TemporaryDirectory() as scratch, \
            live_server(Path(scratch) / "server", demo=True, start_in_s=1) as server:
        assert server.demo is not None
        time.sleep(1.2)
        output = subprocess.run(
            [sys.executable, __file__, "--child-exam", server.url, server.demo.center_id,
             str(Path(scratch) / "client"), server.demo.username, server.demo.password],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=True).stdout
    rss = next(int(line.split()[1]) for line in output.splitlines() if line.startswith("RSS"))
    print(f"RSS of the client with the demo exam open: {rss / 2**20:.0f} MB")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-login":
        child_login_window()
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-exam":
        child_exam_rss()
    else:
        sys.exit(main())
