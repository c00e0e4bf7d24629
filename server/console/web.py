"""Routes of the invigilation console under /console (HTML, JSON for the page, CSV).

Sessions are a random token in an HttpOnly, SameSite=Strict cookie scoped to /console;
state-changing requests also carry a CSRF token derived from the session (form field or
``X-CSRF-Token`` header). The page polls ``/console/api/room`` every 2 s: it works on the
exam LAN with no internet, through any proxy, and needs no connection kept open per
browser (chosen over server-sent events for that reason).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from client.errors import UserFacingError
from client.i18n import _
from client.resources import resource_path
from client.timefmt import beijing_clock, staff_datetime
from server import identity_holds, staff_messages
from server.auth import Context, client_ip
from server.base_photos import get_base_photo, photo_response
from server.console import accounts, actions, audit, identity, pages
from server.console import tables as ct
from server.console.roles import Account, Action
from server.console.room import room_view
from server.context import ServerContext
from server.db import Exam

router = APIRouter(prefix="/console")

COOKIE_NAME = "exam_console"
COOKIE_PATH = "/console"
CSRF_HEADER = "x-csrf-token"
# Ids in paths and actions: larger numbers are no row of ours and would overflow a
# database integer (a 500 instead of "no such seat").
ID_MAX = 2**53
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self'; connect-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    # Not "no-referrer": under it Chromium sends "Origin: null" with the page's own form
    # posts, and the origin check below could not tell them from a foreign page's.
    "Referrer-Policy": "same-origin",
}


def csrf_token(session: str) -> str:
    return hmac.new(session.encode(), b"console-csrf", hashlib.sha256).hexdigest()


def _csrf_ok(session: str | None, submitted: str) -> bool:
    return session is not None and hmac.compare_digest(csrf_token(session), submitted)


def same_origin(request: Request, *, trust_proxy: bool) -> bool:
    """False when a browser says the request comes from another site.

    Browsers send Origin with every POST (Referer as the fallback); a page of another
    site cannot leave it out or change it. Without either header the caller is not a
    browser following a foreign page (a script, curl), and the cookie and CSRF token
    decide. "null" (sandboxed frames, data: URLs) counts as foreign. Behind a trusted
    reverse proxy that rewrites Host, the host the browser used is X-Forwarded-Host.
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True
    hosts = {request.headers.get("host", "")}
    if trust_proxy:
        hosts.add(request.headers.get("x-forwarded-host", "").split(",")[-1].strip())
    hosts.discard("")
    parsed = urlsplit(source)
    return parsed.scheme in ("http", "https") and parsed.netloc in hosts


def _foreign() -> HTMLResponse:
    return _html(pages.login_page(error=_("请求来自其他网站，已拒绝。请直接打开监控台页面操作")),
                 403)


def _session(request: Request) -> str | None:
    return request.cookies.get(COOKIE_NAME, "").strip() or None


def _account(request: Request, ctx: ServerContext) -> Account | None:
    token = _session(request)
    return (accounts.resolve_session(ctx.db, token, now_ms=ctx.clock.now_ms())
            if token else None)


def _html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={**_HEADERS, **(headers or {})})


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_HEADERS)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303, headers=_HEADERS)


def visible_exams(ctx: ServerContext, account: Account) -> list[Exam]:
    """Exams with a room plan inside the account's scope, the running/next one first."""
    ct.ensure_tables(ctx.db)
    with ctx.db.read() as conn:
        rows = conn.execute(select(ct.seats.c.exam_id, ct.seats.c.center_id, ct.seats.c.room)
                            .distinct()).all()
    ids = {r.exam_id for r in rows if account.sees(center_id=r.center_id, room=r.room)}
    now = ctx.clock.now_ms()
    found = [e for e in ctx.db.list_exams() if e.id in ids]
    # Running exams first, then upcoming by start, then finished, newest first.
    return sorted(found, key=lambda e: (0 if e.start_ms <= now < e.end_ms else
                                        1 if now < e.start_ms else 2,
                                        e.start_ms if now < e.end_ms else -e.end_ms))


# -- login / logout ---------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_form() -> HTMLResponse:
    return _html(pages.login_page())


@router.post("/login", response_model=None)
def login_submit(request: Request, ctx: Context, username: Annotated[str, Form()] = "",
                 password: Annotated[str, Form()] = "") -> Response:
    if not same_origin(request, trust_proxy=ctx.settings.trust_proxy):
        # Login CSRF: another site must not log this browser into an account it chose.
        return _foreign()
    now = ctx.clock.now_ms()
    address = client_ip(request, trust_proxy=ctx.settings.trust_proxy)
    result = accounts.log_in(ctx.db, username=username, password=password, address=address,
                             now_ms=now)
    if result.retry_after_s:
        minutes = max(1, -(-result.retry_after_s // 60))
        return _html(pages.login_page(
            error=_("登录失败次数过多，请 {n} 分钟后再试").format(n=minutes),
            username=username[:64]), 429, headers={"Retry-After": str(result.retry_after_s)})
    if result.account is None or result.token is None:
        if result.failed_account is not None:
            # On the account's own trail, so its chief sees a guesser at work.
            with ctx.db.write() as conn:
                audit.record(conn, result.failed_account, action=Action.LOG_IN_FAILED.value,
                             at_ms=now, room=result.failed_account.room,
                             detail={"address": address})
        return _html(pages.login_page(error=_("用户名或密码错误"), username=username[:64]), 401)
    with ctx.db.write() as conn:
        audit.record(conn, result.account, action=Action.LOG_IN.value, at_ms=now,
                     room=result.account.room, detail={"address": address})
    response = RedirectResponse("/console", status_code=303, headers=_HEADERS)
    response.set_cookie(COOKIE_NAME, result.token, httponly=True, samesite="strict",
                        path=COOKIE_PATH, secure=request.url.scheme == "https",
                        max_age=accounts.SESSION_TTL_MS // 1000)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, ctx: Context, csrf: Annotated[str, Form()] = "") -> Response:
    token = _session(request)
    account = _account(request, ctx)
    if token is not None and account is not None:
        trust_proxy = ctx.settings.trust_proxy
        if not _csrf_ok(token, csrf) or not same_origin(request, trust_proxy=trust_proxy):
            # Another site cannot log a proctor out in the middle of an exam either.
            return RedirectResponse("/console", status_code=303, headers=_HEADERS)
        accounts.end_session(ctx.db, token)
        with ctx.db.write() as conn:
            audit.record(conn, account, action=Action.LOG_OUT.value,
                         at_ms=ctx.clock.now_ms(), room=account.room)
    response = _to_login()
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH)
    return response


# -- the room ---------------------------------------------------------------------------

@router.get("", response_model=None)
@router.get("/", response_model=None)
def room_page(request: Request, ctx: Context, exam: str = "") -> Response:
    account = _account(request, ctx)
    token = _session(request)
    if account is None or token is None:
        return _to_login()
    exams = visible_exams(ctx, account)
    chosen = next((e for e in exams if e.id == exam), exams[0] if exams else None)
    return _html(pages.room_page(account=account, csrf=csrf_token(token), exams=exams,
                                 exam=chosen,
                                 real_name=identity.real_name(ctx.db, account.username)))


@router.get("/api/room", response_model=None)
def room_json(request: Request, ctx: Context, exam: str, center: str = "",
              room: str = "") -> Response:
    account = _account(request, ctx)
    if account is None:
        return _json({"error": "unauthorized"}, 401)
    found = ctx.db.get_exam(exam)
    view = None if found is None else room_view(
        ctx.db, account, exam=found, center_id=center or None, room=room or None,
        now_ms=ctx.clock.now_ms(), pause_alarm_ms=ctx.settings.pause_alarm_s * 1000)
    # An exam with no room inside the account's scope does not exist for it (this poll
    # runs every 2 s per browser, so the scope comes from room_view's one query).
    if view is None or not view.rooms:
        return _json({"error": "not_found"}, 404)
    return _json(view.to_json())


@router.get("/photo/{exam_id}/{candidate_id}", response_model=None)
def base_photo(exam_id: str, candidate_id: Annotated[int, Path(ge=0, le=ID_MAX)],
               request: Request, ctx: Context) -> Response:
    account = _account(request, ctx)
    seat = actions.find_seat(ctx.db, exam_id=exam_id, candidate_id=candidate_id)
    if account is None or seat is None or not account.sees(center_id=seat.center_id,
                                                            room=seat.room):
        return Response(status_code=404, headers=_HEADERS)
    photo = get_base_photo(ctx.db, ctx.keys, candidate_id)
    if photo is None:
        return Response(status_code=404, headers=_HEADERS)
    response = photo_response(photo)
    response.headers.update(_HEADERS)
    return response


@router.get("/face/{exam_id}/{candidate_id}/{hold_id}/{position}", response_model=None)
def face_evidence(exam_id: str, candidate_id: Annotated[int, Path(ge=0, le=ID_MAX)],
                  hold_id: Annotated[int, Path(ge=0, le=ID_MAX)],
                  position: Annotated[int, Path(ge=0, le=16)],
                  request: Request, ctx: Context) -> Response:
    """A frame of the failed face check a hold is about: personal data, so only for an
    account whose scope has the seat, and never kept by a browser or a proxy (no-store).
    Anything else (no session, another room, another seat's hold) is the same 404."""
    account = _account(request, ctx)
    seat = actions.find_seat(ctx.db, exam_id=exam_id, candidate_id=candidate_id)
    hold = identity_holds.get_hold(ctx.db, hold_id) if account is not None else None
    if (account is None or seat is None or hold is None
            or not account.sees(center_id=seat.center_id, room=seat.room)
            or (hold.exam_id, hold.candidate_id) != (exam_id, candidate_id)):
        return Response(status_code=404, headers=_HEADERS)
    jpeg = identity_holds.evidence_image(ctx.db, ctx.keys, hold, position)
    if jpeg is None:
        return Response(status_code=404, headers=_HEADERS)
    return Response(jpeg, media_type="image/jpeg",
                    headers={**_HEADERS, "Cache-Control": "no-store, private"})


class ActionIn(BaseModel):
    action: Action
    exam_id: str = Field(min_length=1, max_length=64)
    # One seat; the group actions (extra time, message) may name several instead.
    candidate_id: int | None = Field(default=None, ge=0, le=ID_MAX)
    candidate_ids: list[Annotated[int, Field(ge=0, le=ID_MAX)]] = Field(
        default_factory=list, max_length=actions.MAX_GROUP)
    request_id: int | None = Field(default=None, ge=0, le=ID_MAX)
    hold_id: int | None = Field(default=None, ge=0, le=ID_MAX)  # approve_face / refuse_face
    reason: str = Field(default="", max_length=actions.REASON_MAX)
    category: str = Field(default="", max_length=32)
    minutes: float | None = None  # extra time in minutes ...
    multiplier: float | None = None  # ... or as a multiplier of the exam's duration
    text: str = Field(default="", max_length=2 * staff_messages.TEXT_MAX)  # a message

    def seats(self) -> list[int]:
        return self.candidate_ids or ([] if self.candidate_id is None
                                      else [self.candidate_id])


@router.post("/api/action", response_model=None)
def take_action(body: ActionIn, request: Request, ctx: Context) -> Response:
    token = _session(request)
    account = _account(request, ctx)
    if account is None:
        return _json({"error": "unauthorized", "message": _("登录已过期，请重新登录")}, 401)
    if (not _csrf_ok(token, request.headers.get(CSRF_HEADER, ""))
            or not same_origin(request, trust_proxy=ctx.settings.trust_proxy)):
        return _json({"error": "csrf", "message": _("页面已过期，请刷新后重试")}, 403)
    exam = ctx.db.get_exam(body.exam_id)
    now = ctx.clock.now_ms()
    seats = body.seats()
    target = actions.Target(exam_id=body.exam_id, candidate_id=seats[0] if seats else -1,
                            reason=body.reason, now_ms=now)
    try:
        if exam is None:
            raise actions.ConsoleRefusal("console.no_such_seat", _("找不到该考生的座位"))
        result: dict[str, Any] = {}
        if body.action is Action.EXTRA_TIME:
            granted = actions.grant_extra_time(
                ctx.db, account, exam=exam, candidate_ids=seats, reason=body.reason,
                now_ms=now, minutes=body.minutes, multiplier=body.multiplier)
            result = {"granted": [{"candidate_id": g.candidate_id, "end_ms": g.end_ms,
                                   "end": beijing_clock(g.end_ms)} for g in granted]}
        elif body.action is Action.MESSAGE:
            sent = actions.send_message(ctx.db, account, exam=exam, candidate_ids=seats,
                                        text=body.text, now_ms=now)
            result = {"sent": len(sent)}
        elif len(seats) != 1:
            raise actions.ConsoleRefusal("console.one_seat", _("此操作一次只能针对一名考生"))
        elif body.action in (Action.APPROVE_LOGIN, Action.REFUSE_LOGIN):
            if body.request_id is None:
                raise actions.ConsoleRefusal("console.no_such_request", _("缺少登录请求编号"))
            act = (actions.approve_login if body.action is Action.APPROVE_LOGIN
                   else actions.refuse_login)
            act(ctx.db, account, target, request_id=body.request_id)
        elif body.action in (Action.APPROVE_FACE, Action.REFUSE_FACE):
            if body.hold_id is None:
                raise actions.ConsoleRefusal("console.no_such_hold", _("缺少人脸核验审批编号"))
            actions.decide_face_hold(ctx.db, account, target, hold_id=body.hold_id,
                                     approve=body.action is Action.APPROVE_FACE)
        elif body.action is Action.ISSUE_CODE:
            issued = actions.issue_code(ctx.db, account, target, keys=ctx.keys, exam=exam)
            result = {"code": issued.code, "valid_until_ms": issued.valid_until_ms,
                      "valid_until": beijing_clock(issued.valid_until_ms)}
        elif body.action is Action.RESET_PASSWORD:
            actions.reset_password(ctx.db, account, target)
        elif body.action in (Action.MARK_PRESENT, Action.MARK_ABSENT):
            actions.mark_attendance(ctx.db, account, target,
                                    present=body.action is Action.MARK_PRESENT)
        elif body.action in (Action.PAUSE, Action.RESUME):
            end_ms = actions.set_pause(ctx.db, account, target, exam=exam,
                                       paused=body.action is Action.PAUSE)
            result = {"end_ms": end_ms, "end": beijing_clock(end_ms)}
        elif body.action is Action.END_ATTEMPT:
            actions.end_attempt(ctx.db, account, target)
        elif body.action is Action.INCIDENT:
            actions.record_incident(ctx.db, account, target, category=body.category)
        else:
            raise actions.ConsoleRefusal("console.not_allowed", _("不支持的操作"))
    except UserFacingError as exc:
        status = 403 if exc.code == "console.not_allowed" else (
            404 if exc.code == "console.no_such_seat" else 409)
        if status != 409:
            # Outside the role or the scope: on the actor's own trail (their room, no
            # candidate joined in, so nothing of the other room shows), for the chief.
            with ctx.db.write() as conn:
                audit.record(conn, account, action=Action.ACTION_REFUSED.value, at_ms=now,
                             room=account.room, detail={
                                 "tried": body.action.value, "exam_id": body.exam_id,
                                 "candidate_id": seats[0] if len(seats) == 1 else None,
                                 "candidate_ids": seats if len(seats) > 1 else None,
                                 "error": exc.code})
        return _json({"error": exc.code, "message": str(exc)}, status)
    return _json({"ok": True, **result})


# -- audit ------------------------------------------------------------------------------

@router.get("/audit", response_model=None)
def audit_page(request: Request, ctx: Context) -> Response:
    account = _account(request, ctx)
    token = _session(request)
    if account is None or token is None:
        return _to_login()
    return _html(pages.audit_page(account=account, csrf=csrf_token(token),
                                  entries=audit.entries(ctx.db, account),
                                  can_export=account.may(Action.EXPORT_DAY),
                                  real_name=identity.real_name(ctx.db, account.username)))


@router.get("/audit.csv", response_model=None)
def audit_csv(request: Request, ctx: Context) -> Response:
    account = _account(request, ctx)
    if account is None:
        return _to_login()
    if not account.may(Action.EXPORT_DAY):
        return Response(status_code=403, headers=_HEADERS)
    now = ctx.clock.now_ms()
    day_start = now - (now + 8 * 3600_000) % 86_400_000  # midnight, Beijing time
    found = audit.entries(ctx.db, account, since_ms=day_start, limit=100_000)
    with ctx.db.write() as conn:
        audit.record(conn, account, action=Action.EXPORT_DAY.value, at_ms=now,
                     room=account.room, detail={"rows": len(found)})
    name = f"console-audit-{staff_datetime(now, labelled=False)[:10]}.csv"
    return Response(audit.to_csv(found), media_type="text/csv; charset=utf-8",
                    headers={**_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


# -- static -----------------------------------------------------------------------------

_STATIC_TYPES = {"console.js": "text/javascript; charset=utf-8",
                 "console.css": "text/css; charset=utf-8"}


@router.get("/static/{name}", response_model=None)
def static(name: str) -> Response:
    if name not in _STATIC_TYPES:
        return Response(status_code=404, headers=_HEADERS)
    data = resource_path("console", name).read_bytes()
    return Response(data, media_type=_STATIC_TYPES[name],
                    headers={**_HEADERS, "Cache-Control": "no-cache"})
