"""Admin API for second logins: list the held ones, approve one, or authorize a candidate.

    GET  /api/v1/admin/login-requests?exam_id=&status=pending
    POST /api/v1/admin/login-requests/{id}/approve
    POST /api/v1/admin/authorize-login   {"exam_id": ..., "candidate": student no or ID}

Bearer token of POST /api/v1/admin/login. A center admin sees and approves only the
candidates of their own center; a platform admin (no center) all of them. The CLI
``exam-server authorize-login EXAM CANDIDATE`` does the same as the last call.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from client.errors import UserFacingError
from client.i18n import _
from server.auth import AdminAuth, Context
from server.db import Admin, Candidate, Database, LoginRequest
from server.errors import ApiError

router = APIRouter(prefix="/admin")


class AuthorizeIn(BaseModel):
    exam_id: str = Field(min_length=1, max_length=64)
    candidate: str = Field(min_length=1, max_length=64)


def find_exam_candidate(db: Database, *, exam_id: str, who: str) -> Candidate:
    """The registered candidate of *exam_id* with student number or ID number *who*."""
    if db.get_exam(exam_id) is None:
        raise UserFacingError("exam.unknown", _("考试 {exam} 不存在").format(exam=exam_id))
    registered = {c.id for c in db.registered_candidates(exam_id)}
    for candidate in db.candidates_by_username(who.strip()):
        if candidate.id in registered:
            return candidate
    raise UserFacingError("candidate.not_registered",
                          _("考生 {who} 未报名考试 {exam}").format(who=who, exam=exam_id))


def authorize_login(db: Database, *, exam_id: str, who: str, approved_by: str,
                    now_ms: int) -> list[LoginRequest]:
    """Approve the candidate's held second login(s), or the next one if none is held."""
    candidate = find_exam_candidate(db, exam_id=exam_id, who=who)
    attempt = db.find_attempt(exam_id=exam_id, candidate_id=candidate.id)
    if attempt is None:
        raise UserFacingError("login.first_needs_no_authorization",
                              _("考生 {who} 尚未登录过，首次登录无需授权").format(who=who))
    approved = db.approve_login_requests(attempt_id=attempt.id, approved_by=approved_by,
                                         now_ms=now_ms)
    db.add_event(attempt_id=attempt.id, kind="second_login_approved",
                 payload={"by": approved_by, "requests": [r.id for r in approved]},
                 at_ms=now_ms)
    return approved


def _in_scope(admin: Admin, candidate: Candidate | None) -> bool:
    return admin.center_id is None or (candidate is not None
                                       and candidate.center_id == admin.center_id)


def _request_json(db: Database, request: LoginRequest) -> dict[str, Any]:
    attempt = db.get_attempt(request.attempt_id)
    candidate = db.get_candidate(attempt.candidate_id) if attempt else None
    return {
        "id": request.id,
        "status": request.status,
        "exam_id": attempt.exam_id if attempt else None,
        "student_no": candidate.student_no if candidate else None,
        "name": candidate.name if candidate else None,
        "client_id": request.client_id,
        "seen_ip": request.seen_ip,
        "requested_at_ms": request.requested_at_ms,
        "approved_by": request.approved_by,
        "approved_at_ms": request.approved_at_ms,
    }


def _candidate_of(db: Database, request: LoginRequest) -> Candidate | None:
    attempt = db.get_attempt(request.attempt_id)
    return db.get_candidate(attempt.candidate_id) if attempt else None


@router.get("/login-requests")
def list_login_requests(admin: AdminAuth, ctx: Context, exam_id: str | None = None,
                        status: str | None = "pending") -> dict[str, Any]:
    requests = [r for r in ctx.db.login_requests(exam_id=exam_id, status=status or None)
                if _in_scope(admin, _candidate_of(ctx.db, r))]
    return {"requests": [_request_json(ctx.db, r) for r in requests]}


@router.post("/login-requests/{request_id}/approve")
def approve_login_request(request_id: int, admin: AdminAuth, ctx: Context) -> dict[str, Any]:
    request = ctx.db.get_login_request(request_id)
    if request is None or not _in_scope(admin, _candidate_of(ctx.db, request)):
        raise ApiError(404, "not_found")
    now = ctx.clock.now_ms()
    if request.status == "pending":
        ctx.db.approve_login_requests(attempt_id=request.attempt_id, request_id=request.id,
                                      approved_by=f"admin:{admin.username}", now_ms=now)
        ctx.db.add_event(attempt_id=request.attempt_id, kind="second_login_approved",
                         payload={"by": f"admin:{admin.username}", "requests": [request.id]},
                         at_ms=now)
    approved = ctx.db.get_login_request(request_id)
    assert approved is not None
    return _request_json(ctx.db, approved)


@router.post("/authorize-login")
def authorize_candidate_login(body: AuthorizeIn, admin: AdminAuth,
                              ctx: Context) -> dict[str, Any]:
    try:
        candidate = find_exam_candidate(ctx.db, exam_id=body.exam_id, who=body.candidate)
        if not _in_scope(admin, candidate):
            raise ApiError(404, "not_found")
        approved = authorize_login(ctx.db, exam_id=body.exam_id, who=body.candidate,
                                   approved_by=f"admin:{admin.username}",
                                   now_ms=ctx.clock.now_ms())
    except UserFacingError as exc:
        raise ApiError(404, exc.code) from exc
    return {"requests": [_request_json(ctx.db, r) for r in approved]}
