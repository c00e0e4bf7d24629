"""``exam-server add-console-account`` and ``exam-server assign-seats``."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import Any

from client.errors import UserFacingError
from client.i18n import _
from server.console.accounts import create_account
from server.console.identity import check_id_number, check_photo, set_real_name
from server.console.roles import Role
from server.console.seating import assign, parse_csv
from server.real_names import check_real_name


def cmd_add_account(args: argparse.Namespace) -> int:
    from server.cli import open_context

    ctx = open_context(args)
    password = args.password or secrets.token_urlsafe(9)
    try:
        # Checked before the account changes: a typo must not leave it half registered.
        real_name = check_real_name(args.name)
        id_number = check_id_number(args.id_number) if args.id_number else None
        photo = check_photo(args.photo.read_bytes()) if args.photo else None
        if photo is not None and id_number is None:
            raise UserFacingError("console.photo_without_id", _("登记照片时须同时提供身份证号"))
        account = create_account(ctx.db, username=args.username,
                                 display_name=real_name, role=Role(args.role),
                                 center_id=args.center, room=args.room, password=password,
                                 now_ms=ctx.clock.now_ms())
        if id_number is not None:
            set_real_name(ctx.db, ctx.keys, username=account.username, id_number=id_number,
                          photo=photo)
    except UserFacingError as error:
        print(error.message)
        return 1
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
    account.add_argument("--name", required=True,
                         help=_("本人真实姓名（监控台、操作记录和应急材料都以此署名）"))
    account.add_argument("--id-number", default=None,
                         help=_("身份证号（实名，监控台只显示首六位和末四位）"))
    account.add_argument("--photo", type=Path, default=None,
                         help=_("本人正面照片（JPEG），显示在监控台顶栏"))
    account.add_argument("--password", default=None, help=_("指定密码（默认随机生成）"))
    account.set_defaults(func=cmd_add_account)

    seats = subparsers.add_parser(
        "assign-seats", help=_("导入考场安排表（CSV：考生,考场,座位号）"))
    add_data_argument(seats)
    seats.add_argument("exam")
    seats.add_argument("--csv", type=Path, required=True)
    seats.set_defaults(func=cmd_assign_seats)
