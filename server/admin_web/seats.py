"""/admin/seats (考场座位): each candidate's PC as the server last saw it — the client
version it logged in with (red below the exam's floor), and the exam pledge acceptance.

Read-only; a center admin sees their center's candidates only. Server-rendered, escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from client.i18n import _
from client.paper.exam_rules import Pledge, VersionFloor
from client.proctor.identity import mask_id_number
from client.timefmt import staff_datetime
from server.admin_web.pages import _header, _page, esc
from server.admin_web.routes import _SECURITY_HEADERS, visible_exams
from server.admin_web.session import csrf_token, current_admin, session_token
from server.auth import Context
from server.db import Admin, Candidate, Database, Exam
from server.pledges import Acceptance, acceptances, pledge_for
from server.proctors import (
    ProctorRecord,
    face_match_required,
    missing_photo_warning,
    proctor_photo,
    proctor_records,
)
from server.version_floor import floor_for

router = APIRouter(prefix="/admin/seats")

# The page shows proctors' photos from this server; everything else stays as strict.
_PAGE_HEADERS = {
    **_SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'",
}

_STYLE = ("<style>.old{color:#b00;font-weight:bold}.missing{color:#b00}.ok{color:#060}"
          "img.proctor{height:96px;vertical-align:middle;border:1px solid #999}</style>")


@dataclass(frozen=True)
class Seat:
    candidate: Candidate
    attempt_id: int | None
    client_version: str | None     # None: never logged in
    client_id: str
    seen_ip: str
    login_at_ms: int | None
    pledge: Acceptance | None


def seats(db: Database, *, exam_id: str, center_id: str | None) -> list[Seat]:
    """Every registered candidate of the exam (in the admin's center) with their PC."""
    registered = [c for c in db.registered_candidates(exam_id)
                  if center_id is None or c.center_id == center_id]
    attempts = {c.id: db.find_attempt(exam_id=exam_id, candidate_id=c.id) for c in registered}
    attempt_ids = [a.id for a in attempts.values() if a is not None]
    accepted = acceptances(db, attempt_ids) if attempt_ids else {}
    last_login: dict[int, tuple[dict[str, object], int]] = {}
    for event in db.events(kind="login"):
        if event.attempt_id in attempt_ids:
            last_login[event.attempt_id] = (event.payload, event.at_ms)
    result = []
    for candidate in registered:
        attempt = attempts[candidate.id]
        payload, at_ms = last_login.get(attempt.id, ({}, None)) if attempt else ({}, None)
        result.append(Seat(
            candidate=candidate, attempt_id=attempt.id if attempt else None,
            client_version=str(payload.get("client_version") or "?") if at_ms else None,
            client_id=str(payload.get("client_id") or ""),
            seen_ip=str(payload.get("seen_ip") or ""), login_at_ms=at_ms,
            pledge=accepted.get(attempt.id) if attempt else None))
    return result


def _time(ms: int | None) -> str:
    return "-" if ms is None else staff_datetime(ms, short=True)


def _version_cell(seat: Seat, floor: VersionFloor | None) -> str:
    if seat.client_version is None:
        return esc(_("未登录"))
    if floor is not None and not floor.accepts(seat.client_version):
        return (f'<span class="old">{esc(seat.client_version)}</span> '
                f'{esc(_("（低于要求的 {need}）").format(need=floor.min_version))}')
    return esc(seat.client_version)


def _pledge_cell(seat: Seat, pledge: Pledge | None) -> str:
    if pledge is None:
        return esc(_("本场考试无承诺书"))
    if seat.pledge is not None:
        when = _time(seat.pledge.accepted_at_ms)
        return f'<span class="ok">{esc(_("已同意"))}</span> {esc(when)}'
    if seat.attempt_id is None:
        return "-"
    css = "missing" if pledge.required else ""
    return f'<span class="{css}">{esc(_("未同意"))}</span>'


def proctors_html(exam: Exam, records: Sequence[ProctorRecord], *, face_match: bool,
                  warning: str | None = None) -> str:
    """The exam's proctors by real name: name, masked ID number, photo; *warning* when a
    proctor could not pass the face match on unlock (server.proctors.missing_photo_warning)."""
    if not records:
        return f'<p id="no-proctors">{esc(_("本场考试尚未登记监考教师"))}</p>'
    items = []
    for r in records:
        photo = (f'<img class="proctor" alt="" src="/admin/seats/proctor-photo/{esc(exam.id)}/'
                 f'{esc(r.proctor_id)}">' if r.has_photo else esc(_("（无照片）")))
        items.append(f'<li id="proctor-{esc(r.proctor_id)}">{photo} <b>{esc(r.name)}</b> '
                     f"{esc(_('身份证号'))} {esc(mask_id_number(r.id_number) or '-')}</li>")
    rule = (_("解锁监考模式需要监考教师人脸比对") if face_match
            else _("解锁监考模式不需要人脸比对"))
    alert = f'<p class="missing" id="face-warning">{esc(warning)}</p>' if warning else ""
    return (f'<p id="face-rule">{esc(rule)}</p>{alert}'
            f'<ul id="proctors">{"".join(items)}</ul>')


def seats_page(*, admin: Admin, csrf: str, exams: Sequence[Exam], exam: Exam | None,
               rows: Sequence[Seat], floor: VersionFloor | None, pledge: Pledge | None,
               proctors: str = "") -> str:
    options = "".join(
        f'<option value="{esc(e.id)}"{" selected" if exam and e.id == exam.id else ""}>'
        f"{esc(e.id)} {esc(e.title)}</option>" for e in exams)
    head = "".join(f"<th>{esc(h)}</th>" for h in (
        _("考生"), _("客户端版本"), _("电脑"), _("登录时间"), _("考试承诺书")))
    body = "".join(
        f'<tr id="seat-{esc(s.candidate.student_no)}">'
        f"<td>{esc(s.candidate.student_no)} {esc(s.candidate.name)}</td>"
        f"<td>{_version_cell(s, floor)}</td><td>{esc(s.client_id[:12])} {esc(s.seen_ip)}</td>"
        f"<td>{esc(_time(s.login_at_ms))}</td><td>{_pledge_cell(s, pledge)}</td></tr>"
        for s in rows)
    rule = (_("最低客户端版本：{need}").format(need=floor.min_version) if floor
            else _("本场考试未规定最低客户端版本"))
    return _page(_("考场座位"), f"""{_STYLE}
{_header(admin, csrf)}
<h1>{esc(_("考场座位"))}</h1>
<form method="get" action="/admin/seats"><label>{esc(_("考试"))}
<select name="exam" id="exam">{options}</select></label>
<button type="submit">{esc(_("查看"))}</button></form>
<p id="floor">{esc(rule)}</p>
<table id="seats"><tr>{head}</tr>{body}</table>
<h2>{esc(_("监考教师"))}</h2>{proctors}""")


@router.get("", response_model=None)
def seats_list(request: Request, ctx: Context, exam: str = "") -> Response:
    admin = current_admin(request, ctx)
    token = session_token(request)
    if admin is None or token is None:
        return RedirectResponse("/admin/login", status_code=303, headers=_SECURITY_HEADERS)
    exams = visible_exams(ctx, admin)
    chosen = next((e for e in exams if e.id == exam), exams[0] if exams else None)
    rows = seats(ctx.db, exam_id=chosen.id, center_id=admin.center_id) if chosen else []
    return HTMLResponse(seats_page(
        admin=admin, csrf=csrf_token(token), exams=exams, exam=chosen, rows=rows,
        floor=floor_for(ctx.db, chosen.id) if chosen else None,
        pledge=pledge_for(ctx.db, chosen.id) if chosen else None,
        proctors=proctors_html(chosen, proctor_records(ctx.db, chosen.id),
                               face_match=face_match_required(ctx.db, chosen.id),
                               warning=missing_photo_warning(ctx.db, chosen.id))
        if chosen else ""), headers=_PAGE_HEADERS)


@router.get("/proctor-photo/{exam_id}/{proctor_id}", response_model=None)
def proctor_photo_image(exam_id: str, proctor_id: str, request: Request,
                        ctx: Context) -> Response:
    admin = current_admin(request, ctx)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'"}
    if admin is None:
        return Response(status_code=401, headers=headers)
    visible = {e.id for e in visible_exams(ctx, admin)}
    photo = proctor_photo(ctx.db, ctx.keys, exam_id=exam_id, proctor_id=proctor_id) \
        if exam_id in visible else None
    if photo is None:
        return Response(status_code=404, headers=headers)
    return Response(photo, media_type="image/jpeg", headers=headers)
