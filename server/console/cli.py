"""``exam-server add-console-account`` and ``exam-server assign-seats``."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import Any

from client.i18n import _
from server.console.accounts import create_account
from server.console.roles import Role
from server.console.seating import assign, parse_csv


def cmd_add_account(args: argparse.Namespace) -> int:
    from server.cli import open_context

    ctx = open_context(args)
    password = args.password or secrets.token_urlsafe(9)
    account = create_account(ctx.db, username=args.username, display_name=args.name or "",
                             role=Role(args.role), center_id=args.center, room=args.room,
                             password=password, now_ms=ctx.clock.now_ms())
    print(_("控制台账号 {user}（{role}）已保存，密码：{password}").format(
        user=account.username, role=account.role.label, password=password))
    return 0


def cmd_assign_seats(args: argparse.Namespace) -> int:
    from server.candidates import read_csv_text
    from server.cli import open_context

    ctx = open_context(args)
    count = assign(ctx.db, exam_id=args.exam, rows=parse_csv(read_csv_text(args.csv)))
    print(_("已为考试 {exam} 安排 {n} 个座位").format(exam=args.exam, n=count))
    return 0


def register_cli(subparsers: Any) -> None:
    from server.cli import add_data_argument

    account = subparsers.add_parser(
        "add-console-account", help=_("添加考场监控台账号（监考教师、主考或管理员）"))
    add_data_argument(account)
    account.add_argument("username")
    account.add_argument("--role", choices=[r.value for r in Role], required=True)
    account.add_argument("--center", default=None, help=_("考点编号（监考教师和主考必填）"))
    account.add_argument("--room", default=None, help=_("考场（监考教师必填）"))
    account.add_argument("--name", default=None, help=_("显示的姓名"))
    account.add_argument("--password", default=None, help=_("指定密码（默认随机生成）"))
    account.set_defaults(func=cmd_add_account)

    seats = subparsers.add_parser(
        "assign-seats", help=_("导入考场安排表（CSV：考生,考场,座位号）"))
    add_data_argument(seats)
    seats.add_argument("exam")
    seats.add_argument("--csv", type=Path, required=True)
    seats.set_defaults(func=cmd_assign_seats)
