"""Request size limits enforced before (and while) a body is read, as ASGI middleware.

A body larger than its route allows is refused with 413 from its Content-Length, before
any byte of it is read; a body without one (chunked) is counted while it streams and cut
off at the limit. The offline-file upload of the admin web area takes the largest bodies,
so it is only read for a logged-in admin: an anonymous request gets 401 unread (an
anonymous 2 GiB POST used to be spooled to disk in full before the login was checked).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MiB = 1024 * 1024
DEFAULT_LIMIT = 16 * MiB
# A batch of answers: the client sends at most ~4 MiB (client/sync/pusher.py).
ANSWERS_LIMIT = 8 * MiB
# A heartbeat is three numbers: anything larger is not our client.
HEARTBEAT_LIMIT = 4 * 1024
# The frames of one failed face check (4 JPEG of <= 1 MiB, base64) and its record
# (server/identity_holds.py): a larger body is not our client.
IDENTITY_HOLD_LIMIT = 6 * MiB
ADMIN_UPLOAD_PATH = "/admin/offline"
ADMIN_UPLOAD_LIMIT = 512 * MiB
# A login (JSON or a form) is a few hundred bytes; the login gate reads it whole before
# the login takes a place (server/login_gate.py), so it must stay small.
LOGIN_LIMIT = 16 * 1024
LOGIN_PATHS = ("/api/v1/login", "/api/v1/admin/login", "/admin/login", "/console/login")


@dataclass(frozen=True)
class RouteLimit:
    path: str
    max_bytes: int
    needs_admin: bool = False


LIMITS = (
    RouteLimit("/api/v1/attempt/answers", ANSWERS_LIMIT),
    RouteLimit("/api/v1/attempt/heartbeat", HEARTBEAT_LIMIT),
    RouteLimit("/api/v1/attempt/identity-hold", IDENTITY_HOLD_LIMIT),
    RouteLimit(ADMIN_UPLOAD_PATH, ADMIN_UPLOAD_LIMIT, needs_admin=True),
    *(RouteLimit(path, LOGIN_LIMIT) for path in LOGIN_PATHS),
)


def limit_for(path: str) -> RouteLimit:
    for limit in LIMITS:
        if path == limit.path:
            return limit
    return RouteLimit(path, DEFAULT_LIMIT)


class RequestLimits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await _refuse(scope, receive, send, 413, "too_large", max_bytes=limit.max_bytes)
            return
        if limit.needs_admin and not await _is_admin(scope):
            await _refuse(scope, receive, send, 401, "unauthorized")
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit.max_bytes:
                    # FastAPI passes HTTPException through its body parsing: a clean 413.
                    raise HTTPException(413, f"body larger than {limit.max_bytes} bytes")
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _is_admin(scope: Scope) -> bool:
    from server.admin_web.session import current_admin

    request = Request(scope)
    ctx = scope["app"].state.ctx
    return await run_in_threadpool(current_admin, request, ctx) is not None


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str,
                  **detail: object) -> None:
    # Connection: close, since the unread body cannot be skipped on a kept-alive connection.
    response = JSONResponse({"error": code, "detail": detail}, status_code=status,
                            headers={"Connection": "close"})
    await response(scope, receive, send)
