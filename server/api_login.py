"""POST /login (candidates) and POST /admin/login.

Login answers tell the two failures apart, as exam centers need (domain.md, 登录):
403 ``not_registered`` when there is no exam for this person now *or* the user is unknown
(one answer for both, so the server does not reveal who exists), 401 ``wrong_password``
when the person sits an exam now but the password does not match. After the password:
403 ``outside_center`` (with the address the server saw) when the candidate's center has
registered its public IPs and this is not one of them, and the second-login rule of
server/second_login.py (409 ``second_login`` while a login waits for authorization).

A PC that comes back with the writing token it was given (``resume_token``: a restart,
or a retry whose answer was lost) is not made to verify the password again: the token was
issued by a password login on this PC (same client id), is still valid and already lets
it upload, so the argon2 hash would prove nothing more and only cost ~25 ms of CPU in
the moments when a room restarts together. Any other login verifies the password.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from server import attempt_time, second_login, version_floor
from server.auth import CANDIDATE, Context, client_ip, new_token
from server.center_address import center_label
from server.center_ip import ip_allowed
from server.db import (
    AUTO_SUBMITTED,
    CANDIDATE_TOKEN,
    CANDIDATE_VIEW_TOKEN,
    Attempt,
    Candidate,
    Exam,
)
from server.errors import ApiError
from server.passwords import (
    hash_password,
    needs_rehash,
    verify_password,
)

router = APIRouter()


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # newer clients may send more facts

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=128)
    center_id: str = Field(default="", max_length=64)
    client_id: str = Field(default="", max_length=200)
    # The token this PC was given before a crash or restart (client/session): no proctor.
    resume_token: str = Field(default="", max_length=200)
    # A proctor's second-login authorization code (client/session/authorization.py).
    authorization_code: str = Field(default="", max_length=40)
    # The client's own version, checked against the exam's floor (server/version_floor.py).
    client_version: str = Field(default="", max_length=40)
    # The exam this PC answers (a late sync after the end asks for it by id).
    exam_id: str = Field(default="", max_length=100)


class AdminLoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=128)


@router.post("/login")
def login(body: LoginRequest, request: Request, ctx: Context) -> dict[str, Any]:
    now = ctx.clock.now_ms()
    seen_ip = client_ip(request, trust_proxy=ctx.settings.trust_proxy)
    sitting: list[tuple[Candidate, Exam]] = []
    # Full-width forms typed by an input method ("（７）") match the registered ASCII.
    username = unicodedata.normalize("NFKC", body.username).strip()
    # After the end a candidate still logs in for as long as tokens live: a PC delivers
    # the answers given before the end (late sync) and reads the result.
    after_end_ms = ctx.settings.token_grace_s * 1000
    for candidate in ctx.db.candidates_by_username(username):
        exam = ctx.db.current_exam_for(candidate.id, now_ms=now, after_end_ms=after_end_ms,
                                       exam_id=body.exam_id)
        if exam is not None:
            sitting.append((candidate, exam))
    if not sitting:
        verify_password(None, body.password)  # same cost as a real check: no timing leak
        raise ApiError(403, "not_registered", seen_ip=seen_ip)
    resumed = _resumed_by_token(ctx, sitting, body=body, now_ms=now)
    match = resumed or next(
        ((c, e) for c, e in sitting if verify_password(c.password_hash, body.password)), None
    )
    if match is None:
        raise ApiError(401, "wrong_password", seen_ip=seen_ip)
    candidate, exam = match
    # Made with older, costlier parameters (a resumed login has not checked the password).
    if resumed is None and needs_rehash(candidate.password_hash):
        ctx.db.update_candidate(candidate.id, password_hash=hash_password(body.password))
    # The rest is one transaction: one commit instead of six, so a login holds its place
    # at the gate (server/login_gate.py) for less time. A refusal (ApiError) keeps what it
    # recorded, e.g. a held second login's request.
    with ctx.db.unit_of_work(commit_on=(ApiError,)):
        return _admit(ctx, request=request, body=body, candidate=candidate, exam=exam,
                      seen_ip=seen_ip, resumed=resumed is not None, now_ms=now)


def _admit(ctx: Context, *, request: Request, body: LoginRequest, candidate: Candidate,
           exam: Exam, seen_ip: str, resumed: bool, now_ms: int) -> dict[str, Any]:
    """The candidate proved who they are: the checks of the center and version, the
    attempt, one writer per attempt, the token and the login record."""
    center = ctx.db.get_center(candidate.center_id) if candidate.center_id else None
    if center is not None and not ip_allowed(seen_ip, center.allowed_ips):
        raise ApiError(403, "outside_center", seen_ip=seen_ip, center_id=center.id)
    client_version = version_floor.login_version(request, body.client_version)
    version_floor.check_login(ctx.db, exam=exam, client_version=client_version)
    existing = ctx.db.find_attempt(exam_id=exam.id, candidate_id=candidate.id)
    kind = second_login.decide(
        ctx,
        candidate=candidate,
        exam=exam,
        attempt=existing,
        facts=second_login.LoginAttemptFacts(
            client_id=body.client_id,
            seen_ip=seen_ip,
            resume_token=body.resume_token,
            authorization_code=body.authorization_code,
        ),
        now_ms=now_ms,
    )
    if kind == second_login.RESUME_WINDOW_OVER and existing is not None:
        ctx.db.submit_attempt(existing.id, at_ms=now_ms, status=AUTO_SUBMITTED)
        ctx.db.add_event(
            attempt_id=existing.id,
            kind="auto_submit",
            payload={"reason": "resume_window", "last_contact_ms": existing.last_contact_ms},
            at_ms=now_ms,
        )
    attempt = ctx.db.open_attempt(exam_id=exam.id, candidate_id=candidate.id, now_ms=now_ms)
    token_kind = _token_kind(ctx, attempt=attempt, kind=kind, client_id=body.client_id)
    if token_kind == CANDIDATE:
        # One writer per attempt: a take-over (or any login of another PC) ends the old
        # PC's token; it is told "revoked" and stops taking answers.
        revoked = ctx.db.revoke_other_tokens(attempt_id=attempt.id,
                                             keep_client_id=body.client_id)
        if revoked.count:
            # revoked_client_ids: when each PC lost the attempt (server/take_over.py).
            ctx.db.add_event(attempt_id=attempt.id, kind="tokens_revoked",
                             payload={"client_id": body.client_id, "count": revoked.count,
                                      "revoked_client_ids": list(revoked.writers),
                                      "login_kind": kind}, at_ms=now_ms)
    if body.client_id:
        ctx.db.cancel_login_requests(attempt_id=attempt.id, client_id=body.client_id,
                                     now_ms=now_ms)
    # The candidate's own end (extra time, pauses: server/attempt_time.py); the PC takes
    # it from this answer and from its heartbeats, never from anything local.
    clock = attempt_time.clock_for(ctx.db, exam=exam, candidate_id=candidate.id)
    end_ms = clock.end_ms(now_ms=now_ms)
    token = new_token()
    ctx.db.store_token(
        token,
        kind=token_kind,
        candidate_id=candidate.id,
        attempt_id=attempt.id,
        client_id=body.client_id or None,
        created_at_ms=now_ms,
        expires_ms=max(exam.end_ms, end_ms) + ctx.settings.token_grace_s * 1000,
    )
    ctx.db.add_event(
        attempt_id=attempt.id,
        kind="login",
        payload={
            "client_id": body.client_id,
            "center_id": body.center_id,
            "seen_ip": seen_ip,
            "login_count": attempt.login_count,
            "login_kind": kind,
            "client_version": client_version,
            # A PC back with its own writing token logs in without the password: the
            # record says which proved who it was.
            "proved_by": "resume_token" if resumed else "password",
        },
        at_ms=now_ms,
    )
    return {
        "token": token,
        "candidate": {
            "id": candidate.id,
            "name": candidate.name,
            "student_no": candidate.student_no,
        },
        "exam": {
            "id": exam.id,
            "title": exam.title,
            "start_ms": exam.start_ms,
            "end_ms": exam.end_ms,
            "package_etag": exam.etag,
            "package_size": exam.package_size,
            "package_sha256": exam.package_sha256,
        },
        "attempt": {
            "status": attempt.status,
            "login_count": attempt.login_count,
            "login_kind": kind,
            "may_write": token_kind == CANDIDATE,
            "submitted_at_ms": attempt.submitted_at_ms,
            "resume_window_s": ctx.settings.resume_window_s,
            "end_ms": end_ms,
            "paused": clock.paused,
        },
        "epoch_ms": now_ms,
        "seen_ip": seen_ip,
        # The candidate's center, for the emergency-materials watermark on this PC.
        "center": label.to_json() if (label := center_label(ctx.db, candidate.center_id))
        else None,
    }


def _resumed_by_token(ctx: Context, sitting: list[tuple[Candidate, Exam]], *,
                      body: LoginRequest, now_ms: int) -> tuple[Candidate, Exam] | None:
    """The candidate and exam whose valid writing token this PC presents, or None."""
    if not body.resume_token or not body.client_id:
        return None
    token = ctx.db.resolve_token(body.resume_token, now_ms=now_ms)
    if (token is None or token.kind != CANDIDATE_TOKEN or token.client_id != body.client_id
            or token.attempt_id is None):
        return None
    attempt = ctx.db.get_attempt(token.attempt_id)
    if attempt is None:
        return None
    return next(((c, e) for c, e in sitting
                 if c.id == token.candidate_id and e.id == attempt.exam_id), None)


def _token_kind(ctx: Context, *, attempt: Attempt, kind: str, client_id: str) -> str:
    """After submission only the PC that held the attempt may still write (late revisions
    stamped before the end); any other PC gets a token that reads (the result)."""
    if kind != second_login.AFTER_SUBMISSION:
        return CANDIDATE
    holder = ctx.db.writer_client_id(attempt.id)
    if client_id and holder == client_id:
        return CANDIDATE
    return CANDIDATE_VIEW_TOKEN


@router.post("/admin/login")
def admin_login(body: AdminLoginRequest, request: Request, ctx: Context) -> dict[str, Any]:
    # The web area's login (throttled per account and address before any password is
    # checked), answered as JSON.
    from server.admin_web.session import log_in

    result = log_in(ctx, username=body.username, password=body.password,
                    address=client_ip(request, trust_proxy=ctx.settings.trust_proxy))
    if result is None:
        raise ApiError(401, "wrong_password")
    return {"token": result.token, "center_id": result.admin.center_id,
            "expires_ms": result.expires_ms}
