"""Base photos (底照): stored sealed on the server, checked on upload, delivered on login.

    exam-server add-photos DIR [--exam EXAM] [--strict]     files named <student no>.jpg/.png
    exam-server remove-photos STUDENT_NO...
    GET /api/v1/attempt/base-photo                          the calling candidate's own photo
    GET /api/v1/admin/base-photos/{student_no}              an admin of the candidate's center

A photo is personal data: it is sealed with the server's storage key (server/keys.py,
like the paper keys), so a copy of the database alone shows no face; a candidate token
only ever reaches its own photo (the path has no candidate in it) and an admin token only
the photos of its own center (a platform admin: all).

Every photo goes through the collection rules of ``exam-server check-photos``
(client/camera/base_photo.py). A photo the face match cannot use at all (unreadable, no
face or several, face too small, too low a resolution) is refused; other problems
(light, background, centring) are reported and the photo is stored, because a usable
photo with a shadow is better on exam day than none. ``--strict`` refuses those too.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    select,
)

from client.errors import UserFacingError
from client.i18n import _
from server import photo_history
from server import schema as t
from server.auth import AdminAuth, CandidateAuth, Context
from server.db import Candidate, Database
from server.errors import ApiError
from server.keys import ServerKeys
from server.lazy_tables import create_once

log = logging.getLogger(__name__)

MAX_PHOTO_FILE_BYTES = 10 * 1024 * 1024
# Stored photos are re-encoded only when they are not JPEG or larger than this: SFace
# aligns faces to 112 px, so more pixels only cost bandwidth on exam morning.
MAX_STORED_SIDE_PX = 1280
JPEG_QUALITY = 92
JPEG_MAGIC = b"\xff\xd8\xff"

# Problems that make the photo useless for the 1:1 match: always refused.
UNUSABLE_PROBLEMS = frozenset(
    {"unreadable", "low_resolution", "no_face", "multiple_faces", "face_too_small"}
)

base_photos = Table(
    "base_photos",
    t.metadata,
    Column("candidate_id", Integer, ForeignKey("candidates.id"), primary_key=True),
    # AES-GCM under the storage key, bound to the candidate (see _context).
    Column("jpeg_sealed", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("uploaded_at_ms", BigInteger, nullable=False),
    Column("uploaded_by", String(100), nullable=False),
    # Problem codes the collection rules reported (stored anyway: not unusable).
    Column("problems", JSON, nullable=False, default=list),
)


def ensure_tables(db: Database) -> None:
    """Create the table if the database predates this module (idempotent, cached)."""
    create_once(db, tables=[base_photos])


def _context(candidate_id: int) -> str:
    return f"base-photo:{candidate_id}"


@dataclass(frozen=True)
class BasePhoto:
    candidate_id: int
    jpeg: bytes
    sha256: str
    uploaded_at_ms: int
    uploaded_by: str
    problems: tuple[str, ...]


class StoreOutcome(StrEnum):
    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


def put_base_photo(db: Database, keys: ServerKeys, *, candidate_id: int, jpeg: bytes,
                   now_ms: int, uploaded_by: str,
                   problems: Sequence[str] = ()) -> StoreOutcome:
    ensure_tables(db)
    sha = hashlib.sha256(jpeg).hexdigest()
    values = {
        "jpeg_sealed": keys.seal(jpeg, context=_context(candidate_id)),
        "sha256": sha,
        "size": len(jpeg),
        "uploaded_at_ms": now_ms,
        "uploaded_by": uploaded_by,
        "problems": list(problems),
    }
    where = base_photos.c.candidate_id == candidate_id
    with db.write() as conn:
        found = conn.execute(select(base_photos.c.sha256).where(where)).first()
        if found is not None and found.sha256 == sha:
            return StoreOutcome.UNCHANGED
        if found is None:
            conn.execute(base_photos.insert().values(candidate_id=candidate_id, **values))
        else:
            conn.execute(base_photos.update().where(where).values(values))
    outcome = StoreOutcome.ADDED if found is None else StoreOutcome.REPLACED
    # Who uploaded which photo when (server/photo_history.py).
    photo_history.record(db, candidate_id=candidate_id, action=outcome.value, sha256=sha,
                         at_ms=now_ms, by=uploaded_by, problems=list(problems))
    return outcome


def get_base_photo(db: Database, keys: ServerKeys, candidate_id: int) -> BasePhoto | None:
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(
            select(base_photos).where(base_photos.c.candidate_id == candidate_id)
        ).first()
    if row is None:
        return None
    jpeg = keys.unseal(bytes(row.jpeg_sealed), context=_context(candidate_id))
    return BasePhoto(candidate_id, jpeg, row.sha256, int(row.uploaded_at_ms), row.uploaded_by,
                     tuple(row.problems or ()))


def has_base_photo(db: Database, candidate_ids: Sequence[int]) -> set[int]:
    """Which of *candidate_ids* have a photo (without unsealing any)."""
    ensure_tables(db)
    with db.read() as conn:
        return set(conn.execute(
            select(base_photos.c.candidate_id)
            .where(base_photos.c.candidate_id.in_(list(candidate_ids)))).scalars())


def delete_base_photo(db: Database, candidate_id: int, *, by: str = "cli",
                      now_ms: int | None = None) -> bool:
    ensure_tables(db)
    with db.write() as conn:
        result = conn.execute(delete(base_photos).where(base_photos.c.candidate_id == candidate_id))
    removed = bool(result.rowcount)
    if removed:
        at_ms = now_ms if now_ms is not None else time.time_ns() // 1_000_000
        photo_history.record(db, candidate_id=candidate_id, action="removed", sha256=None,
                             at_ms=at_ms, by=by)
    return removed


# -- HTTP ------------------------------------------------------------------------------

router = APIRouter()

_PHOTO_HEADERS = {
    # Personal data: no cache may keep it, no browser may sniff it into something else.
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
}


def photo_response(photo: BasePhoto) -> Response:
    return Response(photo.jpeg, media_type="image/jpeg",
                    headers={**_PHOTO_HEADERS, "ETag": f'"{photo.sha256}"'})


@router.get("/attempt/base-photo", response_model=None)
def candidate_base_photo(session: CandidateAuth, ctx: Context) -> Response:
    """The calling candidate's own base photo, for the 1:1 match on the exam PC."""
    photo = get_base_photo(ctx.db, ctx.keys, session.candidate.id)
    if photo is None:
        # The center admin reads this in the server log (and on /admin/review).
        log.warning("candidate %s (center %s, exam %s) has no base photo",
                    session.candidate.student_no, session.candidate.center_id,
                    session.exam.id)
        ctx.db.add_event(attempt_id=session.attempt.id, kind="base_photo_missing",
                         payload={}, at_ms=ctx.clock.now_ms())
        raise ApiError(404, "no_base_photo")
    return photo_response(photo)


@router.get("/admin/base-photos/{student_no}", response_model=None)
def admin_base_photo(student_no: str, admin: AdminAuth, ctx: Context) -> Response:
    candidate = ctx.db.find_candidate(student_no=student_no[:64])
    # Another center's candidate looks exactly like an unknown one.
    if candidate is None or (admin.center_id is not None
                             and candidate.center_id != admin.center_id):
        raise ApiError(404, "not_found")
    photo = get_base_photo(ctx.db, ctx.keys, candidate.id)
    if photo is None:
        raise ApiError(404, "no_base_photo")
    return photo_response(photo)


# -- adding photos from a folder -------------------------------------------------------

class AddStatus(StrEnum):
    STORED = "stored"          # stored, every rule passed
    STORED_WITH_WARNINGS = "stored_with_warnings"
    UNCHANGED = "unchanged"    # the same photo was already stored
    REFUSED = "refused"


@dataclass(frozen=True)
class AddReport:
    file: str
    status: AddStatus
    code: str                       # "photos.stored", "photos.unknown_candidate", ...
    message: str
    student_no: str | None = None
    candidate_name: str | None = None
    problems: tuple[str, ...] = ()
    problem_texts: tuple[str, ...] = ()
    replaced: bool = False


def _refused(file: str, code: str, message: str, **extra: Any) -> AddReport:
    return AddReport(file=file, status=AddStatus.REFUSED, code=code, message=message, **extra)


def _find_candidate(db: Database, stem: str) -> Candidate | None:
    candidate = db.find_candidate(student_no=stem)
    if candidate is None:
        matches = db.candidates_by_username(stem)  # an ID number also names the file
        candidate = matches[0] if len(matches) == 1 else None
    return candidate


def _jpeg_to_store(data: bytes, image: Any) -> bytes:
    from client.camera.analyzer import encode_jpeg

    height, width = image.shape[:2]
    if data.startswith(JPEG_MAGIC) and max(height, width) <= MAX_STORED_SIDE_PX:
        return data  # keep the original bytes: no second JPEG generation loss
    scale = min(1.0, MAX_STORED_SIDE_PX / max(height, width))
    return encode_jpeg(image, quality=JPEG_QUALITY,
                       max_width=round(width * scale) if scale < 1.0 else None)


def add_photo(db: Database, keys: ServerKeys, *, path: Path, name: str, analyzer: Any,
              exam_id: str | None, registered: set[int] | None, strict: bool, now_ms: int,
              uploaded_by: str) -> AddReport:
    """Check and store one photo file; never raises for a bad file (it reports).

    *registered*: the candidate ids of *exam_id* (None: any candidate)."""
    from client.camera.analyzer import decode_image
    from client.camera.base_photo import PhotoProblem, check_base_image, problem_text

    stem = path.stem.strip()
    candidate = _find_candidate(db, stem)
    if candidate is None:
        return _refused(name, "photos.unknown_candidate",
                        _("文件名应为考生的学号，找不到学号为 {no} 的考生").format(no=stem))
    if registered is not None and candidate.id not in registered:
        return _refused(name, "photos.not_registered",
                        _("考生 {no} 未报名考试 {exam}").format(no=stem, exam=exam_id))
    who = {"student_no": candidate.student_no, "candidate_name": candidate.name}
    try:
        size = path.stat().st_size
        if size > MAX_PHOTO_FILE_BYTES:
            return _refused(name, "photos.too_large",
                            _("照片文件过大（{mb} MB），请小于 10 MB").format(
                                mb=round(size / 1048576, 1)), **who)
        data = path.read_bytes()
    except OSError as exc:
        return _refused(name, "photos.unreadable",
                        _("无法读取文件：{error}").format(error=exc.strerror or exc), **who)
    image = decode_image(data)
    if image is None:
        problems: tuple[PhotoProblem, ...] = (PhotoProblem.UNREADABLE,)
    else:
        problems = check_base_image(image, analyzer).problems
    codes = tuple(p.value for p in problems)
    texts = tuple(problem_text(p) for p in problems)
    detail: dict[str, Any] = {**who, "problems": codes, "problem_texts": texts}
    if set(codes) & UNUSABLE_PROBLEMS or (strict and codes):
        return _refused(name, "photos.rejected",
                        _("照片不能用于人脸比对：{problems}").format(problems="；".join(texts)),
                        **detail)
    assert image is not None
    outcome = put_base_photo(db, keys, candidate_id=candidate.id,
                             jpeg=_jpeg_to_store(data, image), now_ms=now_ms,
                             uploaded_by=uploaded_by, problems=codes)
    if outcome is StoreOutcome.UNCHANGED:
        return AddReport(file=name, status=AddStatus.UNCHANGED, code="photos.unchanged",
                         message=_("与已保存的底照相同，未修改"), **detail)
    replaced = outcome is StoreOutcome.REPLACED
    if codes:
        return AddReport(file=name, status=AddStatus.STORED_WITH_WARNINGS,
                         code="photos.stored_with_warnings", replaced=replaced,
                         message=_("已保存，但建议更换：{problems}").format(
                             problems="；".join(texts)), **detail)
    return AddReport(file=name, status=AddStatus.STORED, code="photos.stored", replaced=replaced,
                     message=_("已替换原底照") if replaced else _("已保存"), **detail)


def add_photos(db: Database, keys: ServerKeys, directory: Path, *, exam_id: str | None,
               now_ms: int, strict: bool = False, analyzer: Any = None,
               uploaded_by: str = "cli") -> list[AddReport]:
    """Check and store every photo below *directory* (one bad file never stops the rest)."""
    from server.photo_check import find_photos

    if not directory.is_dir():
        raise UserFacingError("photos.not_a_directory",
                              _("找不到底照文件夹：{path}").format(path=directory))
    if exam_id is not None and db.get_exam(exam_id) is None:
        raise UserFacingError("exam.unknown", _("考试 {exam} 不存在").format(exam=exam_id))
    ensure_tables(db)
    registered = ({c.id for c in db.registered_candidates(exam_id)}
                  if exam_id is not None else None)
    paths = find_photos(directory)
    owned = analyzer is None and bool(paths)
    if owned:
        from client.camera.analyzer import FaceAnalyzer

        analyzer = FaceAnalyzer(video_mode=False)
    try:
        reports = []
        for path in paths:
            name = path.relative_to(directory).as_posix()
            try:
                report = add_photo(db, keys, path=path, name=name, analyzer=analyzer,
                                   exam_id=exam_id, registered=registered, strict=strict,
                                   now_ms=now_ms, uploaded_by=uploaded_by)
            except Exception as exc:  # one broken file (or a busy database) must not stop the rest
                log.exception("adding base photo %s failed", path)
                report = _refused(name, "photos.internal_error",
                                  _("处理该照片时出错：{error}").format(error=exc))
            reports.append(report)
        return reports
    finally:
        if owned:
            analyzer.close()


def status_text(status: AddStatus) -> str:
    return {
        AddStatus.STORED: _("已保存"),
        AddStatus.STORED_WITH_WARNINGS: _("已保存，建议更换"),
        AddStatus.UNCHANGED: _("无变化"),
        AddStatus.REFUSED: _("拒绝"),
    }[status]


def format_add_report(report: AddReport) -> str:
    who = f" {report.student_no} {report.candidate_name}" if report.student_no else ""
    return _("[{status}] {file}{who}：{message}（{code}）").format(
        status=status_text(report.status), file=report.file, who=who,
        message=report.message, code=report.code)


def cmd_add_photos(args: argparse.Namespace) -> int:
    from server.cli import open_context

    ctx = open_context(args)
    reports = add_photos(ctx.db, ctx.keys, args.dir, exam_id=args.exam,
                         now_ms=ctx.clock.now_ms(), strict=args.strict)
    for report in reports:
        print(format_add_report(report))
    refused = sum(1 for r in reports if r.status is AddStatus.REFUSED)
    warned = sum(1 for r in reports if r.status is AddStatus.STORED_WITH_WARNINGS)
    print(_("共 {total} 张照片：保存 {stored} 张（其中建议更换 {warned} 张），无变化 {same} 张，"
            "拒绝 {refused} 张").format(
        total=len(reports),
        stored=sum(1 for r in reports if r.status in (AddStatus.STORED,
                                                      AddStatus.STORED_WITH_WARNINGS)),
        warned=warned, same=sum(1 for r in reports if r.status is AddStatus.UNCHANGED),
        refused=refused))
    if not reports:
        print(_("文件夹中没有图片（支持 jpg、png、bmp、webp、tif）"))
    return 1 if refused else 0


def cmd_remove_photos(args: argparse.Namespace) -> int:
    from server.cli import open_context

    ctx = open_context(args)
    missing = 0
    for student_no in args.student_no:
        candidate = ctx.db.find_candidate(student_no=student_no)
        if candidate is not None and delete_base_photo(ctx.db, candidate.id):
            print(_("已删除 {no} 的底照").format(no=student_no))
        else:
            missing += 1
            print(_("{no} 没有底照").format(no=student_no))
    return 1 if missing else 0


def register_cli(subparsers: Any) -> None:
    from server.cli import add_data_argument

    parser = subparsers.add_parser(
        "add-photos", help=_("导入考生底照（文件名为学号），逐张检查并加密保存"))
    add_data_argument(parser)
    parser.add_argument("dir", type=Path, help=_("底照所在文件夹"))
    parser.add_argument("--exam", default=None, help=_("只接受报名这场考试的考生的照片"))
    parser.add_argument("--strict", action="store_true",
                        help=_("有任何不符合采集要求的问题都拒绝保存"))
    parser.set_defaults(func=cmd_add_photos)

    parser = subparsers.add_parser("remove-photos", help=_("删除考生的底照"))
    add_data_argument(parser)
    parser.add_argument("student_no", nargs="+", metavar="STUDENT_NO")
    parser.set_defaults(func=cmd_remove_photos)
