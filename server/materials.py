"""Emergency materials (应急材料): room photos, the emergency candidates they concern and
a reason, submitted by a proctor until the end of the exam's time unit.

When identity checks fail for a room, the proctor photographs the whole room (watermarked
with exam time, center and proctor), marks the emergency candidates and gives a reason.
Two ways in: proctor mode on an exam PC (``POST /api/v1/materials`` with that PC's
candidate token and the proctor id verified on the PC against the signed package), and
the admin web page /admin/materials from a phone or laptop browser on the LAN. The server
accepts them until the end of the exam's time unit (``deadline_ms``: the exam's end, or
the later end of its time unit set with ``exam-server set-time-unit``) and refuses later
with 403 ``materials_closed`` naming the deadline. Photos are sealed with the server's
storage key like other evidence; the review page shows them beside the candidates.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    select,
)

from client.i18n import _
from client.timefmt import beijing_datetime
from server import schema as t
from server.auth import CandidateAuth, Context
from server.db import Database, Exam
from server.errors import ApiError
from server.keys import ServerKeys
from server.lazy_tables import create_once

router = APIRouter()

MAX_PHOTOS = 8
MAX_PHOTO_BYTES = 4 * 1024 * 1024        # a phone's panorama JPEG
MAX_REASON_CHARS = 2000
MAX_CANDIDATES = 200
JPEG_MAGIC = b"\xff\xd8\xff"

time_units = Table(
    "exam_time_units",
    t.metadata,
    Column("exam_id", String(64), primary_key=True),
    Column("unit_end_ms", BigInteger, nullable=False),
)

materials = Table(
    "emergency_materials",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exam_id", String(64), ForeignKey("exams.id"), nullable=False, index=True),
    Column("center_id", String(64), nullable=True),
    Column("room", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("candidates", JSON, nullable=False),       # student numbers marked as emergency
    # "proctor:<id> <name>" (PC) / "<real name>（<role>，<account>）" (admin page, console)
    Column("submitted_by", String(200), nullable=False),
    Column("source", String(10), nullable=False),     # pc | web | console
    Column("taken_at_ms", BigInteger, nullable=True),
    Column("received_at_ms", BigInteger, nullable=False),
)

material_photos = Table(
    "emergency_material_photos",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("material_id", Integer, ForeignKey("emergency_materials.id"), nullable=False,
           index=True),
    Column("position", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("jpeg_sealed", LargeBinary, nullable=False),
)


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[time_units, materials, material_photos])


def _photo_context(material_id: int, position: int) -> str:
    return f"material-photo:{material_id}:{position}"


def set_time_unit_end(db: Database, *, exam_id: str, unit_end_ms: int) -> None:
    ensure_tables(db)
    with db.write() as conn:
        conn.execute(time_units.delete().where(time_units.c.exam_id == exam_id))
        conn.execute(time_units.insert().values(exam_id=exam_id, unit_end_ms=unit_end_ms))


def deadline_ms(db: Database, exam: Exam) -> int:
    """The end of the exam's time unit: materials are accepted until then."""
    ensure_tables(db)
    with db.read() as conn:
        unit_end = conn.execute(select(time_units.c.unit_end_ms).where(
            time_units.c.exam_id == exam.id)).scalar()
    return max(exam.end_ms, int(unit_end)) if unit_end is not None else exam.end_ms


def closed_error(deadline: int) -> ApiError:
    return ApiError(403, "materials_closed", deadline_ms=deadline,
                    deadline=beijing_datetime(deadline))


@dataclass(frozen=True)
class MaterialPhoto:
    id: int
    position: int
    sha256: str


@dataclass(frozen=True)
class Material:
    id: int
    exam_id: str
    center_id: str | None
    room: str
    reason: str
    candidates: tuple[str, ...]
    submitted_by: str
    source: str
    taken_at_ms: int | None
    received_at_ms: int
    photos: tuple[MaterialPhoto, ...]


def submit(db: Database, keys: ServerKeys, *, exam: Exam, center_id: str | None, room: str,
           reason: str, candidates: Sequence[str], photos: Sequence[bytes],
           submitted_by: str, source: str, taken_at_ms: int | None, now_ms: int) -> Material:
    """Store one submission; raises ApiError for a late or malformed one."""
    ensure_tables(db)
    deadline = deadline_ms(db, exam)
    if now_ms > deadline:
        raise closed_error(deadline)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise ApiError(422, "materials_reason", max_chars=MAX_REASON_CHARS)
    if not photos or len(photos) > MAX_PHOTOS:
        raise ApiError(422, "materials_photos", max_photos=MAX_PHOTOS)
    for photo in photos:
        if len(photo) > MAX_PHOTO_BYTES or not photo.startswith(JPEG_MAGIC):
            raise ApiError(422, "materials_not_jpeg", max_bytes=MAX_PHOTO_BYTES)
    marked = sorted({c.strip() for c in candidates if c.strip()})[:MAX_CANDIDATES]
    registered = {c.student_no for c in db.registered_candidates(exam.id)}
    unknown = [c for c in marked if c not in registered]
    if unknown:
        raise ApiError(422, "materials_unknown_candidates", candidates=unknown)
    with db.write() as conn:
        inserted = conn.execute(materials.insert().values(
            exam_id=exam.id, center_id=center_id, room=room.strip()[:100], reason=reason,
            candidates=marked, submitted_by=submitted_by[:200], source=source,
            taken_at_ms=taken_at_ms, received_at_ms=now_ms)).inserted_primary_key
        assert inserted is not None
        material_id = int(inserted[0])
        for position, photo in enumerate(photos):
            conn.execute(material_photos.insert().values(
                material_id=material_id, position=position,
                sha256=hashlib.sha256(photo).hexdigest(),
                jpeg_sealed=keys.seal(photo, context=_photo_context(material_id, position))))
    found = list_materials(db, exam_id=exam.id, center_id=None, material_id=material_id)
    return found[0]


def list_materials(db: Database, *, exam_id: str, center_id: str | None,
                   material_id: int | None = None) -> list[Material]:
    """An exam's materials (a center admin: their center's), oldest first."""
    ensure_tables(db)
    query = select(materials).where(materials.c.exam_id == exam_id).order_by(materials.c.id)
    if center_id is not None:
        query = query.where(materials.c.center_id == center_id)
    if material_id is not None:
        query = query.where(materials.c.id == material_id)
    with db.read() as conn:
        rows = conn.execute(query).all()
        ids = [r.id for r in rows]
        photo_rows = conn.execute(select(
            material_photos.c.id, material_photos.c.material_id, material_photos.c.position,
            material_photos.c.sha256).where(material_photos.c.material_id.in_(ids))
            .order_by(material_photos.c.position)).all() if ids else []
    photos: dict[int, list[MaterialPhoto]] = {}
    for p in photo_rows:
        photos.setdefault(p.material_id, []).append(MaterialPhoto(p.id, p.position, p.sha256))
    return [Material(id=r.id, exam_id=r.exam_id, center_id=r.center_id, room=r.room,
                     reason=r.reason, candidates=tuple(r.candidates),
                     submitted_by=r.submitted_by, source=r.source,
                     taken_at_ms=r.taken_at_ms, received_at_ms=r.received_at_ms,
                     photos=tuple(photos.get(r.id, ()))) for r in rows]


def read_photo(db: Database, keys: ServerKeys,
               photo_id: int) -> tuple[Material, bytes] | None:
    """The photo (decrypted) and the submission it belongs to; None if unknown."""
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(select(material_photos).where(
            material_photos.c.id == photo_id)).first()
        exam_id = conn.execute(select(materials.c.exam_id).where(
            materials.c.id == row.material_id)).scalar() if row else None
    if row is None or exam_id is None:
        return None
    material = list_materials(db, exam_id=str(exam_id), center_id=None,
                              material_id=row.material_id)[0]
    return material, keys.unseal(row.jpeg_sealed,
                                 context=_photo_context(row.material_id, row.position))


def materials_by_candidate(found: Sequence[Material]) -> dict[str, list[Material]]:
    by_student: dict[str, list[Material]] = {}
    for material in found:
        for student_no in material.candidates:
            by_student.setdefault(student_no, []).append(material)
    return by_student


# -- HTTP: proctor mode on an exam PC ---------------------------------------------------

class MaterialsIn(BaseModel):
    proctor_id: str = Field(min_length=1, max_length=64)
    room: str = Field(default="", max_length=100)
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)
    candidates: list[str] = Field(default_factory=list, max_length=MAX_CANDIDATES)
    photos: list[str] = Field(min_length=1, max_length=MAX_PHOTOS)  # base64 JPEG
    taken_at_ms: int | None = None
    submission_id: str = Field(default="", max_length=64)  # the PC's id: a resend is no-op


@router.post("/materials")
def post_materials(body: MaterialsIn, session: CandidateAuth, ctx: Context) -> dict[str, Any]:
    from server.proctors import proctor_name

    now = ctx.clock.now_ms()
    name = proctor_name(ctx.db, exam_id=session.exam.id, proctor_id=body.proctor_id)
    if name is None:
        raise ApiError(403, "materials_not_a_proctor")
    submitted_by = f"proctor:{body.proctor_id} {name}"
    if body.submission_id:
        submitted_by += f" #{body.submission_id}"
        for earlier in list_materials(ctx.db, exam_id=session.exam.id, center_id=None):
            if earlier.submitted_by == submitted_by:
                return _answer(earlier, deadline_ms(ctx.db, session.exam))
    try:
        photos = [base64.b64decode(p, validate=True) for p in body.photos]
    except (binascii.Error, ValueError) as exc:
        raise ApiError(422, "materials_not_jpeg", max_bytes=MAX_PHOTO_BYTES) from exc
    material = submit(ctx.db, ctx.keys, exam=session.exam,
                      center_id=session.candidate.center_id, room=body.room,
                      reason=body.reason, candidates=body.candidates, photos=photos,
                      submitted_by=submitted_by, source="pc", taken_at_ms=body.taken_at_ms,
                      now_ms=now)
    return _answer(material, deadline_ms(ctx.db, session.exam))


def _answer(material: Material, deadline: int) -> dict[str, Any]:
    return {"id": material.id, "received_at_ms": material.received_at_ms,
            "photos": len(material.photos), "deadline_ms": deadline}


@router.get("/materials/deadline")
def get_deadline(session: CandidateAuth, ctx: Context) -> dict[str, Any]:
    deadline = deadline_ms(ctx.db, session.exam)
    return {"deadline_ms": deadline, "open": ctx.clock.now_ms() <= deadline}


# -- CLI --------------------------------------------------------------------------------

def cmd_set_time_unit(args: argparse.Namespace) -> int:
    from server.cli import open_context

    ctx = open_context(args)
    exam = ctx.db.get_exam(args.exam)
    if exam is None:
        print(_("找不到考试 {exam}").format(exam=args.exam))
        return 1
    if args.end < exam.end_ms:
        print(_("时间单元不能早于考试结束时间 {end}").format(end=beijing_datetime(exam.end_ms)))
        return 1
    set_time_unit_end(ctx.db, exam_id=exam.id, unit_end_ms=args.end)
    print(_("考试 {exam} 的应急材料提交截止时间：{deadline}").format(
        exam=exam.id, deadline=beijing_datetime(args.end)))
    return 0


def register_cli(subparsers: Any) -> None:
    from server.cli import add_data_argument, parse_time

    parser = subparsers.add_parser(
        "set-time-unit", help=_("设置考试所在时间单元的结束时间（应急材料在此之前提交）"))
    add_data_argument(parser)
    parser.add_argument("exam")
    parser.add_argument("--end", type=parse_time, required=True, metavar="ISO")
    parser.set_defaults(func=cmd_set_time_unit)
