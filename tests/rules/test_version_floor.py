"""Version floor: an older client is refused at login with the version it has, the one it
needs and where the admin gets it; the package carries the floor for offline logins; the
readiness check reports it per PC."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from rules_support import make_session, rebuild_package

from client import __version__
from client.paper.exam_rules import VersionFloor, parse_version, version_floor_from_extra
from client.readiness.client_version import evaluate_client_version, fetch_floor
from client.readiness.result import Status
from client.session.version_floor import package_refusal
from client.sync.errors import ServerRefused
from server import cli as server_cli
from server.testing import LiveServer
from server.version_floor import floor_for, set_floor

WHERE = "https://exam.example.edu.cn/download"


def _set_floor(server: LiveServer, version: str, where: str = WHERE) -> None:
    assert server.demo is not None
    set_floor(server.db, exam_id=server.demo.exam_id,
              floor=VersionFloor(min_version=version, download_hint=where),
              now_ms=server.clock.now_ms())
    rebuild_package(server)


def test_versions_compare_like_the_platform_writes_them() -> None:
    assert parse_version("1.2.2-0") == parse_version("1.2.2") == parse_version("1.2.2.0")
    assert parse_version("1.2.2-1") > parse_version("1.2.2-0")
    assert parse_version("1.10.0") > parse_version("1.9.9")
    assert parse_version("0.1.0") < parse_version("1.2.2-0")
    assert not VersionFloor("1.2.2-0").accepts("")
    assert not VersionFloor("1.2.2-0").accepts("dev-build")
    with pytest.raises(ValueError):
        VersionFloor("latest")


def test_old_client_is_refused_at_login_with_have_need_and_where(server: LiveServer,
                                                                  tmp_path: Path) -> None:
    assert server.demo is not None
    _set_floor(server, "99.0.0-0")
    session = make_session(server, tmp_path / "pc")
    with pytest.raises(ServerRefused) as refused:
        session.login(username=server.demo.username, password=server.demo.password)
    error = refused.value
    assert error.code == "client_too_old" and error.status == 403
    assert error.detail["client_version"] == __version__
    assert error.detail["min_version"] == "99.0.0-0"
    assert (f"本机客户端版本 {__version__} 已不能用于本场考试（要求 99.0.0-0 或更高版本），"
            f"旧版本不再使用。请考点管理员从 {WHERE} 下载最新版本客户端并安装") == error.message
    session.close()


def test_current_client_logs_in_and_its_version_is_recorded(server: LiveServer,
                                                            tmp_path: Path) -> None:
    assert server.demo is not None
    _set_floor(server, __version__)
    session = make_session(server, tmp_path / "pc")
    result = session.login(username=server.demo.username, password=server.demo.password)
    logins = [e for e in server.db.events(kind="login")]
    assert logins[-1].payload["client_version"] == __version__
    assert result.exam.id == server.demo.exam_id
    session.close()


def test_client_from_before_the_floor_is_judged_by_its_user_agent(server: LiveServer) -> None:
    """Older clients send no version field, only ``User-Agent: ExamClient/x``."""
    assert server.demo is not None
    _set_floor(server, "1.2.2-0")
    body = {"username": server.demo.username, "password": server.demo.password,
            "center_id": server.demo.center_id, "client_id": "old-pc"}
    old = requests.post(server.api("/login"), json=body, timeout=10,
                        headers={"User-Agent": "ExamClient/1.2.1"})
    assert old.status_code == 403
    assert old.json() == {"error": "client_too_old", "detail": {
        "client_version": "1.2.1", "min_version": "1.2.2-0", "download_hint": WHERE}}
    unknown = requests.post(server.api("/login"), json=body, timeout=10,
                            headers={"User-Agent": "curl/8"})
    assert unknown.status_code == 403 and unknown.json()["detail"]["client_version"] == "?"
    ok = requests.post(server.api("/login"), json={**body, "client_version": "1.2.2-0"},
                       timeout=10, headers={"User-Agent": "ExamClient/1.2.1"})
    assert ok.status_code == 200, ok.text


def test_no_floor_means_no_check(server: LiveServer) -> None:
    assert server.demo is not None
    assert floor_for(server.db, server.demo.exam_id) is None
    body = {"username": server.demo.username, "password": server.demo.password,
            "center_id": server.demo.center_id, "client_id": "pc"}
    assert requests.post(server.api("/login"), json=body, timeout=10).status_code == 200


def test_the_signed_package_carries_the_floor_for_offline_logins(server: LiveServer,
                                                                 tmp_path: Path) -> None:
    assert server.demo is not None
    _set_floor(server, __version__)
    session = make_session(server, tmp_path / "pc")
    session.login(username=server.demo.username, password=server.demo.password)
    header = session.preload()
    floor = version_floor_from_extra(header.extra)
    assert floor == VersionFloor(min_version=__version__, download_hint=WHERE)
    assert package_refusal(header.extra) is None
    refusal = package_refusal(header.extra, version="0.0.1")
    assert refusal is not None and refusal.code == "client_too_old"
    assert "0.0.1" in refusal.message and __version__ in refusal.message
    assert WHERE in refusal.message
    session.close()


def test_readiness_check_reports_the_floor_per_pc(server: LiveServer, tmp_path: Path) -> None:
    def answer() -> dict[str, object] | None:
        found = fetch_floor(url=server.url, ca_file=None, cache_dir=tmp_path, timeout_s=5)
        return None if found is None else dict(found)

    no_floor = evaluate_client_version(answer())
    assert no_floor.status is Status.PASS and "未规定最低版本" in no_floor.message
    _set_floor(server, "1.2.2-0")
    old = evaluate_client_version(answer(), version="1.2.1")
    assert old.status is Status.FAIL
    assert old.message == ("客户端版本 1.2.1 过旧，考试要求 1.2.2-0 或更高版本，旧版本不再使用。"
                           f"请从 {WHERE} 下载最新版本客户端并安装")
    assert evaluate_client_version(answer(), version="1.2.2").status is Status.PASS
    assert evaluate_client_version(None).status is Status.WARN
    # An exam that has ended no longer holds PCs back.
    server.clock.advance(ms=5_000_000)  # type: ignore[attr-defined]
    assert evaluate_client_version(answer(), version="1.2.1").status is Status.PASS


def test_cli_sets_the_floor_and_refuses_a_malformed_one(server: LiveServer,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert server.demo is not None
    data = ["--data", str(server.data_dir)]
    assert server_cli.main(["set-version-floor", *data, server.demo.exam_id, "latest"]) == 1
    assert "版本号格式不正确" in capsys.readouterr().out
    assert server_cli.main(["set-version-floor", *data, server.demo.exam_id, "1.2.2-0",
                            "--download", WHERE]) == 0
    assert floor_for(server.db, server.demo.exam_id) == VersionFloor("1.2.2-0", WHERE)


def test_console_shows_each_seats_version_and_marks_old_ones(server: LiveServer) -> None:
    from admin_web import admin_session

    assert server.demo is not None
    body = {"username": server.demo.username, "password": server.demo.password,
            "center_id": server.demo.center_id, "client_id": "pc-07"}
    assert requests.post(server.api("/login"), json={**body, "client_version": "1.2.1"},
                         timeout=10).status_code == 200
    _set_floor(server, "1.2.2-0")  # raised after this PC logged in
    page = admin_session(server).get(f"{server.url}/admin/seats", timeout=10).text
    row = page[page.index(f'id="seat-{server.demo.username}"'):]
    row = row[:row.index("</tr>")]
    assert '<span class="old">1.2.1</span>' in row and "低于要求的 1.2.2-0" in row
    assert "最低客户端版本：1.2.2-0" in page
    other = server.demo.candidates[1].student_no
    assert "未登录" in page[page.index(f'id="seat-{other}"'):]
