"""/console/materials: emergency materials (应急材料) from the invigilation console.

A proctor or chief examiner signed in to the console on a phone or laptop on the exam
LAN submits room photos, ticks the emergency candidates and gives a reason, exactly as an
admin can on /admin/materials, but inside their own scope: a proctor for their room, a
chief for any room of their center, an admin for any room. The room and the candidates
offered come from the room plan (console seats), and the server checks both again on
submit. The uploader is recorded and watermarked by real name (the account's name and
role), not by a login name. Works without JavaScript (the console's CSP allows no inline
script): a multipart form with the CSRF token of the console session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from client.i18n import _
from client.timefmt import beijing_datetime
from server import schema as t
from server.admin_web.materials_routes import (
    REFUSAL_TEXTS,
    material_html,
    submit_browser_upload,
)
from server.auth import Context
from server.console import identity, pages
from server.console import tables as ct
from server.console.roles import Account
from server.console.web import (
    _HEADERS,
    _account,
    _csrf_ok,
    _foreign,
    _session,
    csrf_token,
    same_origin,
    visible_exams,
)
from server.context import ServerContext
from server.db import Exam
from server.errors import ApiError
from server.materials import (
    MAX_PHOTOS,
    Material,
    deadline_ms,
    list_materials,
    read_photo,
)

# Under the console router (server/console/__init__.py): /console/materials
router = APIRouter(prefix="/materials")


@dataclass(frozen=True)
class SeatedCandidate:
    center_id: str
    room: str
    seat: str
    student_no: str
    name: str


def seated(ctx: ServerContext, account: Account, exam_id: str) -> list[SeatedCandidate]:
    """The exam's seats inside the account's scope, by room and seat."""
    ct.ensure_tables(ctx.db)
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(ct.seats.c.center_id, ct.seats.c.room, ct.seats.c.seat,
                   t.candidates.c.student_no, t.candidates.c.name)
            .join(t.candidates, t.candidates.c.id == ct.seats.c.candidate_id)
            .where(ct.seats.c.exam_id == exam_id)).all()
    found = [SeatedCandidate(r.center_id, r.room, r.seat, r.student_no, r.name) for r in rows
             if account.sees(center_id=r.center_id, room=r.room)]
    return sorted(found, key=lambda s: (s.center_id, s.room, s.seat.zfill(8)))


def _place(center_id: str, room: str) -> str:
    return f"{center_id}|{room}"


def _visible(material: Material, account: Account) -> bool:
    return material.center_id is not None and account.sees(center_id=material.center_id,
                                                           room=material.room)


def uploader(account: Account) -> str:
    """How a console upload is signed: the person's name and role, then the account."""
    return f"{account.display_name}（{account.role.label}，{account.username}）"


def page(*, account: Account, csrf: str, real_name: identity.RealName | None,
         exams: Sequence[Exam], exam: Exam | None, seats: Sequence[SeatedCandidate],
         found: Sequence[Material], deadline: int | None, now_ms: int, message: str = "",
         error: str = "") -> str:
    esc = pages.esc
    options = "".join(
        f'<option value="{esc(e.id)}"{" selected" if exam and e.id == exam.id else ""}>'
        f"{esc(e.title)}</option>" for e in exams)
    places = sorted({(s.center_id, s.room) for s in seats})
    room_options = "".join(
        f'<option value="{esc(_place(c, r))}">{esc(r)}'
        f'{"" if account.center_id else "（" + esc(c) + "）"}</option>' for c, r in places)
    boxes = "".join(
        f'<label class="cand"><input type="checkbox" name="candidates" '
        f'value="{esc(s.student_no)}"> {esc(s.room)} {esc(_("座位"))}{esc(s.seat)} '
        f'{esc(s.student_no)} <b>{esc(s.name)}</b></label>' for s in seats)
    is_open = deadline is not None and now_ms <= deadline
    state = ""
    if deadline is not None:
        state = (f'<p class="{"ok" if is_open else "error"}" id="deadline">'
                 + esc((_("提交截止时间：{deadline}（考试时间单元结束）") if is_open
                        else _("应急材料提交已截止（截止时间 {deadline}）"))
                       .format(deadline=beijing_datetime(deadline))) + "</p>")
    names = {s.student_no: s.name for s in seats}
    listing = "".join(material_html(m, names, photo_base="/console/materials/photo")
                      for m in found) or f'<p id="none">{esc(_("尚无应急材料"))}</p>'
    note = f'<p id="message" class="ok">{esc(message)}</p>' if message else ""
    error_html = f'<p class="error" id="error" role="alert">{esc(error)}</p>' if error else ""
    form = "" if exam is None or not is_open or not places else f"""
<form method="post" action="/console/materials" enctype="multipart/form-data" id="upload">
<input type="hidden" name="csrf" value="{esc(csrf)}">
<input type="hidden" name="exam" value="{esc(exam.id)}">
<p><label>{esc(_("考场"))} <select name="place" id="place">{room_options}</select></label></p>
<p><label>{esc(_("原因"))}<br><textarea name="reason" id="reason" rows="3" maxlength="2000"
 required></textarea></label></p>
<fieldset><legend>{esc(_("应急考生（与所选考场一致）"))}</legend>{boxes}</fieldset>
<p><label>{esc(_("考场全景照片（最多 {n} 张）").format(n=MAX_PHOTOS))}
<input type="file" name="photos" id="photos" accept="image/jpeg" capture="environment"
 multiple required></label></p>
<p><button type="submit" id="submit" class="primary">{esc(_("提交应急材料"))}</button></p>
</form>"""
    signed_as = _("提交人（写入水印）：{who}").format(who=uploader(account))
    body = f"""{pages.header(account, csrf, real_name)}
<main class="wide materials"><h1>{esc(_("应急材料"))}</h1>{note}{error_html}
<form method="get" action="/console/materials"><label>{esc(_("考试"))}
<select name="exam" id="exam">{options}</select></label>
<button type="submit">{esc(_("查看"))}</button></form>
<p>{esc(_("身份核验未通过的考场：开考 30 分钟后拍摄考场全景照片（考生清晰可见），标记应急考生，"
          "填写原因，在考试时间单元结束前提交；截止后不再接收。"))}</p>
<p class="muted" id="signed-as">{esc(signed_as)}</p>
{state}{form}<h2>{esc(_("已提交的应急材料"))}</h2>{listing}</main>"""
    return pages.page(_("应急材料"), body)


def _render(ctx: ServerContext, account: Account, token: str, exam_id: str, *,
            message: str = "", error: str = "", status: int = 200) -> HTMLResponse:
    exams = visible_exams(ctx, account)
    chosen = next((e for e in exams if e.id == exam_id), exams[0] if exams else None)
    seats = seated(ctx, account, chosen.id) if chosen else []
    found = [m for m in list_materials(ctx.db, exam_id=chosen.id, center_id=account.center_id)
             if _visible(m, account)] if chosen else []
    return HTMLResponse(page(
        account=account, csrf=csrf_token(token),
        real_name=identity.real_name(ctx.db, account.username), exams=exams, exam=chosen,
        seats=seats, found=found, deadline=deadline_ms(ctx.db, chosen) if chosen else None,
        now_ms=ctx.clock.now_ms(), message=message, error=error),
        status_code=status, headers=_HEADERS)


@router.get("", response_model=None)
def materials_form(request: Request, ctx: Context, exam: str = "") -> Response:
    account = _account(request, ctx)
    token = _session(request)
    if account is None or token is None:
        return RedirectResponse("/console/login", status_code=303, headers=_HEADERS)
    return _render(ctx, account, token, exam)


@router.post("", response_model=None)
def materials_upload(request: Request, ctx: Context,
                     photos: Annotated[list[UploadFile], File()],
                     csrf: Annotated[str, Form()] = "", exam: Annotated[str, Form()] = "",
                     place: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                     candidates: Annotated[list[str] | None, Form()] = None) -> Response:
    account = _account(request, ctx)
    token = _session(request)
    if account is None or token is None:
        return RedirectResponse("/console/login", status_code=303, headers=_HEADERS)
    if not _csrf_ok(token, csrf) or not same_origin(request,
                                                    trust_proxy=ctx.settings.trust_proxy):
        return _foreign()
    chosen = next((e for e in visible_exams(ctx, account) if e.id == exam), None)
    if chosen is None:
        return Response(status_code=404, headers=_HEADERS)
    seats = seated(ctx, account, chosen.id)
    room_seats = [s for s in seats if _place(s.center_id, s.room) == place]
    if not room_seats:  # a room outside the scope looks like no room at all
        return _render(ctx, account, token, chosen.id, error=_("请选择您负责的考场"),
                       status=422)
    center_id, room = room_seats[0].center_id, room_seats[0].room
    in_room = {s.student_no for s in room_seats}
    elsewhere = [c for c in (candidates or []) if c not in in_room]
    if elsewhere:
        # Ticked in another room (or not in the scope at all): the proctor chose the wrong
        # room or the wrong people; say so instead of dropping them silently.
        return _render(ctx, account, token, chosen.id, status=422, error=_(
            "这些考生不在所选考场 {room}：{who}").format(room=room, who="、".join(elsewhere)))
    try:
        material = submit_browser_upload(ctx, exam=chosen, center_id=center_id, room=room,
                                         reason=reason, candidates=list(candidates or []),
                                         photos=photos, who=uploader(account),
                                         source="console")
    except ApiError as refused:
        code = refused.code
        text = REFUSAL_TEXTS[code](refused.detail) if code in REFUSAL_TEXTS else code
        return _render(ctx, account, token, chosen.id, error=text,
                       status=403 if code == "materials_closed" else 422)
    return _render(ctx, account, token, chosen.id, message=_(
        "应急材料 #{id} 已提交（{n} 张照片）").format(id=material.id, n=len(material.photos)))


@router.get("/photo/{photo_id}", response_model=None)
def material_photo(photo_id: int, request: Request, ctx: Context) -> Response:
    account = _account(request, ctx)
    found = read_photo(ctx.db, ctx.keys, photo_id) if account is not None else None
    if account is None or found is None or not _visible(found[0], account):
        return Response(status_code=404, headers=_HEADERS)
    return Response(found[1], media_type="image/jpeg", headers=_HEADERS)


@router.get("/me/photo", response_model=None)
def own_photo(request: Request, ctx: Context) -> Response:
    """The signed-in account's own photo (the header's real-name line)."""
    account = _account(request, ctx)
    photo = (identity.account_photo(ctx.db, ctx.keys, account.username)
             if account is not None else None)
    if photo is None:
        return Response(status_code=404, headers=_HEADERS)
    return Response(photo, media_type="image/jpeg", headers=_HEADERS)
