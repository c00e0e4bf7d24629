"""/admin/review: attempts held for review (待审核, 人脸识别认证未通过) with their images.

A center admin sees only their center's candidates, and their images; a platform admin
sees all. Images are served one by one, only to an admin session in scope, never cached.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from client.i18n import _
from server.admin_web import review_pages
from server.admin_web.pages import login_page
from server.admin_web.routes import _SECURITY_HEADERS, visible_exams
from server.admin_web.session import csrf_ok, csrf_token, current_admin, session_token
from server.auth import Context
from server.base_photos import get_base_photo, has_base_photo
from server.context import ServerContext
from server.db import Admin, Attempt, Candidate
from server.review import clear_review, review_entries
from server.review_store import read_image

router = APIRouter(prefix="/admin/review")

# The review page shows images from this server; everything else stays as strict.
_PAGE_HEADERS = {
    **_SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'",
}
_IMAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Referrer-Policy": "no-referrer",
}


def _in_scope(ctx: ServerContext, admin: Admin,
              attempt_id: int) -> tuple[Attempt, Candidate] | None:
    attempt = ctx.db.get_attempt(attempt_id)
    candidate = ctx.db.get_candidate(attempt.candidate_id) if attempt else None
    if attempt is None or candidate is None:
        return None
    if admin.center_id is not None and candidate.center_id != admin.center_id:
        return None
    return attempt, candidate


def _not_found() -> Response:
    # The same answer for "no such image" and "another center's image".
    return Response(status_code=404, headers=_IMAGE_HEADERS)


@router.get("", response_model=None)
def review_list(request: Request, ctx: Context, exam: str = "",
                message: str = "") -> Response:
    admin = current_admin(request, ctx)
    token = session_token(request)
    if admin is None or token is None:
        return RedirectResponse("/admin/login", status_code=303, headers=_SECURITY_HEADERS)
    exams = visible_exams(ctx, admin)
    chosen = next((e for e in exams if e.id == exam), exams[0] if exams else None)
    entries = []
    with_photo: set[int] = set()
    without_photo: list[Candidate] = []
    if chosen is not None:
        entries = review_entries(ctx.db, exam_id=chosen.id, center_id=admin.center_id,
                                 now_ms=ctx.clock.now_ms())
        registered = [c for c in ctx.db.registered_candidates(chosen.id)
                      if admin.center_id is None or c.center_id == admin.center_id]
        with_photo = has_base_photo(ctx.db, [c.id for c in registered])
        without_photo = [c for c in registered if c.id not in with_photo]
    notes = {"cleared": _("已标记为已审核")}
    from server.admin_web.materials_routes import review_materials

    materials = review_materials(ctx, admin, chosen) if chosen is not None else {}
    return HTMLResponse(review_pages.review_page(
        admin=admin, csrf=csrf_token(token), exams=exams, exam=chosen, entries=entries,
        with_photo=with_photo, without_photo=without_photo,
        message=notes.get(message), materials=materials), headers=_PAGE_HEADERS)


@router.post("/clear", response_model=None)
def review_clear(request: Request, ctx: Context, csrf: Annotated[str, Form()] = "",
                 attempt: Annotated[int, Form()] = 0) -> Response:
    admin = current_admin(request, ctx)
    token = session_token(request)
    if admin is None or token is None:
        return HTMLResponse(login_page(error=_("请先以考点管理员身份登录")), status_code=401,
                            headers=_SECURITY_HEADERS)
    if not csrf_ok(token, csrf):
        return HTMLResponse(login_page(error=_("页面已过期，请重新登录")), status_code=403,
                            headers=_SECURITY_HEADERS)
    found = _in_scope(ctx, admin, attempt)
    if found is None:
        return Response(status_code=404, headers=_SECURITY_HEADERS)
    clear_review(ctx.db, attempt, by=f"web:{admin.username}", now_ms=ctx.clock.now_ms())
    return RedirectResponse(f"/admin/review?exam={found[0].exam_id}&message=cleared",
                            status_code=303, headers=_SECURITY_HEADERS)


@router.get("/image/{image_id}", response_model=None)
def review_image(image_id: int, request: Request, ctx: Context) -> Response:
    admin = current_admin(request, ctx)
    if admin is None:
        return Response(status_code=401, headers=_IMAGE_HEADERS)
    found = read_image(ctx.db, ctx.keys, image_id)
    if found is None or _in_scope(ctx, admin, found[0].attempt_id) is None:
        return _not_found()
    return Response(found[1], media_type="image/jpeg", headers=_IMAGE_HEADERS)


@router.get("/base-photo/{attempt_id}", response_model=None)
def review_base_photo(attempt_id: int, request: Request, ctx: Context) -> Response:
    admin = current_admin(request, ctx)
    if admin is None:
        return Response(status_code=401, headers=_IMAGE_HEADERS)
    found = _in_scope(ctx, admin, attempt_id)
    photo = get_base_photo(ctx.db, ctx.keys, found[1].id) if found else None
    if photo is None:
        return _not_found()
    return Response(photo.jpeg, media_type="image/jpeg", headers=_IMAGE_HEADERS)
