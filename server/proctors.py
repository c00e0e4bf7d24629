"""Proctors (监考教师) of an exam and their offline verifiers in the paper package.

Proctors are verified by real name (监考教师实名): each carries a name, an ID number and a
photo (sealed with the server's storage key). The package header gets the masked ID
number and the SFace embedding of the photo (client/proctor/identity.py), and, per exam,
whether unlocking proctor mode also needs a 1:1 face match (``set-proctor-face-match``).

Proctor mode on a candidate's PC is unlocked with the proctor's name and password, with no
network: the package header (signed, unencrypted) carries one memory-hard verifier per
proctor (client/proctor/verifiers.py). The server never stores the password itself: it
generates a random one, prints it once for the chief examiner to hand out, and keeps only
the verifier. Adding a proctor after the paper was imported rebuilds the package.
"""

from __future__ import annotations

import argparse
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, LargeBinary, String, Table, select

from client.errors import UserFacingError
from client.i18n import _
from client.proctor.identity import (
    ProctorCard,
    encode_embedding,
    identities_to_extra,
    mask_id_number,
)
from client.proctor.verifiers import ProctorVerifier, create_verifier, verifiers_to_extra
from server import schema as t
from server.db import Database
from server.keys import ServerKeys
from server.lazy_tables import create_once

proctors = Table(
    "proctors",
    t.metadata,
    Column("exam_id", String(64), primary_key=True),
    Column("proctor_id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("verifier", JSON, nullable=False),  # ProctorVerifier.to_json(): salt + argon2id
    Column("created_at_ms", BigInteger, nullable=False),
)

proctor_identities = Table(
    "proctor_identities",
    t.metadata,
    Column("exam_id", String(64), primary_key=True),
    Column("proctor_id", String(64), primary_key=True),
    Column("id_number", String(64), nullable=False),
    Column("photo_sealed", LargeBinary, nullable=True),   # JPEG, sealed (server/keys.py)
    Column("face", String(2000), nullable=True),          # base64 SFace embedding
)

proctor_policy = Table(
    "exam_proctor_policy",
    t.metadata,
    Column("exam_id", String(64), primary_key=True),
    Column("face_match", Boolean, nullable=False),
)

ID_NUMBER_PATTERN = r"^[0-9A-Za-z()（）]{6,32}$"


# Easy to read aloud and type: no 0/O, 1/l/I.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[proctors, proctor_identities, proctor_policy])


def new_password(length: int = 10) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def face_embedding_of(photo: bytes) -> str:
    """The base64 SFace embedding of the single face in *photo*; UserFacingError if the
    photo is not a usable portrait (the chief examiner must give another)."""
    from client.camera.analyzer import FaceAnalyzer, decode_image

    image = decode_image(photo)
    if image is None:
        raise UserFacingError("proctor.photo_unreadable", _("监考教师照片无法读取"))
    with FaceAnalyzer(landmarks=False) as analyzer:
        faces = analyzer.detect(image)
        if len(faces) != 1:
            raise UserFacingError("proctor.photo_faces", _(
                "监考教师照片中应恰好有一张人脸（找到 {n} 张）").format(n=len(faces)))
        return encode_embedding(analyzer.embed(image, faces[0]))


def add_proctor(db: Database, *, exam_id: str, name: str, now_ms: int,
                password: str | None = None, id_number: str = "",
                photo: bytes | None = None, keys: ServerKeys | None = None) -> tuple[str, str]:
    """Create (or replace) a proctor; returns (proctor_id, the password to hand out).

    *id_number* and *photo* (JPEG) make the proctor known by real name; sealing the photo
    needs the server's *keys*."""
    ensure_tables(db)
    if id_number and not re.match(ID_NUMBER_PATTERN, id_number.strip()):
        raise UserFacingError("proctor.bad_id_number", _(
            "监考教师身份证号格式不正确：{value}").format(value=id_number))
    password = password or new_password()
    proctor_id = f"p-{secrets.token_hex(4)}"
    verifier = create_verifier(proctor_id=proctor_id, name=name, password=password)
    face = face_embedding_of(photo) if photo is not None else None
    with db.write() as conn:
        old = conn.execute(select(proctors.c.proctor_id).where(
            (proctors.c.exam_id == exam_id) & (proctors.c.name == name))).scalars().all()
        conn.execute(proctor_identities.delete().where(
            (proctor_identities.c.exam_id == exam_id)
            & proctor_identities.c.proctor_id.in_(old)))
        conn.execute(proctors.delete().where((proctors.c.exam_id == exam_id)
                                             & (proctors.c.name == name)))
        conn.execute(proctors.insert().values(exam_id=exam_id, proctor_id=proctor_id,
                                              name=name, verifier=verifier.to_json(),
                                              created_at_ms=now_ms))
        if id_number or photo is not None:
            sealed = None
            if photo is not None:
                assert keys is not None, "sealing a proctor photo needs the server keys"
                sealed = keys.seal(photo, context=_photo_context(exam_id, proctor_id))
            conn.execute(proctor_identities.insert().values(
                exam_id=exam_id, proctor_id=proctor_id, id_number=id_number.strip().upper(),
                photo_sealed=sealed, face=face))
    return proctor_id, password


def _photo_context(exam_id: str, proctor_id: str) -> str:
    return f"proctor-photo:{exam_id}:{proctor_id}"


@dataclass(frozen=True)
class ProctorRecord:
    proctor_id: str
    name: str
    id_number: str
    has_photo: bool


def proctor_records(db: Database, exam_id: str) -> list[ProctorRecord]:
    """The exam's proctors by real name (for the admin pages)."""
    ensure_tables(db)
    with db.read() as conn:
        rows = conn.execute(
            select(proctors.c.proctor_id, proctors.c.name, proctor_identities.c.id_number,
                   proctor_identities.c.photo_sealed.is_not(None).label("has_photo"))
            .select_from(proctors.outerjoin(proctor_identities, (
                proctor_identities.c.exam_id == proctors.c.exam_id)
                & (proctor_identities.c.proctor_id == proctors.c.proctor_id)))
            .where(proctors.c.exam_id == exam_id).order_by(proctors.c.created_at_ms)).all()
    return [ProctorRecord(r.proctor_id, r.name, r.id_number or "", bool(r.has_photo))
            for r in rows]


def missing_photo_warning(db: Database, exam_id: str) -> str | None:
    """The warning for staff when the exam asks for the proctor's face on unlock but some
    of its proctors have no photo: they could not enter proctor mode on exam day. None
    when nothing is wrong (no face match, or every proctor has a photo)."""
    if not face_match_required(db, exam_id):
        return None
    # A photo is only stored with its face embedding (add_proctor), so photo = reference.
    names = [r.name for r in proctor_records(db, exam_id) if not r.has_photo]
    if not names:
        return None
    return _("警告：本场考试要求解锁监考模式时人脸比对，但监考教师 {names} 没有照片，"
             "考试当天无法进入监考模式。请用 exam-server add-proctor {exam} 姓名 --photo 照片.jpg "
             "补录（同名会替换，可用 --password 保留原密码），或关闭人脸比对；"
             "之后考生电脑需重新下载试卷包").format(names="、".join(names), exam=exam_id)


def proctor_photo(db: Database, keys: ServerKeys, *, exam_id: str,
                  proctor_id: str) -> bytes | None:
    ensure_tables(db)
    with db.read() as conn:
        sealed = conn.execute(select(proctor_identities.c.photo_sealed).where(
            (proctor_identities.c.exam_id == exam_id)
            & (proctor_identities.c.proctor_id == proctor_id))).scalar()
    if sealed is None:
        return None
    return keys.unseal(sealed, context=_photo_context(exam_id, proctor_id))


def set_face_match(db: Database, *, exam_id: str, required: bool) -> None:
    ensure_tables(db)
    with db.write() as conn:
        conn.execute(proctor_policy.delete().where(proctor_policy.c.exam_id == exam_id))
        conn.execute(proctor_policy.insert().values(exam_id=exam_id, face_match=required))


def face_match_required(db: Database, exam_id: str) -> bool:
    ensure_tables(db)
    with db.read() as conn:
        value = conn.execute(select(proctor_policy.c.face_match).where(
            proctor_policy.c.exam_id == exam_id)).scalar()
    return bool(value)


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
    if not found:
        return {}
    with db.read() as conn:
        rows = conn.execute(select(proctor_identities).where(
            proctor_identities.c.exam_id == exam_id)).all()
    from client.proctor.identity import decode_embedding

    cards = {r.proctor_id: ProctorCard(proctor_id=r.proctor_id,
                                       id_number_masked=mask_id_number(r.id_number),
                                       face=decode_embedding(r.face) if r.face else None)
             for r in rows}
    return {**verifiers_to_extra(found),
            **identities_to_extra(cards, face_match=face_match_required(db, exam_id))}


def cmd_add_proctor(args: argparse.Namespace) -> int:
    from server.cli import open_context
    from server.papers import refresh_package

    ctx = open_context(args)
    if ctx.db.get_exam(args.exam) is None:
        print(_("找不到考试 {exam}").format(exam=args.exam))
        return 1
    photo = args.photo.read_bytes() if args.photo is not None else None
    try:
        _proctor_id, password = add_proctor(
            ctx.db, exam_id=args.exam, name=args.name, now_ms=ctx.clock.now_ms(),
            password=args.password, id_number=args.id_number or "", photo=photo,
            keys=ctx.keys)
    except UserFacingError as error:
        print(error.message)
        return 1
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
    parser.add_argument("--id-number", default=None, help=_("监考教师身份证号（实名核验）"))
    parser.add_argument("--photo", type=Path, default=None,
                        help=_("监考教师正面照片（JPEG），用于解锁监考模式时的人脸比对"))
    parser.set_defaults(func=cmd_add_proctor)

    face = subparsers.add_parser(
        "set-proctor-face-match", help=_("设置解锁监考模式时是否需要监考教师人脸比对"))
    add_data_argument(face)
    face.add_argument("exam")
    face.add_argument("setting", choices=["on", "off"])
    face.set_defaults(func=cmd_set_face_match)


def cmd_set_face_match(args: argparse.Namespace) -> int:
    from server.cli import open_context
    from server.papers import refresh_package

    ctx = open_context(args)
    if ctx.db.get_exam(args.exam) is None:
        print(_("找不到考试 {exam}").format(exam=args.exam))
        return 1
    set_face_match(ctx.db, exam_id=args.exam, required=args.setting == "on")
    refresh_package(settings=ctx.settings, db=ctx.db, keys=ctx.keys, exam_id=args.exam)
    print(_("考试 {exam}：解锁监考模式{rule}监考教师人脸比对，试卷包已重新签名").format(
        exam=args.exam, rule=_("需要") if args.setting == "on" else _("不需要")))
    warning = missing_photo_warning(ctx.db, args.exam)
    if warning:
        print(warning)
    return 0
