"""Routes of the admin web area: /admin/login, /admin/logout, /admin/offline (upload)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from client.i18n import _
from server import schema as t
from server.admin_web import pages
from server.admin_web.session import (
    COOKIE_NAME,
    COOKIE_PATH,
    csrf_ok,
    csrf_token,
    current_admin,
    log_in,
    log_out,
    session_token,
)
from server.admin_web.upload_form import read_upload_form
from server.auth import Context, client_ip
from server.context import ServerContext
from server.db import Admin, Exam
from server.errors import ApiError
from server.import_jobs import IncomingFile, batch_progress, queue_totals, store_batch
from server.offline_import import ImportScope

router = APIRouter(prefix="/admin")

MAX_FILES_PER_UPLOAD = 500
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def visible_exams(ctx: ServerContext, admin: Admin) -> list[Exam]:
    """A center admin sees the exams their center's candidates sit; a platform admin all."""
    exams = ctx.db.list_exams()
    if admin.center_id is None:
        return exams
    with ctx.db.read() as conn:
        ids = set(conn.execute(
            select(t.registrations.c.exam_id).distinct()
            .join(t.candidates, t.candidates.c.id == t.registrations.c.candidate_id)
            .where(t.candidates.c.center_id == admin.center_id)).scalars())
    return [exam for exam in exams if exam.id in ids]


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=_SECURITY_HEADERS)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/admin/login", status_code=303, headers=_SECURITY_HEADERS)


@router.get("", response_model=None)
@router.get("/", response_model=None)
def admin_home(request: Request, ctx: Context) -> Response:
    if current_admin(request, ctx) is None:
        return _to_login()
    return RedirectResponse("/admin/offline", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form() -> HTMLResponse:
    return _html(pages.login_page())


@router.post("/login", response_model=None)
def login_submit(request: Request, ctx: Context, username: Annotated[str, Form()] = "",
                 password: Annotated[str, Form()] = "") -> Response:
    try:
        result = log_in(ctx, username=username[:64], password=password[:128],
                        address=client_ip(request, trust_proxy=ctx.settings.trust_proxy))
    except ApiError as exc:
        wait_s = exc.detail.get("retry_after_s", 60)
        page = pages.login_page(error=_("登录失败次数过多，请 {n} 秒后再试").format(n=wait_s),
                                username=username[:64])
        return HTMLResponse(page, status_code=exc.status,
                            headers={**_SECURITY_HEADERS, "Retry-After": str(wait_s)})
    if result is None:
        return _html(pages.login_page(error=_("用户名或密码错误"), username=username[:64]), 401)
    response = RedirectResponse("/admin/offline", status_code=303, headers=_SECURITY_HEADERS)
    response.set_cookie(COOKIE_NAME, result.token, httponly=True, samesite="strict",
                        path=COOKIE_PATH,
                        secure=request.url.scheme == "https",
                        max_age=ctx.settings.admin_token_ttl_s)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, ctx: Context, csrf: Annotated[str, Form()] = "") -> Response:
    token = session_token(request)
    if token is not None and csrf_ok(token, csrf):
        log_out(ctx, token)
    response = _to_login()
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH)
    return response


@router.get("/offline", response_model=None)
def upload_form(request: Request, ctx: Context) -> Response:
    admin = current_admin(request, ctx)
    token = session_token(request)
    if admin is None or token is None:
        return _to_login()
    return _html(pages.upload_page(admin=admin, csrf=csrf_token(token),
                                   exams=visible_exams(ctx, admin)))


@router.post("/offline", response_model=None)
async def upload(request: Request, ctx: Context) -> Response:
    # The body is only read for a logged-in admin (server/request_limits.py refuses the
    # others unread); the form is read here, each file streamed to a temporary file with
    # the per-file limit counted as it arrives (server/admin_web/upload_form.py).
    admin = await run_in_threadpool(current_admin, request, ctx)
    token = session_token(request)
    if admin is None or token is None:
        return _html(pages.login_page(error=_("请先以考点管理员身份登录")), 401)
    try:
        form = await read_upload_form(request, max_files=MAX_FILES_PER_UPLOAD)
    except MultiPartException as exc:
        exams = await run_in_threadpool(visible_exams, ctx, admin)
        too_many = "Too many files" in exc.message
        error = (_("一次最多上传 {n} 个文件").format(n=MAX_FILES_PER_UPLOAD) if too_many
                 else _("上传的内容不完整或格式不对，请重新选择文件上传"))
        return _html(pages.upload_page(admin=admin, csrf=csrf_token(token), exams=exams,
                                       error=error), 413 if too_many else 400)
    try:
        if not csrf_ok(token, str(form.get("csrf") or "")):
            return _html(pages.login_page(error=_("页面已过期，请重新登录")), 403)
        files = [f for name, f in form.multi_items()
                 if name == "files" and isinstance(f, UploadFile)]
        scope = ImportScope(center_id=admin.center_id, exam_id=str(form.get("exam") or "") or None,
                            imported_by=f"web:{admin.username}")
        # Stored and queued, not merged here: the job loops merge (server/import_jobs.py)
        # while the next page shows each file's progress.
        batch_id = await run_in_threadpool(store_batch, ctx, [
            # Old browsers send "C:\\fakepath\\name"; the name signed in the file is the
            # base name.
            IncomingFile((f.filename or "").replace("\\", "/").rsplit("/", 1)[-1], f.file)
            for f in files], scope=scope)
    finally:
        await form.close()
    wake = getattr(request.app.state, "import_wake", None)
    if wake is not None:
        wake.wake()
    return RedirectResponse(f"/admin/offline/batch/{batch_id}", status_code=303,
                            headers=_SECURITY_HEADERS)


@router.get("/offline/batch/{batch_id}", response_model=None)
def batch_page(batch_id: str, request: Request, ctx: Context) -> Response:
    admin = current_admin(request, ctx)
    token = session_token(request)
    if admin is None or token is None:
        return _to_login()
    progress = batch_progress(ctx.db, batch_id[:32])
    # An upload is seen by who made it (and by platform admins).
    if progress is None or (admin.center_id is not None
                            and progress.imported_by != f"web:{admin.username}"):
        return _html(pages.upload_page(admin=admin, csrf=csrf_token(token),
                                       exams=visible_exams(ctx, admin),
                                       error=_("找不到这次上传")), 404)
    return _html(pages.batch_page(admin=admin, csrf=csrf_token(token), progress=progress,
                                  queue=queue_totals(ctx.db)))
