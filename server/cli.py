"""``exam-server``: set up and run the reference exam server.

    exam-server init-demo [--data DIR] [--start-in SECONDS] [--duration MINUTES]
    exam-server serve [--host H] [--port P] [--data DIR] [--trust-proxy] [--workers N]
    exam-server add-center ID NAME [--allowed-ip IP ...] [--address ADDRESS]
    exam-server add-admin USERNAME --name REAL_NAME [--center ID] [--password PW]
    exam-server add-candidates --csv FILE --exam EXAM
    exam-server import-paper FILE --exam EXAM --start ISO --end ISO [--title T] [--replace]
    exam-server results EXAM
    exam-server offline-codes EXAM                  start code and proctor secret
    exam-server authorize-login EXAM CANDIDATE      approve a held second login
    exam-server authorization-code EXAM CANDIDATE   the code a proctor types instead
    exam-server refresh-package EXAM                rebuild after candidates changed

Every command takes ``--data DIR`` (default: $EXAM_SERVER_DATA or ./exam-server-data).
Modules named in EXTENSION_MODULES add their own commands through ``register_cli``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from client.errors import UserFacingError
from client.i18n import _, set_language
from server import cli_output
from server.clock import SystemClock
from server.config import ServerSettings, default_data_dir
from server.context import ServerContext
from server.db import Database
from server.keys import ensure_keys

# Modules exposing ``register_cli(subparsers)``; each sets ``func=handler(args) -> int``
# on its subparsers (use add_data_argument and open_context below).
EXTENSION_MODULES: list[str] = [
    "server.offline_import",
    "server.readiness",
    "server.photo_check",
    "server.review",
    "server.base_photos",
    "server.proctors",
    "server.identity_audit",
    "server.integrity_rules",
    "server.version_floor",
    "server.pledges",
    "server.console.cli",
    "server.materials",
    "server.photo_report",
]

Handler = Callable[[argparse.Namespace], int]

LANG_ENV = "EXAM_SERVER_LANG"


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=None, help="data directory")


def open_context(args: argparse.Namespace, **overrides: object) -> ServerContext:
    """Settings, keys (created if missing) and database (schema created if missing)."""
    return context_for_data_dir(args.data or default_data_dir(), **overrides)


def context_for_data_dir(data_dir: Path, **overrides: object) -> ServerContext:
    settings = ServerSettings.load(data_dir, **overrides)
    keys = ensure_keys(data_dir)
    db = Database(settings.effective_database_url, pool_size=settings.db_pool_size)
    db.init_schema()
    return ServerContext.build(settings=settings, db=db, keys=keys, clock=SystemClock())


def parse_time(text: str) -> int:
    """ISO 8601 to epoch ms; a time without zone is the server machine's local time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _("时间格式应为 ISO 8601，例如 2025-06-01T09:00+08:00：{text}").format(text=text)
        ) from exc
    return int(moment.astimezone().timestamp() * 1000)


def cmd_init_demo(args: argparse.Namespace) -> int:
    from server.demo import install_demo

    ctx = open_context(args)
    info = install_demo(
        settings=ctx.settings,
        db=ctx.db,
        keys=ctx.keys,
        clock=ctx.clock,
        start_in_s=args.start_in,
        duration_s=args.duration * 60,
        paper_source=args.paper,
    )
    cli_output.print_demo(info, data_dir=ctx.settings.data_dir)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.testing import UVICORN_OPTIONS, uvicorn_config

    ctx = open_context(
        args, host=args.host, port=args.port, trust_proxy=True if args.trust_proxy else None,
        workers=args.workers,
    )
    workers = ctx.settings.workers
    if workers <= 1:
        config = uvicorn_config(
            create_app(ctx, freeze_startup_objects=True), host=ctx.settings.host,
            port=ctx.settings.port, log_level="info"
        )
        uvicorn.Server(config).run()
        return 0
    # Each worker builds its own context from the same data directory and settings (the
    # environment carries what was given on this command line); the schema exists now.
    ctx.db.close()
    os.environ["EXAM_SERVER_DATA"] = str(ctx.settings.data_dir.resolve())
    os.environ["EXAM_SERVER_WORKERS"] = str(workers)
    os.environ["EXAM_SERVER_TRUST_PROXY"] = "1" if ctx.settings.trust_proxy else "0"
    uvicorn.run("server.app:app_from_environment", factory=True, workers=workers,
                host=ctx.settings.host, port=ctx.settings.port, log_level="info",
                **UVICORN_OPTIONS)
    return 0


def cmd_add_center(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    ctx.db.upsert_center(center_id=args.id, name=args.name, allowed_ips=args.allowed_ip)
    if args.address is not None:  # not given: the stored address stays
        from server.center_address import set_center_address

        set_center_address(ctx.db, center_id=args.id, address=args.address)
    print(_("考点 {center} 已保存").format(center=args.id))
    return 0


def cmd_add_admin(args: argparse.Namespace) -> int:
    from server.passwords import hash_admin_password

    ctx = open_context(args)
    if args.center and ctx.db.get_center(args.center) is None:
        raise UserFacingError(
            "candidate.unknown_center", _("考点 {center} 不存在").format(center=args.center)
        )
    from server.real_names import check_real_name

    # A new admin must be registered by real name (their uploads are signed with it); an
    # existing one keeps the stored name unless --name gives another.
    existing = ctx.db.get_admin(args.username)
    real_name = (check_real_name(args.name) if args.name is not None or existing is None
                 else None)
    password = args.password or secrets.token_urlsafe(9)
    ctx.db.upsert_admin(
        username=args.username, password_hash=hash_admin_password(password),
        center_id=args.center, real_name=real_name,
    )
    print(_("管理员 {user} 已保存，密码：{password}").format(user=args.username, password=password))
    if existing is not None and existing.real_name is None and real_name is None:
        print(_("注意：该管理员尚未登记真实姓名，请用 --name 登记（上传的应急材料以真实姓名署名）"))
    return 0


def cmd_add_candidates(args: argparse.Namespace) -> int:
    from server.candidates import import_candidates_csv

    ctx = open_context(args)
    report = import_candidates_csv(ctx.db, path=args.csv, exam_id=args.exam)
    cli_output.print_csv_report(report)
    if report.added or report.updated:
        _refresh(ctx, args.exam)
    return 1 if report.errors else 0


def _refresh(ctx: ServerContext, exam_id: str) -> None:
    from server.papers import refresh_package

    exam = refresh_package(settings=ctx.settings, db=ctx.db, keys=ctx.keys, exam_id=exam_id)
    print(_("试卷包已按当前考生名单重新生成（离线登录数据）：{file}").format(
        file=exam.package_path))


def cmd_refresh_package(args: argparse.Namespace) -> int:
    _refresh(open_context(args), args.exam)
    return 0


def cmd_offline_codes(args: argparse.Namespace) -> int:
    from server.offline_package import exam_codes

    ctx = open_context(args)
    codes = exam_codes(ctx.db, ctx.keys, args.exam)
    if codes is None:
        raise UserFacingError("exam.unknown", _("考试 {exam} 不存在").format(exam=args.exam))
    cli_output.print_offline_codes(codes)
    return 0


def cmd_authorize_login(args: argparse.Namespace) -> int:
    from server.api_admin import authorize_login

    ctx = open_context(args)
    approved = authorize_login(ctx.db, exam_id=args.exam, who=args.candidate,
                               approved_by="cli", now_ms=ctx.clock.now_ms())
    cli_output.print_authorized(approved, who=args.candidate,
                                ttl_s=ctx.settings.login_approval_ttl_s)
    return 0


def cmd_authorization_code(args: argparse.Namespace) -> int:
    from client.session.authorization import authorization_code, valid_until_ms, window_of
    from server.api_admin import find_exam_candidate
    from server.offline_package import exam_codes

    ctx = open_context(args)
    candidate = find_exam_candidate(ctx.db, exam_id=args.exam, who=args.candidate)
    codes = exam_codes(ctx.db, ctx.keys, args.exam)
    assert codes is not None  # every imported exam has them
    window = window_of(ctx.clock.now_ms())
    code = authorization_code(proctor_secret=codes.proctor_secret, exam_id=args.exam,
                              student_no=candidate.student_no, window=window)
    cli_output.print_authorization_code(code, candidate=candidate,
                                        valid_until_ms=valid_until_ms(window))
    return 0


def cmd_import_paper(args: argparse.Namespace) -> int:
    from server.papers import import_paper

    ctx = open_context(args)
    exam = import_paper(
        settings=ctx.settings,
        db=ctx.db,
        keys=ctx.keys,
        source_path=args.file,
        exam_id=args.exam,
        title=args.title,
        start_ms=args.start,
        end_ms=args.end,
        replace=args.replace,
    )
    cli_output.print_exam(exam)
    return 0


def cmd_results(args: argparse.Namespace) -> int:
    from server.app import sweep

    ctx = open_context(args)
    if ctx.db.get_exam(args.exam) is None:
        raise UserFacingError("exam.unknown", _("考试 {exam} 不存在").format(exam=args.exam))
    sweep(ctx)  # auto-submit ended attempts and score what is pending, so the table is current
    cli_output.print_results(ctx.db.exam_results(args.exam))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exam-server", description=_("考试服务器（参考实现）"))
    parser.add_argument(
        "--lang", choices=("zh_CN", "en"), default=os.environ.get(LANG_ENV, "zh_CN")
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        add_data_argument(p)
        p.set_defaults(func=func)
        return p

    p = command("init-demo", cmd_init_demo, _("创建密钥和演示数据（考点、管理员、考生、演示考试）"))
    p.add_argument("--start-in", type=float, default=300.0, metavar="SECONDS")
    p.add_argument("--duration", type=float, default=60.0, metavar="MINUTES")
    p.add_argument("--paper", type=Path, default=None, help=_("试卷源（默认为内置演示试卷）"))

    p = command("serve", cmd_serve, _("启动服务器"))
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--trust-proxy", action="store_true", help=_("从 X-Forwarded-For 读取考生 IP"))
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help=_("工作进程数（多于 1 个时请使用 PostgreSQL）"))

    p = command("add-center", cmd_add_center, _("添加或修改考点"))
    p.add_argument("id")
    p.add_argument("name")
    p.add_argument("--allowed-ip", action="append", default=[], metavar="IP")
    p.add_argument("--address", default=None,
                   help=_("考点地址（与考点名称一起印在应急材料照片水印中）"))

    p = command("add-admin", cmd_add_admin, _("添加或修改管理员"))
    p.add_argument("username")
    p.add_argument("--center", default=None, help=_("考点编号；不填为平台管理员"))
    p.add_argument("--name", default=None,
                   help=_("本人真实姓名（新账号必填；上传的应急材料以此署名）"))
    p.add_argument("--password", default=None)

    p = command("add-candidates", cmd_add_candidates, _("从 CSV 导入考生并报名考试"))
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--exam", required=True)

    p = command("import-paper", cmd_import_paper, _("导入试卷源，生成并签名试卷包"))
    p.add_argument("file", type=Path)
    p.add_argument("--exam", required=True)
    p.add_argument("--title", default=None)
    p.add_argument("--start", type=parse_time, required=True, metavar="ISO")
    p.add_argument("--end", type=parse_time, required=True, metavar="ISO")
    p.add_argument("--replace", action="store_true", help=_("替换已有考生登录的考试的试卷"))

    p = command("results", cmd_results, _("显示考试成绩"))
    p.add_argument("exam")

    p = command("offline-codes", cmd_offline_codes, _("显示开考码和监考授权密钥（无网络考试用）"))
    p.add_argument("exam")

    p = command("authorize-login", cmd_authorize_login, _("批准考生的二次登录"))
    p.add_argument("exam")
    p.add_argument("candidate", help=_("学号或身份证号"))

    p = command("authorization-code", cmd_authorization_code,
                _("生成考生二次登录授权码（监考教师在考生电脑上输入）"))
    p.add_argument("exam")
    p.add_argument("candidate", help=_("学号或身份证号"))

    p = command("refresh-package", cmd_refresh_package, _("按当前考生名单重新生成试卷包"))
    p.add_argument("exam")

    for module_name in EXTENSION_MODULES:
        importlib.import_module(module_name).register_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Language first, so that --help and errors come out in it.
    if "--lang" in argv[:-1]:
        set_language(argv[argv.index("--lang") + 1])
    else:
        set_language(os.environ.get(LANG_ENV, "zh_CN"))
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except UserFacingError as exc:
        print(
            _("错误 [{code}]：{message}").format(code=exc.code, message=exc.message),
            file=sys.stderr,
        )
        return 1
