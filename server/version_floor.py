"""The lowest client version an exam accepts ("下载最新版本客户端，旧版本不再使用").

The chief examiner sets it per exam (``exam-server set-version-floor EXAM 1.2.2-0
[--download WHERE]``). It goes into the signed package header (client/paper/exam_rules.py)
and is enforced at login: an older client is refused with 403 ``client_too_old`` naming
the version it has, the one it needs and where the admin gets it. ``GET
/client-version-floor`` tells the readiness check the floor of the exams still to come,
so a PC with an old client is found the day before, not at the door.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import BigInteger, Column, String, Table, select

from client.i18n import _
from client.paper.exam_rules import VersionFloor, parse_version
from server import schema as t
from server.auth import Context
from server.db import Database, Exam
from server.errors import ApiError
from server.lazy_tables import create_once

router = APIRouter()

version_floors = Table(
    "exam_version_floors",
    t.metadata,
    Column("exam_id", String(64), primary_key=True),
    Column("min_version", String(40), nullable=False),
    Column("download_hint", String(500), nullable=False),
    Column("set_at_ms", BigInteger, nullable=False),
)

_USER_AGENT = re.compile(r"ExamClient/(\S+)")


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[version_floors])


def set_floor(db: Database, *, exam_id: str, floor: VersionFloor, now_ms: int) -> None:
    ensure_tables(db)
    with db.write() as conn:
        conn.execute(version_floors.delete().where(version_floors.c.exam_id == exam_id))
        conn.execute(version_floors.insert().values(
            exam_id=exam_id, min_version=floor.min_version,
            download_hint=floor.download_hint, set_at_ms=now_ms))


def floor_for(db: Database, exam_id: str) -> VersionFloor | None:
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(select(version_floors).where(
            version_floors.c.exam_id == exam_id)).first()
    if row is None:
        return None
    return VersionFloor(min_version=row.min_version, download_hint=row.download_hint)


def version_floor_extra(db: Database, exam_id: str) -> dict[str, object]:
    """The package header fragment (empty when the exam names no floor)."""
    floor = floor_for(db, exam_id)
    return floor.to_extra() if floor is not None else {}


def reported_version(*, body_version: str, user_agent: str) -> str:
    """The version a client states: the login field, else its ``ExamClient/x`` user agent
    (clients from before the floor existed only send the latter)."""
    if body_version.strip():
        return body_version.strip()[:40]
    match = _USER_AGENT.search(user_agent)
    return match.group(1)[:40] if match else ""


def check_login(db: Database, *, exam: Exam, client_version: str) -> None:
    """Refuse a client older than the exam's floor (raises ApiError 403 client_too_old)."""
    floor = floor_for(db, exam.id)
    if floor is None or floor.accepts(client_version):
        return
    raise ApiError(403, "client_too_old", client_version=client_version or "?",
                   min_version=floor.min_version, download_hint=floor.where())


@router.get("/client-version-floor")
def current_floor(ctx: Context) -> dict[str, Any]:
    """The highest floor of the exams that have not ended (for ``exam-client check``)."""
    now = ctx.clock.now_ms()
    floors = [(floor, exam) for exam in ctx.db.list_exams() if exam.end_ms > now
              for floor in [floor_for(ctx.db, exam.id)] if floor is not None]
    if not floors:
        return {"min_version": None, "download_hint": "", "exam_id": None}
    floor, exam = max(floors, key=lambda pair: parse_version(pair[0].min_version))
    return {"min_version": floor.min_version, "download_hint": floor.where(),
            "exam_id": exam.id}


def login_version(request: Request, body_version: str) -> str:
    return reported_version(body_version=body_version,
                            user_agent=request.headers.get("user-agent", ""))


def cmd_set_version_floor(args: argparse.Namespace) -> int:
    from server.cli import open_context
    from server.papers import refresh_package

    ctx = open_context(args)
    if ctx.db.get_exam(args.exam) is None:
        print(_("找不到考试 {exam}").format(exam=args.exam))
        return 1
    try:
        floor = VersionFloor(min_version=args.version, download_hint=args.download or "")
    except ValueError:
        print(_("版本号格式不正确：{version}（例如 1.2.2-0）").format(version=args.version))
        return 1
    set_floor(ctx.db, exam_id=args.exam, floor=floor, now_ms=ctx.clock.now_ms())
    refresh_package(settings=ctx.settings, db=ctx.db, keys=ctx.keys, exam_id=args.exam)
    print(_("考试 {exam} 只接受 {version} 及以上版本的客户端；旧版本将在登录时被拒绝").format(
        exam=args.exam, version=floor.min_version))
    return 0


def register_cli(subparsers: Any) -> None:
    from server.cli import add_data_argument

    parser = subparsers.add_parser(
        "set-version-floor", help=_("设置考试接受的最低客户端版本（旧版本登录时被拒绝）"))
    add_data_argument(parser)
    parser.add_argument("exam")
    parser.add_argument("version", help=_("最低版本号，例如 1.2.2-0"))
    parser.add_argument("--download", default=None,
                        help=_("管理员获取新版本的地址（网址或页面名称）"))
    parser.set_defaults(func=cmd_set_version_floor)
