"""The exam pledge (考试承诺书): its text per exam, and each candidate's acceptance.

The chief examiner sets the text (``exam-server set-pledge EXAM --zh FILE [--en FILE]
[--optional]``); it travels in the signed package header (client/paper/exam_rules.py), the
client shows it before the waiting room and sends ``POST /attempt/pledge`` with the time
of acceptance (server-time estimate) and the SHA-256 of the text accepted. The gate is on
the PC (client/session/pledge.py), because a PC with no network must still let the
candidate in after accepting; the acceptance waits in the encrypted store and is synced
later, and the console lists every candidate of a required pledge without one
(``missing_acceptances``) so that nobody slips through unnoticed.
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, Table, Text, select

from client.i18n import _
from client.paper.exam_rules import MAX_PLEDGE_CHARS, Pledge
from server import schema as t
from server.auth import CandidateAuth, Context
from server.db import Database
from server.errors import ApiError
from server.lazy_tables import create_once

router = APIRouter()

exam_pledges = Table(
    "exam_pledges",
    t.metadata,
    Column("exam_id", String(64), primary_key=True),
    Column("text_zh", Text, nullable=False),
    Column("text_en", Text, nullable=False),
    Column("required", Boolean, nullable=False),
    Column("set_at_ms", BigInteger, nullable=False),
)

pledge_acceptances = Table(
    "pledge_acceptances",
    t.metadata,
    Column("attempt_id", Integer, ForeignKey("attempts.id"), primary_key=True),
    Column("accepted_at_ms", BigInteger, nullable=False),   # the PC's server-time estimate
    Column("received_at_ms", BigInteger, nullable=False),
    Column("text_sha256", String(64), nullable=False),
    Column("language", String(10), nullable=False),
)


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[exam_pledges, pledge_acceptances])


def text_digest(pledge: Pledge) -> str:
    """What an acceptance names: the Chinese text is the binding one."""
    return hashlib.sha256(pledge.text_zh.encode()).hexdigest()


def set_pledge(db: Database, *, exam_id: str, pledge: Pledge, now_ms: int) -> None:
    ensure_tables(db)
    with db.write() as conn:
        conn.execute(exam_pledges.delete().where(exam_pledges.c.exam_id == exam_id))
        conn.execute(exam_pledges.insert().values(
            exam_id=exam_id, text_zh=pledge.text_zh, text_en=pledge.text_en,
            required=pledge.required, set_at_ms=now_ms))


def pledge_for(db: Database, exam_id: str) -> Pledge | None:
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(select(exam_pledges).where(exam_pledges.c.exam_id == exam_id)).first()
    if row is None:
        return None
    return Pledge(text_zh=row.text_zh, text_en=row.text_en, required=row.required)


def pledge_extra(db: Database, exam_id: str) -> dict[str, object]:
    """The package header fragment (empty when the exam has no pledge)."""
    pledge = pledge_for(db, exam_id)
    return pledge.to_extra() if pledge is not None else {}


@dataclass(frozen=True)
class Acceptance:
    attempt_id: int
    accepted_at_ms: int
    received_at_ms: int
    text_sha256: str
    language: str


def record_acceptance(db: Database, *, attempt_id: int, accepted_at_ms: int,
                      received_at_ms: int, text_sha256: str, language: str) -> Acceptance:
    """Keep the FIRST acceptance of an attempt: a resend (sync retry) changes nothing."""
    ensure_tables(db)
    with db.write() as conn:
        row = conn.execute(select(pledge_acceptances).where(
            pledge_acceptances.c.attempt_id == attempt_id)).first()
        if row is None:
            conn.execute(pledge_acceptances.insert().values(
                attempt_id=attempt_id, accepted_at_ms=accepted_at_ms,
                received_at_ms=received_at_ms, text_sha256=text_sha256, language=language))
            return Acceptance(attempt_id, accepted_at_ms, received_at_ms, text_sha256, language)
    return Acceptance(row.attempt_id, row.accepted_at_ms, row.received_at_ms,
                      row.text_sha256, row.language)


def acceptances(db: Database, attempt_ids: list[int]) -> dict[int, Acceptance]:
    ensure_tables(db)
    with db.read() as conn:
        rows = conn.execute(select(pledge_acceptances).where(
            pledge_acceptances.c.attempt_id.in_(attempt_ids))).all()
    return {r.attempt_id: Acceptance(r.attempt_id, r.accepted_at_ms, r.received_at_ms,
                                     r.text_sha256, r.language) for r in rows}


def missing_acceptances(db: Database, *, exam_id: str, attempt_ids: list[int]) -> list[int]:
    """Attempts of an exam with a REQUIRED pledge that have no acceptance on the server."""
    pledge = pledge_for(db, exam_id)
    if pledge is None or not pledge.required:
        return []
    found = acceptances(db, attempt_ids)
    return [a for a in attempt_ids if a not in found]


class PledgeIn(BaseModel):
    accepted_at_ms: int = Field(ge=0)
    text_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    language: str = Field(default="zh_CN", max_length=10)


@router.post("/attempt/pledge")
def post_pledge(body: PledgeIn, session: CandidateAuth, ctx: Context) -> dict[str, Any]:
    pledge = pledge_for(ctx.db, session.exam.id)
    if pledge is None:
        raise ApiError(404, "no_pledge", exam_id=session.exam.id)
    if body.text_sha256 != text_digest(pledge):
        # The PC showed another text (an old package): it must show the current one.
        raise ApiError(409, "pledge_changed", exam_id=session.exam.id)
    now = ctx.clock.now_ms()
    accepted = record_acceptance(ctx.db, attempt_id=session.attempt.id,
                                 accepted_at_ms=min(body.accepted_at_ms, now),
                                 received_at_ms=now, text_sha256=body.text_sha256,
                                 language=body.language)
    return {"accepted_at_ms": accepted.accepted_at_ms, "received_at_ms": accepted.received_at_ms}


def _read_text(path: Path | None) -> str:
    return path.read_text(encoding="utf-8").strip() if path is not None else ""


def cmd_set_pledge(args: argparse.Namespace) -> int:
    from server.cli import open_context
    from server.papers import refresh_package

    ctx = open_context(args)
    if ctx.db.get_exam(args.exam) is None:
        print(_("找不到考试 {exam}").format(exam=args.exam))
        return 1
    text_zh, text_en = _read_text(args.zh), _read_text(args.en)
    if not text_zh or len(text_zh) > MAX_PLEDGE_CHARS or len(text_en) > MAX_PLEDGE_CHARS:
        print(_("承诺书中文文本不能为空，且每种语言不超过 {n} 个字符").format(n=MAX_PLEDGE_CHARS))
        return 1
    pledge = Pledge(text_zh=text_zh, text_en=text_en, required=not args.optional)
    set_pledge(ctx.db, exam_id=args.exam, pledge=pledge, now_ms=ctx.clock.now_ms())
    refresh_package(settings=ctx.settings, db=ctx.db, keys=ctx.keys, exam_id=args.exam)
    print(_("考试 {exam} 的考试承诺书已设置（{kind}），试卷包已重新签名").format(
        exam=args.exam, kind=_("必须同意") if pledge.required else _("可选")))
    return 0


def register_cli(subparsers: Any) -> None:
    from server.cli import add_data_argument

    parser = subparsers.add_parser(
        "set-pledge", help=_("设置考试承诺书（考生进入候考前阅读并同意）"))
    add_data_argument(parser)
    parser.add_argument("exam")
    parser.add_argument("--zh", type=Path, required=True, help=_("中文承诺书文本文件（UTF-8）"))
    parser.add_argument("--en", type=Path, default=None, help=_("英文承诺书文本文件（可选）"))
    parser.add_argument("--optional", action="store_true",
                        help=_("考生可不同意直接进入（默认必须同意）"))
    parser.set_defaults(func=cmd_set_pledge)
