"""/admin/materials: emergency materials from a phone or laptop browser on the LAN.

The page works without JavaScript: a form with the room, the reason, the emergency
candidates (tick boxes) and photo files (``capture`` opens a phone's camera). The server
watermarks each uploaded photo (exam time, center, who uploaded, server time) before it
seals it, so photos from a phone carry the same marks as those from an exam PC. Below
the form: every submission of the exam in the admin's scope, with its photos.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from client.i18n import _
from client.timefmt import beijing_datetime
from server.admin_web.pages import _header, _page, esc, login_page
from server.admin_web.routes import _SECURITY_HEADERS, visible_exams
from server.admin_web.session import csrf_ok, csrf_token, current_admin, session_token
from server.auth import Context
from server.center_address import CenterLabel, center_label
from server.context import ServerContext
from server.db import Admin, Candidate, Exam
from server.errors import ApiError
from server.materials import (
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    Material,
    closed_error,
    deadline_ms,
    list_materials,
    materials_by_candidate,
    read_photo,
    submit,
)

if TYPE_CHECKING:  # the watermark code pulls in OpenCV: loaded on the first upload only
    from client.proctor.materials import MaterialsWatermarkInfo

router = APIRouter(prefix="/admin/materials")

_PAGE_HEADERS = {
    **_SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'",
}
_IMAGE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                  "Content-Security-Policy": "default-src 'none'", "Referrer-Policy": "no-referrer"}
_STYLE = """<style>img.material{max-height:180px;margin:.2em;border:1px solid #999}
.closed{color:#b00;font-weight:bold}.open{color:#060}textarea{width:100%}
label.cand{display:inline-block;min-width:14em}</style>"""


def _time(ms: int | None) -> str:
    # The exam's time zone (Beijing), like the deadline above it: never the server's own.
    return "-" if ms is None else beijing_datetime(ms)


def material_html(material: Material, names: dict[str, str], *,
                  photo_base: str = "/admin/materials/photo") -> str:
    """One submission: who, when, reason, marked candidates by student number and real
    name, photos (review page and the console too; *photo_base*: where its photos are)."""
    marked = "、".join(f"{c} {names.get(c, '')}".strip() for c in material.candidates) or "-"
    photos = "".join(f'<img class="material" alt="" src="{photo_base}/{p.id}">'
                     for p in material.photos)
    return (f'<div class="material" id="material-{material.id}">'
            f"<p><b>{esc(_('应急材料'))} #{material.id}</b> {esc(_time(material.received_at_ms))}"
            f" · {esc(material.submitted_by)} · {esc(material.room)}</p>"
            f"<p>{esc(_('原因'))}：{esc(material.reason)}</p>"
            f"<p>{esc(_('应急考生'))}：{esc(marked)}</p>{photos}</div>")


def materials_page(*, admin: Admin, csrf: str, exams: Sequence[Exam], exam: Exam | None,
                   candidates: Sequence[Candidate], found: Sequence[Material],
                   deadline: int | None, now_ms: int, message: str = "",
                   error: str = "") -> str:
    options = "".join(
        f'<option value="{esc(e.id)}"{" selected" if exam and e.id == exam.id else ""}>'
        f"{esc(e.id)} {esc(e.title)}</option>" for e in exams)
    boxes = "".join(
        f'<label class="cand"><input type="checkbox" name="candidates" '
        f'value="{esc(c.student_no)}"> {esc(c.student_no)} {esc(c.name)}</label>'
        for c in candidates)
    is_open = deadline is not None and now_ms <= deadline
    state = ""
    if deadline is not None:
        state = (f'<p class="{"open" if is_open else "closed"}" id="deadline">'
                 + esc((_("提交截止时间：{deadline}（考试时间单元结束）") if is_open
                        else _("应急材料提交已截止（截止时间 {deadline}）"))
                       .format(deadline=beijing_datetime(deadline))) + "</p>")
    names = {c.student_no: c.name for c in candidates}
    listing = "".join(material_html(m, names) for m in found) or (
        f'<p id="none">{esc(_("尚无应急材料"))}</p>')
    note = f'<p id="message">{esc(message)}</p>' if message else ""
    who = _("提交人（写入水印）：{who}").format(who=admin.signature)
    signed_as = f'<p id="signed-as">{esc(who)}</p>'
    if admin.real_name is None:
        missing = _("本账号尚未登记真实姓名，提交的材料将署名为“未登记实名”。请考点管理员运行 "
                    "exam-server add-admin {user} --name 真实姓名 登记。").format(
                        user=admin.username)
        signed_as += f'<p class="closed" id="no-real-name">{esc(missing)}</p>'
    error_html = f'<p class="error" id="error">{esc(error)}</p>' if error else ""
    form = "" if exam is None or not is_open else f"""
<form method="post" action="/admin/materials" enctype="multipart/form-data" id="upload">
<input type="hidden" name="csrf" value="{esc(csrf)}">
<input type="hidden" name="exam" value="{esc(exam.id)}">
<p><label>{esc(_("考场"))} <input name="room" id="room" maxlength="100"></label></p>
<p><label>{esc(_("原因"))}<br><textarea name="reason" id="reason" rows="3" maxlength="2000"
 required></textarea></label></p>
<fieldset><legend>{esc(_("应急考生"))}</legend>{boxes}</fieldset>
<p><label>{esc(_("考场全景照片（最多 {n} 张）").format(n=MAX_PHOTOS))}
<input type="file" name="photos" id="photos" accept="image/jpeg" capture="environment"
 multiple required></label></p>
{signed_as}
<p><button type="submit" id="submit">{esc(_("提交应急材料"))}</button></p>
</form>"""
    return _page(_("应急材料"), f"""{_STYLE}
{_header(admin, csrf)}
<h1>{esc(_("应急材料"))}</h1>{note}{error_html}
<form method="get" action="/admin/materials"><label>{esc(_("考试"))}
<select name="exam" id="exam">{options}</select></label>
<button type="submit">{esc(_("查看"))}</button></form>
<p>{esc(_("身份核验未通过的考场：开考 30 分钟后拍摄考场全景照片（考生清晰可见），标记应急考生，"
          "填写原因，在考试时间单元结束前提交；截止后不再接收。"))}</p>
{state}{form}<h2>{esc(_("已提交的应急材料"))}</h2>{listing}""")


def review_materials(ctx: ServerContext, admin: Admin, exam: Exam) -> dict[str, str]:
    """For the review page: HTML per marked student number, and under "" every
    submission of the exam (a room's materials concern candidates not held too)."""
    found = list_materials(ctx.db, exam_id=exam.id, center_id=admin.center_id)
    if not found:
        return {}
    names = {c.student_no: c.name for c in ctx.db.registered_candidates(exam.id)}
    per_candidate: dict[str, str] = {}
    for student_no, items in materials_by_candidate(found).items():
        per_candidate[student_no] = "".join(material_html(m, names) for m in items)
    per_candidate[""] = (f'<h2 id="materials">{esc(_("应急材料"))}</h2>'
                         + "".join(material_html(m, names) for m in found))
    return per_candidate


def _in_center(candidates: Sequence[Candidate], admin: Admin) -> list[Candidate]:
    return [c for c in candidates if admin.center_id is None or c.center_id == admin.center_id]


def _render(ctx: ServerContext, admin: Admin, token: str, exam_id: str, *, message: str = "",
            error: str = "", status: int = 200) -> HTMLResponse:
    exams = visible_exams(ctx, admin)
    chosen = next((e for e in exams if e.id == exam_id), exams[0] if exams else None)
    candidates = _in_center(ctx.db.registered_candidates(chosen.id), admin) if chosen else []
    found = list_materials(ctx.db, exam_id=chosen.id, center_id=admin.center_id) \
        if chosen else []
    return HTMLResponse(materials_page(
        admin=admin, csrf=csrf_token(token), exams=exams, exam=chosen, candidates=candidates,
        found=found, deadline=deadline_ms(ctx.db, chosen) if chosen else None,
        now_ms=ctx.clock.now_ms(), message=message, error=error),
        status_code=status, headers=_PAGE_HEADERS)


@router.get("", response_model=None)
def materials_form(request: Request, ctx: Context, exam: str = "") -> Response:
    admin = current_admin(request, ctx)
    token = session_token(request)
    if admin is None or token is None:
        return RedirectResponse("/admin/login", status_code=303, headers=_SECURITY_HEADERS)
    return _render(ctx, admin, token, exam)


def upload_watermark(*, exam: Exam, center: CenterLabel | None, room: str, who: str,
                     now_ms: int) -> MaterialsWatermarkInfo:
    """The watermark of a browser upload: the admin's center by its registered name and
    address (server/center_address.py), as on an exam PC; "-" for a platform admin."""
    from client.proctor.materials import MaterialsWatermarkInfo

    return MaterialsWatermarkInfo(
        exam_time=f"{beijing_datetime(exam.start_ms)}-{beijing_datetime(exam.end_ms)[-5:]}",
        center_id=center.id if center else "-", center_name=center.name if center else "-",
        center_address=center.address if center else "", room=room,
        candidate_id="EMERGENCY", taken_at=beijing_datetime(now_ms), proctor=who)


def watermarked(data: bytes, info: MaterialsWatermarkInfo) -> bytes:
    from client.camera.analyzer import decode_image
    from client.proctor.materials import room_photo

    image = decode_image(data)
    if image is None:
        raise ApiError(422, "materials_not_jpeg", max_bytes=MAX_PHOTO_BYTES)
    return room_photo(image, info)


def submit_browser_upload(ctx: ServerContext, *, exam: Exam, center_id: str | None,
                          room: str, reason: str, candidates: list[str],
                          photos: Sequence[UploadFile], who: str, source: str) -> Material:
    """Materials uploaded from a browser (admin page or console): refused after the
    deadline before any photo is read, photos read with their size limit, watermarked
    and submitted. Raises ApiError with a REFUSAL_TEXTS code."""
    now = ctx.clock.now_ms()
    if now > deadline_ms(ctx.db, exam):  # before reading megabytes of photos
        raise closed_error(deadline_ms(ctx.db, exam))
    data = [f.file.read(MAX_PHOTO_BYTES + 1) for f in photos[:MAX_PHOTOS + 1]]
    if any(len(d) > MAX_PHOTO_BYTES for d in data):
        raise ApiError(422, "materials_not_jpeg", max_bytes=MAX_PHOTO_BYTES)
    if len(data) > MAX_PHOTOS:
        raise ApiError(422, "materials_photos", max_photos=MAX_PHOTOS)
    info = upload_watermark(exam=exam, center=center_label(ctx.db, center_id),
                            room=room.strip(), who=who, now_ms=now)
    marked_photos = [watermarked(d, info) for d in data if d]
    return submit(ctx.db, ctx.keys, exam=exam, center_id=center_id, room=room, reason=reason,
                  candidates=candidates, photos=marked_photos, submitted_by=who,
                  source=source, taken_at_ms=now, now_ms=now)


REFUSAL_TEXTS = {
    "materials_closed": lambda d: _("应急材料提交已截止（截止时间 {deadline}）").format(
        deadline=d.get("deadline", "?")),
    "materials_reason": lambda d: _("请填写提交应急材料的原因"),
    "materials_photos": lambda d: _("请上传 1 至 {n} 张照片").format(n=MAX_PHOTOS),
    "materials_not_jpeg": lambda d: _("照片必须是 JPEG 图片，每张不超过 4 MB"),
    "materials_unknown_candidates": lambda d: _("这些考生不在本场考试中：{who}").format(
        who="、".join(d.get("candidates", []))),
}


@router.post("", response_model=None)
def materials_upload(request: Request, ctx: Context,
                     photos: Annotated[list[UploadFile], File()],
                     csrf: Annotated[str, Form()] = "", exam: Annotated[str, Form()] = "",
                     room: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                     candidates: Annotated[list[str] | None, Form()] = None) -> Response:
    admin = current_admin(request, ctx)
    token = session_token(request)
    if admin is None or token is None:
        return HTMLResponse(login_page(error=_("请先以考点管理员身份登录")), status_code=401,
                            headers=_SECURITY_HEADERS)
    if not csrf_ok(token, csrf):
        return HTMLResponse(login_page(error=_("页面已过期，请重新登录")), status_code=403,
                            headers=_SECURITY_HEADERS)
    chosen = next((e for e in visible_exams(ctx, admin) if e.id == exam), None)
    if chosen is None:
        return Response(status_code=404, headers=_SECURITY_HEADERS)
    in_scope = {c.student_no for c in _in_center(ctx.db.registered_candidates(chosen.id), admin)}
    marked = [c for c in (candidates or []) if c in in_scope]
    # Signed with the real name of the admin's account (add-admin --name), never a
    # typed field: the watermark and the review page say who uploaded.
    who = admin.signature
    try:
        material = submit_browser_upload(ctx, exam=chosen, center_id=admin.center_id, room=room,
                                         reason=reason, candidates=marked, photos=photos,
                                         who=who, source="web")
    except ApiError as refused:
        code = refused.code
        text = REFUSAL_TEXTS[code](refused.detail) if code in REFUSAL_TEXTS else code
        return _render(ctx, admin, token, chosen.id, error=text,
                       status=403 if code == "materials_closed" else 422)
    return _render(ctx, admin, token, chosen.id, message=_(
        "应急材料 #{id} 已提交（{n} 张照片）").format(id=material.id, n=len(material.photos)))


@router.get("/photo/{photo_id}", response_model=None)
def material_photo(photo_id: int, request: Request, ctx: Context) -> Response:
    admin = current_admin(request, ctx)
    if admin is None:
        return Response(status_code=401, headers=_IMAGE_HEADERS)
    found = read_photo(ctx.db, ctx.keys, photo_id)
    if found is None or (admin.center_id is not None
                         and found[0].center_id != admin.center_id):
        return Response(status_code=404, headers=_IMAGE_HEADERS)
    return Response(found[1], media_type="image/jpeg", headers=_IMAGE_HEADERS)
