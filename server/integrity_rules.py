"""Newer e-01/e-02 detection rules shipped with an exam's paper package.

A tool list grows between client releases (a new remote-control tool appears before an
exam). The admin runs ``exam-server set-integrity-rules EXAM rules.json``: the server signs
the file with its own Ed25519 key and the package header carries it; the client uses it
only when the signature is valid, it is not expired and it is newer than the built-in
rules (client/integrity/rules.py choose_rules), otherwise it keeps the built-in rules.

The server refuses to sign what every client would refuse (and only log): rules that are
malformed, already expired by the server clock, older than the client's built-in rules,
or older than the rules this exam already ships. Reporting success for those left a centre
believing its new tool list was in force.
"""

from __future__ import annotations

import argparse
import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Column, LargeBinary, String, Table, select

from client.i18n import _
from client.integrity.rules import RulesError, builtin_rules, parse_rules, sign_rules
from server import schema as t
from server.db import Database
from server.keys import ServerKeys
from server.lazy_tables import create_once

EXTRA_KEY = "integrity_rules"

exam_rules = Table(
    "exam_integrity_rules",
    t.metadata,
    Column("exam_id", String(64), primary_key=True),
    Column("rules", LargeBinary, nullable=False),      # the file, byte for byte
    Column("signature", String(200), nullable=False),  # base64 Ed25519 (sign_rules)
    Column("set_at_ms", BigInteger, nullable=False),
)


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[exam_rules])


class RulesRefused(ValueError):
    """The file would be refused by the clients: nothing was signed or stored."""


def set_rules(db: Database, keys: ServerKeys, *, exam_id: str, data: bytes, now_ms: int) -> str:
    """Sign and keep *data* for *exam_id*; returns the base64 signature.

    Raises RulesRefused (nothing stored) for rules the clients would not use.
    """
    try:
        document = json.loads(data.decode("utf-8"))
        if not isinstance(document, dict):
            raise ValueError("top level is not an object")
        offered = parse_rules(document, source="server")
    except (UnicodeDecodeError, ValueError, RulesError) as exc:
        raise RulesRefused(_("检测规则文件格式错误：{error}").format(
            error=getattr(exc, "detail", {}).get("reason", exc))) from exc
    now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    if offered.expires_at <= now:
        raise RulesRefused(_("检测规则已于 {expires} 过期，考生电脑不会使用，未签名").format(
            expires=offered.expires_at.isoformat()))
    builtin = builtin_rules()
    if offered.version < builtin.version:
        raise RulesRefused(_(
            "检测规则版本 {version} 比客户端内置规则（{builtin}）旧，考生电脑不会使用，未签名"
        ).format(version=offered.version, builtin=builtin.version))
    ensure_tables(db)
    with db.read() as conn:
        current = conn.execute(select(exam_rules).where(exam_rules.c.exam_id == exam_id)).first()
    if current is not None and bytes(current.rules) != data:
        current_version = parse_rules(json.loads(bytes(current.rules).decode("utf-8")),
                                      source="server").version
        if offered.version <= current_version:
            raise RulesRefused(_(
                "检测规则版本 {version} 不比本考试当前的规则（{current}）新，未签名"
            ).format(version=offered.version, current=current_version))
    signature = sign_rules(data, key=keys.signing).decode("ascii").strip()
    with db.write() as conn:
        conn.execute(exam_rules.delete().where(exam_rules.c.exam_id == exam_id))
        conn.execute(exam_rules.insert().values(exam_id=exam_id, rules=data,
                                                signature=signature, set_at_ms=now_ms))
    return signature


def rules_extra(db: Database, exam_id: str) -> dict[str, object]:
    """The package header fragment (empty when the exam ships no rules of its own)."""
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(select(exam_rules).where(exam_rules.c.exam_id == exam_id)).first()
    if row is None:
        return {}
    return {EXTRA_KEY: {"rules": base64.b64encode(bytes(row.rules)).decode("ascii"),
                        "signature": row.signature}}


def cmd_set_rules(args: argparse.Namespace) -> int:
    from server.cli import open_context
    from server.papers import refresh_package

    ctx = open_context(args)
    if ctx.db.get_exam(args.exam) is None:
        print(_("找不到考试 {exam}").format(exam=args.exam))
        return 1
    try:
        set_rules(ctx.db, ctx.keys, exam_id=args.exam, data=Path(args.file).read_bytes(),
                  now_ms=ctx.clock.now_ms())
    except RulesRefused as exc:
        print(str(exc))
        return 1
    except OSError as exc:
        print(_("检测规则文件无法读取：{error}").format(error=exc))
        return 1
    refresh_package(settings=ctx.settings, db=ctx.db, keys=ctx.keys, exam_id=args.exam)
    print(_("检测规则已签名并写入考试 {exam} 的试卷包；考生电脑重新下载试卷后生效").format(
        exam=args.exam))
    return 0


def register_cli(subparsers: Any) -> None:
    from server.cli import add_data_argument

    parser = subparsers.add_parser(
        "set-integrity-rules", help=_("为考试下发更新的远程控制/虚拟机检测规则（服务器签名）"))
    add_data_argument(parser)
    parser.add_argument("exam")
    parser.add_argument("file", type=Path)
    parser.set_defaults(func=cmd_set_rules)
