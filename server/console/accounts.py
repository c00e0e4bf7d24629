"""Console accounts and their sessions: create, log in (throttled), resolve a cookie."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from client.errors import UserFacingError
from client.i18n import _
from server import staff_throttle
from server.console import tables as ct
from server.console.roles import Account, Role
from server.db import Database, token_digest
from server.passwords import hash_password, verify_password
from server.real_names import check_real_name

SESSION_TTL_MS = 12 * 3600 * 1000  # one exam day


def _account(row: Row[Any]) -> Account:
    return Account(username=row.username, display_name=row.display_name, role=Role(row.role),
                   center_id=row.center_id, room=row.room)


def create_account(db: Database, *, username: str, display_name: str, role: Role,
                   center_id: str | None, room: str | None, password: str,
                   now_ms: int, hasher: Callable[[str], str] = hash_password) -> Account:
    """Create or replace an account; the scope must fit the role. *display_name* is the
    person's real name (required: the console, the audit trail and the materials a
    proctor uploads show it; it no longer falls back to the login name)."""
    username = username.strip()
    if not username or len(username) > 64:
        raise UserFacingError("console.bad_username", _("用户名不能为空，且不超过 64 个字符"))
    real_name = check_real_name(display_name)
    if role is Role.ADMIN:
        center_id, room = None, None
    elif not center_id:
        raise UserFacingError("console.center_required", _("监考教师和主考必须属于一个考点"))
    elif db.get_center(center_id) is None:
        raise UserFacingError("console.unknown_center",
                              _("考点 {center} 不存在").format(center=center_id))
    if role is Role.PROCTOR and not room:
        raise UserFacingError("console.room_required", _("监考教师必须指定考场"))
    if role is not Role.PROCTOR:
        room = None
    ct.ensure_tables(db)
    values = {"display_name": real_name,
              "password_hash": hasher(password), "role": role.value,
              "center_id": center_id, "room": room}
    with db.write() as conn:
        exists = conn.execute(select(ct.console_accounts.c.username)
                              .where(ct.console_accounts.c.username == username)).first()
        if exists:
            conn.execute(update(ct.console_accounts)
                         .where(ct.console_accounts.c.username == username).values(**values))
            # A changed password or scope ends every open session of the account.
            conn.execute(delete(ct.sessions).where(ct.sessions.c.username == username))
        else:
            conn.execute(insert(ct.console_accounts).values(
                username=username, created_at_ms=now_ms, **values))
    found = get_account(db, username)
    assert found is not None
    return found


def get_account(db: Database, username: str) -> Account | None:
    ct.ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(select(ct.console_accounts)
                           .where(ct.console_accounts.c.username == username)).first()
    return _account(row) if row else None


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    token: str | None
    retry_after_s: int = 0  # > 0: throttled, nothing was checked
    # The existing account a wrong password was tried on (for its audit trail).
    failed_account: Account | None = None


def log_in(db: Database, *, username: str, password: str, address: str,
           now_ms: int) -> LoginResult:
    ct.ensure_tables(db)
    username = username.strip()[:64]
    verdict = staff_throttle.reserve(db, area="console", username=username, address=address,
                                     now_ms=now_ms)
    if not verdict.allowed:
        return LoginResult(account=None, token=None, retry_after_s=verdict.retry_after_s)
    with db.read() as conn:
        row = conn.execute(select(ct.console_accounts)
                           .where(ct.console_accounts.c.username == username)).first()
    if not verify_password(row.password_hash if row else None, password[:128]) or row is None:
        return LoginResult(account=None, token=None,
                           failed_account=_account(row) if row is not None else None)
    staff_throttle.forgive(db, area="console", username=username, verdict=verdict)
    token = secrets.token_urlsafe(32)
    with db.write() as conn:
        conn.execute(insert(ct.sessions).values(
            token_sha256=token_digest(token), username=username, created_at_ms=now_ms,
            expires_ms=now_ms + SESSION_TTL_MS))
        conn.execute(delete(ct.sessions).where(ct.sessions.c.expires_ms <= now_ms))
    return LoginResult(account=_account(row), token=token)


def resolve_session(db: Database, token: str, *, now_ms: int) -> Account | None:
    ct.ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(
            select(ct.console_accounts)
            .join(ct.sessions, ct.sessions.c.username == ct.console_accounts.c.username)
            .where(ct.sessions.c.token_sha256 == token_digest(token),
                   ct.sessions.c.expires_ms > now_ms)).first()
    return _account(row) if row else None


def end_session(db: Database, token: str) -> None:
    with db.write() as conn:
        conn.execute(delete(ct.sessions).where(ct.sessions.c.token_sha256 == token_digest(token)))
