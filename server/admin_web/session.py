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

from fastapi import Request
from sqlalchemy import delete

from server import login_throttle
from server import schema as t
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


def log_in(ctx: ServerContext, *, username: str, password: str,
           address: str) -> tuple[Admin, str] | None:
    """Check the password (argon2, constant work for unknown users); issue a token.

    Raises ApiError 429 while the account or address is throttled (login_throttle).
    """
    now = ctx.clock.now_ms()
    wait_s = login_throttle.blocked_for_s(ctx.db, username=username, address=address,
                                          now_ms=now)
    if wait_s:
        raise ApiError(429, "too_many_attempts", retry_after_s=wait_s)
    admin = ctx.db.get_admin(username.strip())
    if not verify_admin_password(admin.password_hash if admin else None, password) or admin is None:
        login_throttle.record_failure(ctx.db, username=username, address=address, now_ms=now)
        return None
    login_throttle.record_success(ctx.db, username=username)
    token = new_token()
    ctx.db.store_token(token, kind=ADMIN, admin_username=admin.username, created_at_ms=now,
                       expires_ms=now + ctx.settings.admin_token_ttl_s * 1000)
    return admin, token


def log_out(ctx: ServerContext, token: str) -> None:
    from server.db import token_digest

    with ctx.db.write() as conn:
        conn.execute(delete(t.tokens).where(t.tokens.c.token_sha256 == token_digest(token)))


def csrf_token(session: str) -> str:
    return hmac.new(session.encode(), b"admin-web-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session: str | None, submitted: str) -> bool:
    return session is not None and hmac.compare_digest(csrf_token(session), submitted)
