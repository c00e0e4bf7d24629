"""``exam-client check`` end to end: every check on this machine against a live server, the
JSON report, the upload, and the server's list of a center's PCs (HTTP and CLI)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from client.config import Settings
from client.readiness.report import EXIT_CODES, REPORT_FORMAT, format_line
from client.readiness.result import CheckResult, Status
from client.readiness.runner import last_report_path, run_readiness
from server import cli as server_cli
from server.readiness import latest_reports
from server.testing import LiveServer

SettingsFactory = Callable[..., Settings]  # the make_settings fixture (conftest.py)

ALL_CHECKS = ["os", "ucrt", "memory", "data_dir", "disk", "exam_day", "screen", "opengl",
              "camera", "config", "server", "tls", "clock", "center_ip", "client_version",
              "integrity"]


def test_check_prints_a_line_per_check_saves_uploads_and_exits_by_the_worst(
        server: LiveServer, make_settings: SettingsFactory, tmp_path: Path) -> None:
    settings = make_settings(url=server.url, center_id="demo-center")
    out = tmp_path / "reports" / "pc-01.json"
    stream = io.StringIO()
    code = run_readiness(settings=settings, as_json=False, out=out, stream=stream)

    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["format"] == REPORT_FORMAT
    assert [c["name"] for c in report["checks"]] == ALL_CHECKS
    assert code == report["exit_code"] == EXIT_CODES[Status(report["overall"])]
    lines = stream.getvalue().splitlines()
    for check in report["checks"]:
        result = CheckResult(check["name"], Status(check["status"]), check["message"])
        assert format_line(result) in lines
    assert "检查报告已上传到服务器" in lines
    # The data folder keeps the last report: the first-start screen knows the PC was checked.
    assert json.loads(last_report_path(settings.data_dir).read_text(encoding="utf-8")) == report

    [pc] = latest_reports(server.db, "demo-center")
    assert pc.machine_id == report["machine_id"]
    assert pc.overall == report["overall"]
    assert pc.seen_ip == "127.0.0.1"
    failing = {c["name"] for c in report["checks"] if c["status"] != "pass"}
    assert {p.split(":")[0] for p in pc.problems} == failing


def test_json_output_is_the_report(server: LiveServer, make_settings: SettingsFactory) -> None:
    stream = io.StringIO()
    code = run_readiness(settings=make_settings(url=server.url, center_id="demo-center"),
                         as_json=True, out=None, stream=stream, upload=False)
    report = json.loads(stream.getvalue())
    assert report["exit_code"] == code
    assert report["center_id"] == "demo-center"
    assert latest_reports(server.db, "demo-center") == []  # upload=False sent nothing


def test_the_server_lists_the_latest_report_of_each_pc(server: LiveServer) -> None:
    def report(machine: str, overall: str) -> dict[str, object]:
        return {"format": REPORT_FORMAT, "center_id": "demo-center", "machine_id": machine,
                "hostname": machine.split("/")[0], "overall": overall,
                "checks": [{"name": "memory", "status": overall, "message": "内存 2.0 GB"}]}

    for body in (report("PC-02/aa", "fail"), report("PC-01/bb", "pass"),
                 report("PC-02/aa", "warn")):  # PC-02 fixed and reported again
        assert requests.post(server.api("/readiness"), json=body, timeout=5).status_code == 200
    unknown = requests.post(server.api("/readiness"),
                            json={**report("X/1", "pass"), "center_id": "nowhere"}, timeout=5)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_center"

    demo = server.demo
    assert demo is not None
    login = requests.post(server.api("/admin/login"), timeout=5,
                          json={"username": demo.admin_username,
                                "password": demo.admin_password})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    listing = requests.get(server.api("/centers/demo-center/readiness"), headers=headers,
                           timeout=5).json()
    assert [(pc["hostname"], pc["overall"]) for pc in listing["pcs"]] == [
        ("PC-01", "pass"), ("PC-02", "warn")]
    assert listing["counts"] == {"pass": 1, "warn": 1, "fail": 0}
    assert requests.get(server.api("/centers/demo-center/readiness"),
                        timeout=5).status_code == 401


def test_exam_server_readiness_command(server: LiveServer,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    body = {"format": REPORT_FORMAT, "center_id": "demo-center", "machine_id": "PC-07/cc",
            "hostname": "PC-07", "overall": "fail",
            "checks": [{"name": "camera", "status": "fail", "message": "摄像头画面全黑"}]}
    requests.post(server.api("/readiness"), json=body, timeout=5).raise_for_status()
    data = ["--data", str(server.data_dir)]
    assert server_cli.main(["readiness", "demo-center", *data]) == 1  # a PC is not ready
    table = capsys.readouterr().out
    assert "PC-07" in table
    assert "camera: 摄像头画面全黑" in table
    assert server_cli.main(["readiness", "demo-center", "--json", *data]) == 1
    listing = json.loads(capsys.readouterr().out)
    assert listing["counts"]["fail"] == 1
    assert server_cli.main(["readiness", "no-reports-yet", *data]) == 1
    assert "no-reports-yet" in capsys.readouterr().out
