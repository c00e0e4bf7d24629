"""Run every readiness check, print the report, save it, send it to the server.

``run_readiness`` is what ``exam-client check`` calls; the first-start screen
(client/ui/readiness_screen.py) calls ``collect_results`` on a worker thread.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import requests

from client.config import SettingProblem, Settings
from client.i18n import _
from client.readiness import (
    camera,
    client_version,
    config_trust,
    display,
    integrity,
    network,
    system,
    ucrt,
)
from client.readiness.report import (
    build_report,
    exit_code,
    format_line,
    machine_identity,
    report_json,
    summary_line,
)
from client.readiness.result import CheckResult, Status
from client.render.sentinel import read_remembered
from client.sync.api import API_PREFIX, ca_bundle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadinessContext:
    """Everything the checks need, taken from the settings once."""

    data_dir: Path
    data_dir_configured: bool
    server_url: str
    center_id: str
    ca_file: Path | None
    timeout_s: float
    camera_enabled: bool
    camera_device: str
    camera_source: Path | None
    screen_probe: display.ScreenProbe
    opengl_probe: display.OpenGLProbe
    render_level: str = "auto"  # [OpenGL] Level: "auto" or a fixed level
    setting_problems: tuple[SettingProblem, ...] = ()

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @classmethod
    def from_settings(cls, settings: Settings, *,
                      screen_probe: display.ScreenProbe | None = None,
                      opengl_probe: display.OpenGLProbe | None = None) -> ReadinessContext:
        default_screen, default_opengl = display.subprocess_probes()
        return cls(
            data_dir=settings.data_dir,
            data_dir_configured=settings.get("data/directory") is not None,
            server_url=str(settings.get("server/url")),
            center_id=str(settings.get("server/center_id")),
            ca_file=settings.get("server/ca_file"),
            timeout_s=float(settings.get("server/timeout_seconds")),
            camera_enabled=bool(settings.get("camera/enabled")),
            camera_device=str(settings.get("camera/device")),
            camera_source=settings.get("camera/source"),
            screen_probe=screen_probe or default_screen,
            opengl_probe=opengl_probe or default_opengl,
            render_level=str(settings.get("OpenGL/Level")),
            setting_problems=settings.problems,
        )


def _guarded(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    """One broken check must not hide the others: it becomes a failed line with the error."""
    try:
        return check()
    except Exception as exc:
        log.exception("readiness check %s crashed", name)
        return CheckResult(name, Status.FAIL, _("检查时出错：{error}").format(
            error=f"{type(exc).__name__}: {exc}"), {"exception": repr(exc)})


def collect_results(context: ReadinessContext, *,
                    on_result: Callable[[CheckResult], None] | None = None
                    ) -> list[CheckResult]:
    """Run every check in report order; *on_result* sees each line as soon as it is known."""
    results: list[CheckResult] = []

    def add(name: str, check: Callable[[], CheckResult]) -> None:
        result = _guarded(name, check)
        results.append(result)
        if on_result is not None:
            on_result(result)

    add("os", lambda: system.evaluate_os(system.os_facts()))
    add("ucrt", ucrt.check_ucrt)
    add("memory", system.check_memory)
    add("data_dir", lambda: system.check_data_dir(context.data_dir,
                                                  configured=context.data_dir_configured))
    add("disk", lambda: system.check_disk(context.data_dir))
    add("exam_day", system.check_exam_day)
    add("screen", lambda: display.evaluate_screen(context.screen_probe()))
    add("opengl", lambda: display.with_remembered_level(
        display.evaluate_opengl(context.opengl_probe()),
        read_remembered(context.data_dir / "render"), configured=context.render_level))
    add("camera", lambda: camera.check_camera(
        enabled=context.camera_enabled, device=context.camera_device,
        source=context.camera_source, data_dir=context.data_dir))
    add("config", lambda: config_trust.evaluate_config_trust(
        context.setting_problems, server_url=context.server_url))
    facts_holder: list[network.ServerFacts] = []

    def server_check() -> CheckResult:
        facts_holder.append(network.probe_server(
            url=context.server_url, center_id=context.center_id, ca_file=context.ca_file,
            cache_dir=context.cache_dir, timeout_s=context.timeout_s))
        return network.evaluate_server(facts_holder[0])

    add("server", server_check)
    if facts_holder:
        facts = facts_holder[0]
        add("tls", lambda: network.evaluate_tls(facts, now_ms=time.time_ns() // 1_000_000))
        add("clock", lambda: network.evaluate_clock(facts))
        add("center_ip", lambda: network.evaluate_center_ip(facts, center_id=context.center_id))
        if facts.reachable:
            add("client_version", lambda: client_version.evaluate_client_version(
                client_version.fetch_floor(url=context.server_url, ca_file=context.ca_file,
                                           cache_dir=context.cache_dir,
                                           timeout_s=context.timeout_s)))
    add("integrity", integrity.check_integrity)
    return results


def upload_report(report: dict[str, object], *, context: ReadinessContext) -> str | None:
    """POST the report to the server so the admin sees this PC in the room list.

    Returns None on success, else why not (the check's verdict does not depend on it).
    """
    try:
        verify = ca_bundle(context.ca_file, cache_dir=context.cache_dir)
        response = requests.post(f"{context.server_url}{API_PREFIX}/readiness", json=report,
                                 timeout=context.timeout_s, verify=verify)
    except (OSError, requests.RequestException) as exc:
        return f"{type(exc).__name__}: {exc}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    return None


REPORT_FILE = "readiness-report.json"


def last_report_path(data_dir: Path) -> Path:
    """Where the latest report of this PC is kept (the first-start screen looks for it)."""
    return data_dir / REPORT_FILE


@dataclass(frozen=True)
class FinishedReport:
    report: dict[str, object]
    saved_to: list[Path]
    upload_problem: str | None   # None: uploaded (or not attempted, see ``uploaded``)
    uploaded: bool


def finish_report(results: Sequence[CheckResult], *, context: ReadinessContext,
                  out: Path | None, upload: bool) -> FinishedReport:
    """Build the JSON report, save it (to *out* and beside the data) and send it."""
    report = build_report(results, identity=machine_identity(), center_id=context.center_id,
                          server_url=context.server_url, data_dir=str(context.data_dir))
    text = report_json(report)
    saved: list[Path] = []
    targets = [last_report_path(context.data_dir), *([out] if out is not None else [])]
    for target in targets:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            saved.append(target)
        except OSError as exc:
            log.warning("cannot save the readiness report to %s: %s", target, exc)
    problem: str | None = None
    uploaded = False
    if upload and _server_usable(results):
        problem = upload_report(report, context=context)
        uploaded = problem is None
    return FinishedReport(report=report, saved_to=saved, upload_problem=problem,
                          uploaded=uploaded)


def run_readiness(*, settings: Settings, as_json: bool, out: Path | None,
                  stream: TextIO | None = None, upload: bool = True,
                  screen_probe: display.ScreenProbe | None = None,
                  opengl_probe: display.OpenGLProbe | None = None) -> int:
    """``exam-client check``: print the lines (or the JSON), save/send the report, exit code.

    Without probes, screen and OpenGL are measured by the GPU probe child process
    (display.subprocess_probes), so a graphics driver that crashes cannot end the check.
    """
    stream = stream if stream is not None else sys.stdout
    context = ReadinessContext.from_settings(settings, screen_probe=screen_probe,
                                             opengl_probe=opengl_probe)
    results = collect_results(
        context, on_result=None if as_json else lambda r: print(format_line(r), file=stream,
                                                                  flush=True))
    finished = finish_report(results, context=context, out=out, upload=upload)
    if as_json:
        stream.write(report_json(finished.report))
    else:
        print(summary_line(results), file=stream)
        if out is not None and out in finished.saved_to:
            print(_("检查报告已保存到 {path}").format(path=out), file=stream)
        if finished.uploaded:
            print(_("检查报告已上传到服务器"), file=stream)
    if finished.upload_problem is not None:
        print(_("检查报告未能上传到服务器：{error}").format(error=finished.upload_problem),
              file=sys.stderr)
    return exit_code(results)


def _server_usable(results: Sequence[CheckResult]) -> bool:
    return any(r.name == "server" and r.status is Status.PASS for r in results)
