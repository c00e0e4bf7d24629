"""Proctors (监考教师) of an exam and their offline verifiers in the paper package.

Proctor mode on a candidate's PC is unlocked with the proctor's name and password, with no
network: the package header (signed, unencrypted) carries one memory-hard verifier per
proctor (client/proctor/verifiers.py). The server never stores the password itself: it
generates a random one, prints it once for the chief examiner to hand out, and keeps only
the verifier. Adding a proctor after the paper was imported rebuilds the package.
"""

from __future__ import annotations

import argparse
import secrets
import threading
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, String, Table, select

from client.i18n import _
from client.proctor.verifiers import ProctorVerifier, create_verifier, verifiers_to_extra
from server import schema as t
from server.db import Database

proctors = Table(
    "proctors",
    t.metadata,
    Column("exam_id", String(64), primary_key=True),
    Column("proctor_id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("verifier", JSON, nullable=False),  # ProctorVerifier.to_json(): salt + argon2id
    Column("created_at_ms", BigInteger, nullable=False),
)

_created: set[Database] = set()
_created_lock = threading.Lock()

# Easy to read aloud and type: no 0/O, 1/l/I.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def ensure_tables(db: Database) -> None:
    with _created_lock:
        if db in _created:
            return
        t.metadata.create_all(db.engine, tables=[proctors])
        _created.add(db)


def new_password(length: int = 10) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def add_proctor(db: Database, *, exam_id: str, name: str, now_ms: int,
                password: str | None = None) -> tuple[str, str]:
    """Create (or replace) a proctor; returns (proctor_id, the password to hand out)."""
    ensure_tables(db)
    password = password or new_password()
    proctor_id = f"p-{secrets.token_hex(4)}"
    verifier = create_verifier(proctor_id=proctor_id, name=name, password=password)
    with db.write() as conn:
        conn.execute(proctors.delete().where((proctors.c.exam_id == exam_id)
                                             & (proctors.c.name == name)))
        conn.execute(proctors.insert().values(exam_id=exam_id, proctor_id=proctor_id,
                                              name=name, verifier=verifier.to_json(),
                                              created_at_ms=now_ms))
    return proctor_id, password


def verifiers_for(db: Database, exam_id: str) -> list[ProctorVerifier]:
    ensure_tables(db)
    with db.read() as conn:
        rows = conn.execute(select(proctors.c.verifier).where(proctors.c.exam_id == exam_id)
                            .order_by(proctors.c.created_at_ms)).all()
    return [ProctorVerifier(proctor_id=row.verifier["proctor_id"], name=row.verifier["name"],
                            encoded_hash=row.verifier["hash"]) for row in rows]


def proctor_name(db: Database, *, exam_id: str, proctor_id: str) -> str | None:
    """The name of a proctor of this exam; None when the id is not one of them."""
    ensure_tables(db)
    with db.read() as conn:
        name = conn.execute(select(proctors.c.name).where(
            (proctors.c.exam_id == exam_id) & (proctors.c.proctor_id == proctor_id))).scalar()
    return None if name is None else str(name)


def proctor_extra(db: Database, exam_id: str) -> dict[str, object]:
    """The fragment for the package header's ``extra`` (empty when there is no proctor)."""
    found = verifiers_for(db, exam_id)
    return verifiers_to_extra(found) if found else {}


def cmd_add_proctor(args: argparse.Namespace) -> int:
    from server.cli import open_context
    from server.papers import refresh_package

    ctx = open_context(args)
    if ctx.db.get_exam(args.exam) is None:
        print(_("找不到考试 {exam}").format(exam=args.exam))
        return 1
    _proctor_id, password = add_proctor(ctx.db, exam_id=args.exam, name=args.name,
                                        now_ms=ctx.clock.now_ms(), password=args.password)
    refresh_package(settings=ctx.settings, db=ctx.db, keys=ctx.keys, exam_id=args.exam)
    print(_("监考教师 {name} 已添加到考试 {exam}，监考密码：{password}").format(
        name=args.name, exam=args.exam, password=password))
    print(_("请只告知该监考教师本人；试卷包已重新签名，考生电脑需在考前重新下载试卷"))
    return 0


def register_cli(subparsers: Any) -> None:
    from server.cli import add_data_argument

    parser = subparsers.add_parser(
        "add-proctor", help=_("添加监考教师（生成监考密码，写入试卷包供离线进入监考模式）"))
    add_data_argument(parser)
    parser.add_argument("exam")
    parser.add_argument("name", help=_("监考教师姓名（在考生电脑上输入）"))
    parser.add_argument("--password", default=None,
                        help=_("指定密码（默认随机生成）"))
    parser.set_defaults(func=cmd_add_proctor)
