"""/admin/photos (底照报告): per-candidate base photo report with advice lines, the list of
candidates without a photo, the photo history, and the whole center as CSV
(/admin/photos.csv). A center admin sees their center's candidates only."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from client.i18n import _
from client.timefmt import beijing_datetime
from server.admin_web.pages import _header, _page, esc
from server.admin_web.routes import _SECURITY_HEADERS, visible_exams
from server.admin_web.session import csrf_token, current_admin, session_token
from server.auth import Context
from server.base_photos import get_base_photo
from server.db import Admin, Exam
from server.photo_report import CandidatePhoto, center_report, report_csv

router = APIRouter(prefix="/admin")

_PAGE_HEADERS = {
    **_SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'",
}
_IMAGE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                  "Content-Security-Policy": "default-src 'none'"}
_STYLE = """<style>img.photo{height:120px;border:1px solid #999}.bad{color:#b00}
.good{color:#060}.none{color:#b00;font-weight:bold}ul.advice{margin:0;padding-left:1.2em}
small.history{color:#555}</style>"""

def _row(r: CandidatePhoto) -> str:
    c = r.candidate
    if not r.has_photo:
        state = f'<span class="none">{esc(_("无底照"))}</span>'
        photo = ""
    elif r.ok:
        state = f'<span class="good">{esc(_("合格"))}</span>'
        photo = f'<img class="photo" alt="" src="/admin/photos/image/{c.id}">'
    else:
        state = f'<span class="bad">{esc(_("需重拍"))}</span>'
        photo = f'<img class="photo" alt="" src="/admin/photos/image/{c.id}">'
    advice = "".join(f'<li data-code="{esc(code)}">{esc(text)}</li>'
                     for code, text in zip(r.problems, r.advice, strict=True))
    actions = {"added": _("上传"), "replaced": _("替换"), "removed": _("删除")}
    changes = "<br>".join(
        f"{esc(beijing_datetime(h.at_ms))} {esc(actions.get(h.action, h.action))} "
        f"{esc(h.by)} {esc((h.sha256 or '')[:8])}" for h in r.history)
    return (f'<tr id="photo-{esc(c.student_no)}" data-ok="{int(r.ok)}">'
            f"<td>{esc(c.student_no)}<br>{esc(c.name)}</td><td>{photo}</td><td>{state}"
            f'<ul class="advice">{advice}</ul></td>'
            f'<td><small class="history">{changes or "-"}</small></td></tr>')


def photos_page(*, admin: Admin, csrf: str, exams: Sequence[Exam], exam: Exam | None,
                rows: Sequence[CandidatePhoto]) -> str:
    options = "".join(
        f'<option value="{esc(e.id)}"{" selected" if exam and e.id == exam.id else ""}>'
        f"{esc(e.id)} {esc(e.title)}</option>" for e in exams)
    missing = [r for r in rows if not r.has_photo]
    bad = [r for r in rows if r.has_photo and not r.ok]
    head = "".join(f"<th>{esc(h)}</th>" for h in (_("考生"), _("底照"), _("检查结果与整改建议"),
                                                   _("底照记录（谁在何时上传）")))
    summary = _("共 {total} 名考生：底照合格 {ok} 人，需重拍 {bad} 人，无底照 {missing} 人").format(
        total=len(rows), ok=len(rows) - len(bad) - len(missing), bad=len(bad),
        missing=len(missing))
    no_photo = "".join(f"<li>{esc(r.candidate.student_no)} {esc(r.candidate.name)}</li>"
                       for r in missing)
    csv_link = (f'<a id="csv" href="/admin/photos.csv?exam={esc(exam.id)}">'
                f'{esc(_("下载全考点 CSV 报告"))}</a>') if exam else ""
    return _page(_("底照报告"), f"""{_STYLE}
{_header(admin, csrf)}
<h1>{esc(_("底照报告"))}</h1>
<form method="get" action="/admin/photos"><label>{esc(_("考试"))}
<select name="exam" id="exam">{options}</select></label>
<button type="submit">{esc(_("查看"))}</button></form>
<p id="summary">{esc(summary)} · {csv_link}</p>
<h2>{esc(_("没有底照的考生"))}</h2><ul id="no-photo">{no_photo or "<li>-</li>"}</ul>
<table id="photos"><tr>{head}</tr>{"".join(_row(r) for r in rows)}</table>""")


def _chosen(request: Request, ctx: Context, exam: str) -> tuple[Admin, str, list[Exam],
                                                                Exam | None] | None:
    admin = current_admin(request, ctx)
    token = session_token(request)
    if admin is None or token is None:
        return None
    exams = visible_exams(ctx, admin)
    return admin, token, exams, next((e for e in exams if e.id == exam),
                                     exams[0] if exams else None)


@router.get("/photos", response_model=None)
def photos(request: Request, ctx: Context, exam: str = "") -> Response:
    found = _chosen(request, ctx, exam)
    if found is None:
        return RedirectResponse("/admin/login", status_code=303, headers=_SECURITY_HEADERS)
    admin, token, exams, chosen = found
    rows = center_report(ctx.db, ctx.keys, exam_id=chosen.id,
                         center_id=admin.center_id) if chosen else []
    return HTMLResponse(photos_page(admin=admin, csrf=csrf_token(token), exams=exams,
                                    exam=chosen, rows=rows), headers=_PAGE_HEADERS)


@router.get("/photos.csv", response_model=None)
def photos_csv(request: Request, ctx: Context, exam: str = "") -> Response:
    found = _chosen(request, ctx, exam)
    if found is None:
        return Response(status_code=401, headers=_SECURITY_HEADERS)
    admin, _token, _exams, chosen = found
    if chosen is None:
        return Response(status_code=404, headers=_SECURITY_HEADERS)
    rows = center_report(ctx.db, ctx.keys, exam_id=chosen.id, center_id=admin.center_id)
    body = "\ufeff" + report_csv(rows)
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        **_SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="photo-report-{chosen.id}.csv"'})


@router.get("/photos/image/{candidate_id}", response_model=None)
def photo_image(candidate_id: int, request: Request, ctx: Context) -> Response:
    admin = current_admin(request, ctx)
    if admin is None:
        return Response(status_code=401, headers=_IMAGE_HEADERS)
    candidate = ctx.db.get_candidate(candidate_id)
    if candidate is None or (admin.center_id is not None
                             and candidate.center_id != admin.center_id):
        return Response(status_code=404, headers=_IMAGE_HEADERS)
    photo = get_base_photo(ctx.db, ctx.keys, candidate_id)
    if photo is None:
        return Response(status_code=404, headers=_IMAGE_HEADERS)
    return Response(photo.jpeg, media_type="image/jpeg", headers=_IMAGE_HEADERS)
