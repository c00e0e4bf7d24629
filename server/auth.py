"""Who is calling: bearer tokens for candidates and admins, and the caller's IP address."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from server.context import ServerContext, get_context
from server.db import (
    CANDIDATE_TOKEN,
    CANDIDATE_VIEW_TOKEN,
    IN_PROGRESS,
    REVOKED_TOKEN,
    Admin,
    Attempt,
    Candidate,
    Exam,
    token_digest,
)
from server.errors import ApiError
from server.forwarded import DEFAULT_PROXIES, sender

CANDIDATE = CANDIDATE_TOKEN
ADMIN = "admin"
# Write last_contact_ms at most this often: it feeds the "continue within 30 minutes"
# rule, which needs minutes of precision, not a database write per request.
CONTACT_RESOLUTION_MS = 5_000

Context = Annotated[ServerContext, Depends(get_context)]


@dataclass(frozen=True)
class CandidateSession:
    candidate: Candidate
    attempt: Attempt
    exam: Exam
    may_write: bool = True  # False: a PC that logged in after submission only reads
    client_id: str = ""

    def require_writer(self) -> None:
        if not self.may_write:
            raise ApiError(403, "read_only", attempt_status=self.attempt.status)


@dataclass(frozen=True)
class UploadTarget:
    """Who an answer upload is for, from per-process caches (no database round trip).

    The upload's own transaction re-checks the token against the database while it
    holds the attempt (server/merge.py, merge_upload), so a token revoked or made
    read-only since it was cached stops there.
    """

    token_sha256: str
    attempt_id: int
    exam: Exam


def new_token() -> str:
    return secrets.token_urlsafe(32)


def client_ip(request: Request, *, trust_proxy: bool) -> str:
    """The address the request came from, as the admin should register it.

    Behind a trusted reverse proxy (one of ``proxy_addresses``) the peer is the proxy
    itself; the client is the last X-Forwarded-For entry, the one the proxy appended
    (server/forwarded.py).
    """
    ctx = getattr(request.app.state, "ctx", None)
    proxies = ctx.settings.proxy_addresses if ctx is not None else DEFAULT_PROXIES
    return sender(request.client.host if request.client else "",
                  ",".join(request.headers.getlist("x-forwarded-for")),
                  trust_proxy=trust_proxy, proxies=proxies)


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized")
    return token.strip()


def upload_target(request: Request, ctx: ServerContext, *, now_ms: int) -> UploadTarget:
    bearer = _bearer(request)
    token = ctx.db.resolve_token(bearer, now_ms=now_ms, cached=True)
    if token is not None and token.kind == REVOKED_TOKEN:
        raise ApiError(401, "revoked")  # revocation is final: the cache may say so
    if token is None or token.kind != CANDIDATE or token.attempt_id is None:
        if token is not None and token.kind == CANDIDATE_VIEW_TOKEN:
            raise ApiError(403, "read_only")
        raise ApiError(401, "unauthorized")
    exam_id = ctx.db.cached_exam_of_attempt(token.attempt_id)
    exam = ctx.db.cached_exam(exam_id) if exam_id is not None else None
    if exam is None:
        raise ApiError(401, "unauthorized")
    return UploadTarget(token_digest(bearer), token.attempt_id, exam)


def candidate_session(request: Request, ctx: Context) -> CandidateSession:
    now = ctx.clock.now_ms()
    # Token and attempt in one uncached read (server/db.py, token_and_attempt): a
    # take-over or a submission in another worker counts from the next request on.
    found = ctx.db.token_and_attempt(_bearer(request))
    token, attempt = found if found is not None else (None, None)
    if token is not None and token.expires_ms <= now:
        token = None
    if token is not None and token.kind == REVOKED_TOKEN:
        # Another PC took the attempt over: this one must stop answering (docs/lifecycle.md).
        raise ApiError(401, "revoked")
    if token is None or attempt is None or token.kind not in (CANDIDATE, CANDIDATE_VIEW_TOKEN):
        raise ApiError(401, "unauthorized")
    exam = ctx.db.cached_exam(attempt.exam_id)
    candidate = ctx.db.cached_candidate(attempt.candidate_id)
    if exam is None or candidate is None:
        raise ApiError(401, "unauthorized")
    if attempt.status == IN_PROGRESS and now >= exam.end_ms:
        # The sweeper would do this within seconds; do it now so no request sees an
        # attempt that is still open after the end.
        ctx.db.auto_submit_ended(now_ms=now)
        attempt = ctx.db.get_attempt(attempt.id) or attempt
    if attempt.last_contact_ms is None or now - attempt.last_contact_ms >= CONTACT_RESOLUTION_MS:
        ctx.db.touch_attempt(attempt.id, now_ms=now)
    return CandidateSession(candidate=candidate, attempt=attempt, exam=exam,
                            may_write=token.kind == CANDIDATE, client_id=token.client_id or "")


def admin_session(request: Request, ctx: Context) -> Admin:
    token = ctx.db.resolve_token(_bearer(request), now_ms=ctx.clock.now_ms())
    admin = ctx.db.get_admin(token.admin_username) if token and token.admin_username else None
    if token is None or token.kind != ADMIN or admin is None:
        raise ApiError(401, "unauthorized")
    return admin


CandidateAuth = Annotated[CandidateSession, Depends(candidate_session)]
AdminAuth = Annotated[Admin, Depends(admin_session)]
