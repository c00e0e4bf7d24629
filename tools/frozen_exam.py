"""The frozen client takes a whole exam: ``python tools/frozen_exam.py [--bundle DIR]``.

What a candidate does, done to the built program (dist/ExamClient, not this source tree)
on a virtual X display (Xvfb) with real input events (xdotool), the widgets found through
Qt's accessibility tree (AT-SPI; tools/frozen_exam_driver.py runs with Debian's
python3-pyatspi):

1. ``ExamClient demo --camera-source FRAME``: the frozen program starts its own reference
   server (the server code inside the bundle) and the demo exam with its exam-day rules
   (server.demo.install_exam_day_rules: the pledge, the proctor by real name, whose photo
   the bundled server embeds, and the face match on unlock); FRAME, a webcam-like picture
   of the person in the proctor's photo, plays the camera. The driver reads the demo login
   from the login page, logs in, reads and accepts the pledge (考试承诺书), waits in the
   waiting room while the paper is preloaded; on the exam page it opens proctor mode,
   unlocks it with the proctor's name, password and face (real YuNet + SFace inference in
   the bundle), opens 应急材料, takes a room photo with the camera, marks a candidate,
   gives the reason and submits; then answers every question type (single, multiple,
   true/false, fill-in-the-blank, essay), waits until the server acknowledged every
   answer, submits and reads the score on the result page, which must equal the objective
   score of the answers given. The server must hold the pledge acceptance and the
   materials.
2. ``ExamClient run`` (what the Start-menu shortcut starts) against a real reference
   server started here (server.testing.live_server, 127.0.0.1): first with the exam's
   version floor above the client's version, where the login must be refused with the
   versions in Chinese; then with the floor at the client's version: login and preload,
   checked on the server too; then the exam as above, or, on a virtual machine (CI), the
   enforced integrity check's gate, which keeps the exam closed there by design.

Exit status 0 when both runs went through, 1 otherwise. Prints the timings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DRIVER = ROOT / "tools" / "frozen_exam_driver.py"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-pyatspi (scripts/setup.sh)
SCREEN = "1366x768x24"  # the smallest screen in the exam rooms (docs/deploy.md)


def demo_paper() -> dict[str, Any]:
    paper = ROOT / "resources" / "demo" / "paper" / "paper.json"
    return dict(json.loads(paper.read_text(encoding="utf-8")))


def answer_plan() -> tuple[list[dict[str, Any]], float]:
    """One answer per question, every objective one right, and the score that earns."""
    plan: list[dict[str, Any]] = []
    expected = 0.0
    for section in demo_paper()["sections"]:
        for item in section["items"]:
            kind = item["type"]
            stem = item["stem"]["zh_CN"] if isinstance(item["stem"], dict) else item["stem"]
            if kind == "essay":
                value: Any = "诚信考试 honesty matters"
            elif kind == "fill_blank":
                value = [variants[0] for variants in item["key"]]
            else:
                value = item["key"]
            if kind != "essay":
                expected += float(item["score"])
            plan.append({"stem": stem, "type": kind, "value": value})
    return plan, expected


def write_camera_frame(path: Path) -> Path:
    """The demo's camera (``--camera-source``): scikit-image's astronaut as a 640x480
    webcam frame with sensor noise, the person whose portrait is the demo proctor's photo
    (resources/demo/make_photos.py), cut and scaled differently."""
    import cv2
    import numpy as np
    from skimage import data

    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    frame = cv2.resize(bgr[7:232, 73:373], (640, 480), interpolation=cv2.INTER_CUBIC)
    noise = np.random.default_rng(22).normal(0, 4, frame.shape)
    frame = np.clip(frame.astype(np.float64) + noise, 0, 255).astype(np.uint8)
    cv2.imwrite(str(path), frame)
    return path


def free_display() -> int:
    for number in range(90, 190):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and \
                not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise RuntimeError("no free X display number")


@contextmanager
def desktop_session() -> Iterator[dict[str, str]]:
    """Xvfb, a D-Bus session bus and the accessibility bus: the environment for the client
    and the driver. Everything started here is stopped on exit."""
    processes: list[subprocess.Popen[bytes]] = []
    display = free_display()
    try:
        xvfb = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", SCREEN,
                                 "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
        processes.append(xvfb)
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{display}").exists():
            if time.monotonic() > deadline or xvfb.poll() is not None:
                raise RuntimeError("Xvfb did not start")
            time.sleep(0.1)
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        processes.append(bus)
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        env = dict(os.environ)
        for name in ("PYTHONPATH", "PYTHONHOME", "QT_QPA_PLATFORM"):
            env.pop(name, None)
        env.update(DISPLAY=f":{display}", DBUS_SESSION_BUS_ADDRESS=address,
                   QT_QPA_PLATFORM="xcb", QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",
                   QT_ACCESSIBILITY="1", NO_AT_BRIDGE="0")
        # Qt looks for the accessibility bus once, at start: it must be up before.
        launcher = subprocess.Popen(["/usr/libexec/at-spi-bus-launcher",
                                     "--launch-immediately"], env=env,
                                    stderr=subprocess.DEVNULL)
        processes.append(launcher)
        time.sleep(1.0)
        yield env
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


class PeakRss:
    """Samples the client's resident memory (process and children) twice a second."""

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._pid = pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.wait(0.5):
            try:
                root = psutil.Process(self._pid)
                total = sum(p.memory_info().rss for p in [root, *root.children(True)])
            except psutil.Error:
                continue
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.peak


def run_client_and_driver(*, exe: Path, client_args: list[str], plan: dict[str, Any],
                          env: dict[str, str], scratch: Path, label: str,
                          inspect: Callable[[], dict[str, Any]] | None = None,
                          ) -> dict[str, Any]:
    """Start the frozen client, drive it, then (client still running) call *inspect*."""
    plan_file = scratch / f"{label}-plan.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    client_log = scratch / f"{label}-client.log"
    started = time.perf_counter()
    with client_log.open("wb") as log_handle:
        client = subprocess.Popen([str(exe), "--errors-to-stderr", *client_args],
                                  cwd=scratch, env=env, stdout=log_handle,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        rss = PeakRss(client.pid)
        try:
            driver = subprocess.run([SYSTEM_PYTHON, str(DRIVER), str(plan_file)], env=env,
                                    capture_output=True, text=True, timeout=600, check=False)
            inspected = inspect() if inspect is not None and driver.returncode == 0 else {}
        finally:
            peak_rss = rss.stop()
            alive = client.poll() is None
            if alive:
                os.killpg(client.pid, signal.SIGTERM)
                try:
                    client.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(client.pid, signal.SIGKILL)
                    client.wait()
    seconds = time.perf_counter() - started
    print(driver.stdout, end="")
    result: dict[str, Any] = {"ok": driver.returncode == 0, "seconds": round(seconds, 1),
                              "client_alive_at_end": alive,
                              "client_rss_peak_mb": round(peak_rss / 2**20), **inspected}
    for line in driver.stdout.splitlines():
        if line.startswith("RESULT "):
            result.update(json.loads(line.removeprefix("RESULT ")))
    if driver.returncode != 0 or not alive:
        print(f"--- {label}: driver stderr ---\n{driver.stderr[-3000:]}")
        print(f"--- {label}: client output (last lines) ---")
        print("\n".join(client_log.read_text(encoding="utf-8", errors="replace")
                        .splitlines()[-40:]))
    return result


def write_user_ini(path: Path, values: dict[str, dict[str, str]]) -> None:
    lines = []
    for section, keys in values.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {value}" for key, value in keys.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def machine_config_env(folder: Path, values: dict[str, dict[str, str]]) -> dict[str, str]:
    """The server's address goes into the machine-wide config, the only file trusted with
    it (a ``--config`` file's [server] url is ignored, docs/console.md "Trust anchors").
    On Linux that file is $XDG_CONFIG_DIRS/ExamClient/user.ini (platformdirs), so the run
    gets its own: returns the environment entry that points the client at it."""
    write_user_ini(folder / "ExamClient" / "user.ini", values)
    return {"XDG_CONFIG_DIRS": str(folder)}


def attempt_facts(db: Any, exam_id: str, student_no: str | None) -> dict[str, Any]:
    """What the server recorded for the candidate (None: whoever logged in): status and
    the score it computed."""
    rows = db.exam_results(exam_id)
    mine = next((row for row in rows if row.attempt is not None and
                 student_no in (None, row.candidate.student_no)), None)
    if mine is None or mine.attempt is None:
        return {"server_attempt": None}
    return {"server_attempt": mine.attempt.status, "server_score": mine.attempt.score,
            "server_review": mine.attempt.review_status}


def demo_server_facts(tmp: Path) -> dict[str, Any]:
    """Read the database of the server inside the frozen demo (its temporary folder)."""
    from server.config import ServerSettings
    from server.db import Database

    [server_dir] = tmp.glob("exam-demo-*/server")
    db = Database(ServerSettings.load(server_dir).effective_database_url)
    try:
        return {**attempt_facts(db, "demo-exam", None), **exam_day_facts(db, "demo-exam")}
    finally:
        db.close()


def exam_day_facts(db: Any, exam_id: str) -> dict[str, Any]:
    """The pledge acceptances and the emergency materials the server holds."""
    from server.materials import list_materials
    from server.pledges import acceptances

    attempts = [row.attempt.id for row in db.exam_results(exam_id) if row.attempt is not None]
    found = list_materials(db, exam_id=exam_id, center_id=None)
    return {"server_pledges": len(acceptances(db, attempts)),
            "server_materials": [{"candidates": list(m.candidates), "photos": len(m.photos),
                                  "room": m.room, "by": m.submitted_by} for m in found]}


def check_exam_day(label: str, result: dict[str, Any], *, candidate: str) -> list[str]:
    """The pledge accepted, the proctor's face matched, the materials on the server."""
    failures = []
    if result.get("server_pledges") != 1:
        failures.append(f"{label}: {result.get('server_pledges')} pledge acceptances on the "
                        f"server, expected 1")
    similarity, threshold = result.get("proctor_similarity"), result.get("proctor_threshold")
    if similarity is None or threshold is None or similarity < threshold:
        failures.append(f"{label}: proctor face similarity {similarity} (needs {threshold})")
    materials = result.get("server_materials") or []
    if not any(m["photos"] >= 1 and candidate in m["candidates"] for m in materials):
        failures.append(f"{label}: no materials marking {candidate} on the server: "
                        f"{materials}")
    return failures


def check_exam(label: str, result: dict[str, Any], expected: float) -> list[str]:
    """The driver got to the result page and the server holds the submitted answers,
    scored as the plan says."""
    if not result["ok"]:
        return [f"{label}: the driver did not get through the exam"]
    failures = []
    if result.get("server_attempt") not in ("submitted", "auto_submitted"):
        failures.append(f"{label}: server attempt is {result.get('server_attempt')}")
    score = result.get("server_score")
    if score is None or not math.isclose(score, expected):
        failures.append(f"{label}: server score {score}, expected {expected:g}")
    return failures


def readiness_report(command: list[str], *, user_ini: Path, env: dict[str, str],
                     cwd: Path) -> tuple[int, dict[str, Any] | None, str]:
    """(exit code, the parsed ``check --json`` report or None, stderr's tail)."""
    result = subprocess.run([*command, "--config", str(user_ini), "check", "--json",
                             "--no-upload"], env=env, cwd=cwd, capture_output=True,
                            text=True, encoding="utf-8", errors="replace", timeout=300,
                            check=False)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = None
    return result.returncode, report if isinstance(report, dict) else None, result.stderr[-1500:]


def compare_readiness_checks(*, frozen: list[str], source: list[str], user_ini: Path,
                             env: dict[str, str], scratch: Path) -> list[str]:
    """The admin's readiness check on the installed copy must judge this PC as the source
    tree does: the same checks, each with the same status, and the same exit code. A check
    that only fails frozen is a part missing from the bundle (a module, a model, a plugin)."""
    source_env = dict(env)
    source_env["PYTHONPATH"] = str(ROOT)
    frozen_code, frozen_report, frozen_err = readiness_report(
        frozen, user_ini=user_ini, env=env, cwd=scratch)
    source_code, source_report, source_err = readiness_report(
        source, user_ini=user_ini, env=source_env, cwd=scratch)
    print(f"frozen check --json: exit {frozen_code}; source tree: exit {source_code}")
    if frozen_report is None:
        return [f"frozen check --json printed no report (exit {frozen_code}): {frozen_err}"]
    if source_report is None:
        return [f"source check --json printed no report (exit {source_code}): {source_err}"]

    def statuses(report: dict[str, Any]) -> dict[str, str]:
        return {str(check["name"]): str(check["status"]) for check in report["checks"]}

    frozen_statuses, source_statuses = statuses(frozen_report), statuses(source_report)
    for name in sorted(frozen_statuses.keys() | source_statuses.keys()):
        print(f"  {name:12} frozen {frozen_statuses.get(name, '-'):5} "
              f"source {source_statuses.get(name, '-')}")
    failures = [
        f"readiness check {name!r}: frozen {frozen_statuses.get(name, 'missing')}, "
        f"source tree {source_statuses.get(name, 'missing')}"
        for name in sorted(frozen_statuses.keys() | source_statuses.keys())
        if frozen_statuses.get(name) != source_statuses.get(name)]
    if frozen_code != source_code:
        failures.append(f"readiness check exit code: frozen {frozen_code}, "
                        f"source tree {source_code}")
    return failures


def check_version_floor(*, exe: Path, env: dict[str, str], scratch: Path, user_ini: Path,
                        server: Any, screenshots: dict[str, str] | None) -> list[str]:
    """The exam's version floor above the frozen client's version: its login is refused
    with both versions in Chinese. Then the floor is set to the client's own version (a
    client at the floor is let in: the run that follows)."""
    from client import __version__
    from client.paper.exam_rules import VersionFloor
    from server.papers import refresh_package
    from server.version_floor import set_floor

    info = server.demo
    ctx = server.context
    set_floor(server.db, exam_id=info.exam_id, now_ms=server.clock.now_ms(),
              floor=VersionFloor(min_version="99.0", download_hint="考试平台「客户端下载」页"))
    refused = run_client_and_driver(
        exe=exe, env=env, scratch=scratch, label="floor",
        client_args=["--config", str(user_ini), "run"],
        plan={"username": info.username, "password": info.password, "answers": [],
              "timeout_s": 60, "screenshots": screenshots, "expect_refused": [
                  f"本机客户端版本 {__version__} 已不能用于本场考试", "要求 99.0",
                  "旧版本不再使用", "考试平台「客户端下载」页"]})
    print(f"frozen client below the version floor: "
          f"{json.dumps(refused, ensure_ascii=False)}")
    set_floor(server.db, exam_id=info.exam_id, now_ms=server.clock.now_ms(),
              floor=VersionFloor(min_version=__version__))
    refresh_package(settings=ctx.settings, db=server.db, keys=ctx.keys, exam_id=info.exam_id)
    if not refused["ok"] or "refused" not in refused:
        return ["frozen run: a client below the exam's version floor was not refused"]
    if server.db.find_attempt(exam_id=info.exam_id, candidate_id=server.db
                              .candidates_by_username(info.username)[0].id) is not None:
        return ["frozen run: the refused login left an attempt on the server"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "ExamClient")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="save screenshots of the frozen demo exam here")
    args = parser.parse_args(argv)
    exe = args.bundle / "ExamClient"  # the windowed program candidates start
    if not exe.is_file():
        print(f"no frozen client at {exe}", file=sys.stderr)
        return 1
    for tool in ("Xvfb", "xdotool", "dbus-daemon", SYSTEM_PYTHON):
        if shutil.which(tool) is None:
            print(f"missing {tool} (scripts/setup.sh installs it)", file=sys.stderr)
            return 1

    from server.demo import DEMO_CANDIDATES, DEMO_PLEDGE_ZH, DEMO_PROCTOR_NAME
    from server.testing import live_server

    plan, expected = answer_plan()
    screenshots = None
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)
        screenshots = {"python": sys.executable, "folder": str(args.screenshots.resolve())}
    failures: list[str] = []
    scratch = Path(tempfile.mkdtemp(prefix="frozen-exam-"))
    try:
        with desktop_session() as env:
            # 1. the frozen demo: its own server, the whole exam.
            (scratch / "demo").mkdir()
            demo_tmp = scratch / "demo-tmp"
            demo_tmp.mkdir()
            # The demo's own server sets the upload interval in its package (3 s).
            write_user_ini(scratch / "demo" / "user.ini", {})
            camera = write_camera_frame(scratch / "demo" / "camera.png")
            demo = run_client_and_driver(
                exe=exe, env={**env, "TMPDIR": str(demo_tmp)}, scratch=scratch, label="demo",
                client_args=["--config", str(scratch / "demo" / "user.ini"),
                             "--camera-source", str(camera), "demo",
                             "--start-in", "40", "--duration", "30"],
                plan={"username": None, "password": None, "answers": plan,
                      "timeout_s": 120, "screenshots": screenshots,
                      "pledge": DEMO_PLEDGE_ZH,
                      "proctor": {"name": DEMO_PROCTOR_NAME, "password": None,
                                  "materials": {"room": "第01考场",
                                                "candidates": DEMO_CANDIDATES[0].student_no,
                                                "reason": "人脸识别未通过"}}},
                inspect=lambda: demo_server_facts(demo_tmp))
            print(f"frozen demo: {json.dumps(demo, ensure_ascii=False)}")
            failures += check_exam("frozen demo", demo, expected)
            if demo["ok"]:
                failures += check_exam_day("frozen demo", demo,
                                           candidate=DEMO_CANDIDATES[0].student_no)

            # 2. exam-client run against a reference server started here.
            with live_server(scratch / "server", demo=True, start_in_s=70,
                             duration_s=1800, sync_interval_s=1.0) as server:
                info = server.demo
                assert info is not None
                user_ini = scratch / "run-user.ini"
                write_user_ini(user_ini, {"data": {"directory": str(scratch / "run-data")}})
                # The reference server speaks plain http on 127.0.0.1: a lab network.
                env = {**env, **machine_config_env(scratch / "run-machine", {
                    "server": {"url": server.url, "center_id": info.center_id,
                               "allow_plain_http": "true"}})}
                # The admin's readiness check on the installed copy comes first (without
                # a report the client opens on the readiness screen).
                failures += compare_readiness_checks(
                    frozen=[str(args.bundle / "ExamClient-console")],
                    source=[sys.executable, "-m", "client"], user_ini=user_ini, env=env,
                    scratch=scratch)
                failures += check_version_floor(exe=exe, env=env, scratch=scratch,
                                                user_ini=user_ini, server=server,
                                                screenshots=screenshots)
                run = run_client_and_driver(
                    exe=exe, env=env, scratch=scratch, label="run",
                    client_args=["--config", str(user_ini), "run"],
                    plan={"username": info.username, "password": info.password,
                          "answers": plan, "timeout_s": 120, "enforced": True},
                    inspect=lambda: attempt_facts(server.db, info.exam_id, info.username))
                print(f"frozen run: {json.dumps(run, ensure_ascii=False)}")
                if "gate" in run:
                    # A virtual machine: logged in and preloaded, exam closed by design.
                    if not run["ok"] or run.get("server_attempt") is None:
                        failures.append("frozen run: no login reached the server")
                    print("frozen run: the enforced integrity check keeps the exam closed "
                          "on this (virtual) machine; login and preload went through")
                else:
                    failures += check_exam("frozen run", run, expected)
    finally:
        if args.keep:
            print(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        print("\nFROZEN EXAM FAILED:\n  - " + "\n  - ".join(failures), file=sys.stderr)
        return 1
    print("\nfrozen exam OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
