"""Console staff by real name (issue 22): an account is created with the person's real
name (no fallback to the login name), and every audit record keeps the name the account
had when it acted, beside the login name, on the page and in the CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from console_helpers import console_login

from client.errors import UserFacingError
from server import cli as server_cli
from server.console.accounts import create_account, get_account
from server.console.roles import Role
from server.demo import DEMO_CANDIDATES, DEMO_CENTER_ID
from server.testing import LiveServer

ZHANG = DEMO_CANDIDATES[0]
ROOM = "第1考场"


def _create(srv: LiveServer, username: str, name: str) -> None:
    create_account(srv.db, username=username, display_name=name, role=Role.PROCTOR,
                   center_id=DEMO_CENTER_ID, room=ROOM, password="room1-pass",
                   now_ms=srv.clock.now_ms())


@pytest.mark.parametrize(("name", "code"), [
    ("", "staff.real_name_required"), ("   ", "staff.real_name_required"),
    ("王\u202e师老", "staff.bad_real_name"), ("王老师\x00", "staff.bad_real_name"),
    ("王" * 101, "staff.bad_real_name")])
def test_an_account_needs_a_real_name(srv: LiveServer, name: str, code: str) -> None:
    with pytest.raises(UserFacingError) as refused:
        _create(srv, "nameless", name)
    assert refused.value.code == code
    assert get_account(srv.db, "nameless") is None  # nothing half registered


def test_the_cli_requires_the_name(srv: LiveServer,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    command = ["add-console-account", "--data", str(srv.data_dir), "nameless", "--role",
               "proctor", "--center", DEMO_CENTER_ID, "--room", ROOM]
    with pytest.raises(SystemExit):
        server_cli.main(command)
    assert "--name" in capsys.readouterr().err
    assert server_cli.main([*command, "--name", " "]) == 1
    assert "真实姓名" in capsys.readouterr().out
    assert get_account(srv.db, "nameless") is None
    assert server_cli.main([*command, "--name", "钱老师", "--password", "qian-pass-1"]) == 0
    account = get_account(srv.db, "nameless")
    assert account is not None and account.display_name == "钱老师"


def test_audit_records_name_who_acted_then_beside_the_login_name(srv: LiveServer) -> None:
    """An account kept for a room is handed to another proctor: the earlier records still
    name the first one."""
    _create(srv, "room1", "赵老师")
    zhao = console_login(srv, "room1", "room1-pass")
    zhang_id = zhao.tile(ZHANG.student_no)["candidate_id"]
    assert zhao.act("mark_present", zhang_id, reason="").status_code == 200
    _create(srv, "room1", "孙老师")  # replaced: the old sessions end
    sun = console_login(srv, "room1", "room1-pass")
    assert sun.act("incident", zhang_id, category="device",
                   reason="鼠标失灵，已更换").status_code == 200

    page = sun.http.get(f"{srv.url}/console/audit", timeout=10).text
    actors = {row.split('data-action="')[1].split('"')[0]:
              row.split('<td class="actor">')[1].split("</td>")[0]
              for row in page.split("<tr ")[1:] if '<td class="actor">' in row}
    assert actors["mark_present"] == "赵老师（room1）"
    assert actors["incident"] == "孙老师（room1）"

    chief = console_login(srv, "zhukao")
    exported = chief.http.get(f"{srv.url}/console/audit.csv", timeout=10)
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    by_action = {(r["操作人账号"], r["操作"]): r["操作人姓名"] for r in rows}
    assert by_action[("room1", "标记到场")] == "赵老师"
    assert by_action[("room1", "记录违纪/异常")] == "孙老师"
    assert by_action[("zhukao", "登录控制台")] == "李主考"
