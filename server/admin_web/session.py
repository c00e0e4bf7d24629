"""Admin sessions for the web area: an admin token (the same kind /api/v1/admin/login
issues) carried in an HttpOnly, SameSite=Strict cookie.

A candidate token gets nothing here: only tokens of kind ``admin`` whose admin still
exists are accepted, and only from the cookie (a bearer header is ignored). Form posts also
carry a CSRF token derived from the session token, so another site cannot post to us even
through a browser that ignores SameSite.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import delete

from server import schema as t
from server import staff_throttle
from server.auth import ADMIN, new_token
from server.context import ServerContext
from server.db import Admin
from server.errors import ApiError
from server.passwords import verify_admin_password

COOKIE_NAME = "exam_admin"
COOKIE_PATH = "/admin"


def session_token(request: Request) -> str | None:
    token = request.cookies.get(COOKIE_NAME, "").strip()
    return token or None


def current_admin(request: Request, ctx: ServerContext) -> Admin | None:
    token = session_token(request)
    if token is None:
        return None
    resolved = ctx.db.resolve_token(token, now_ms=ctx.clock.now_ms())
    if resolved is None or resolved.kind != ADMIN or not resolved.admin_username:
        return None
    return ctx.db.get_admin(resolved.admin_username)


@dataclass(frozen=True)
class AdminLogin:
    admin: Admin
    token: str
    expires_ms: int


def log_in(ctx: ServerContext, *, username: str, password: str,
           address: str) -> AdminLogin | None:
    """Check the password (argon2, constant work for unknown users); issue a token. The one
    admin login of the web area and of ``/api/v1/admin/login``.

    Raises ApiError 429 while the account or address is throttled (server/staff_throttle:
    the try is counted before the password is checked, so guesses sent at once cannot all
    be checked).
    """
    now = ctx.clock.now_ms()
    verdict = staff_throttle.reserve(ctx.db, area="admin", username=username,
                                     address=address, now_ms=now)
    if not verdict.allowed:
        raise ApiError(429, "too_many_attempts", retry_after_s=verdict.retry_after_s)
    admin = ctx.db.get_admin(username.strip())
    if not verify_admin_password(admin.password_hash if admin else None, password) or admin is None:
        return None
    staff_throttle.forgive(ctx.db, area="admin", username=username, verdict=verdict)
    token = new_token()
    expires_ms = now + ctx.settings.admin_token_ttl_s * 1000
    ctx.db.store_token(token, kind=ADMIN, admin_username=admin.username, created_at_ms=now,
                       expires_ms=expires_ms)
    return AdminLogin(admin=admin, token=token, expires_ms=expires_ms)


def log_out(ctx: ServerContext, token: str) -> None:
    from server.db import token_digest

    with ctx.db.write() as conn:
        conn.execute(delete(t.tokens).where(t.tokens.c.token_sha256 == token_digest(token)))


def csrf_token(session: str) -> str:
    return hmac.new(session.encode(), b"admin-web-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session: str | None, submitted: str) -> bool:
    return session is not None and hmac.compare_digest(csrf_token(session), submitted)
