"""Server time and keys, the paper package download, and the paper key release."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from server import identity_holds
from server.auth import CandidateAuth, Context, admin_session, candidate_session
from server.context import ServerContext
from server.db import Admin, Exam
from server.errors import ApiError

router = APIRouter()


@router.get("/time")
def server_time(ctx: Context) -> dict[str, int]:
    # The Date and X-Server-Time-Ms headers come from ServerTimeHeaders (server/app.py).
    return {"epoch_ms": ctx.clock.now_ms()}


@router.get("/server-keys")
def server_keys(ctx: Context) -> dict[str, str]:
    return {
        "signing_public_key": base64.b64encode(ctx.keys.signing_public_raw()).decode(),
        "box_public_key": base64.b64encode(ctx.keys.box_public_raw()).decode(),
    }


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 If-None-Match: "*" or any listed tag equal to *etag* (weak comparison)."""
    wanted = etag.removeprefix("W/").strip('"')
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/").strip('"') == wanted:
            return True
    return False


def _package_exam(exam_id: str, request: Request, ctx: ServerContext) -> Exam:
    """The exam whose package the caller may download: a candidate their own exam; an
    admin any exam, to preload a room's PCs before any candidate logs in (docs/offline.md)."""
    admin = _admin_or_none(request, ctx)
    if admin is not None:
        exam = ctx.db.get_exam(exam_id)
        if exam is None:
            raise ApiError(404, "not_found")
        return exam
    session = candidate_session(request, ctx)
    if session.exam.id != exam_id:
        raise ApiError(403, "wrong_exam", exam_id=session.exam.id)
    return session.exam


def _admin_or_none(request: Request, ctx: ServerContext) -> Admin | None:
    try:
        return admin_session(request, ctx)
    except ApiError:
        return None


@router.get("/exams/{exam_id}/package", response_model=None)
def package(exam_id: str, request: Request, ctx: Context) -> Response:
    exam = _package_exam(exam_id, request, ctx)
    headers = {"ETag": exam.etag, "Cache-Control": "private, no-cache"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and etag_matches(if_none_match, exam.etag):
        return Response(status_code=304, headers=headers)
    # Starlette's FileResponse serves Range (206) and honours If-Range against our ETag,
    # so an interrupted download resumes where it stopped.
    return FileResponse(
        ctx.papers.package_file(exam),
        media_type="application/octet-stream",
        headers=headers,
        filename=f"{exam.id}.exampkg",
    )


@router.get("/exams/{exam_id}/paper-key")
def paper_key(exam_id: str, session: CandidateAuth, ctx: Context) -> dict[str, Any]:
    if session.exam.id != exam_id:
        raise ApiError(403, "wrong_exam", exam_id=session.exam.id)
    now = ctx.clock.now_ms()
    if now < session.exam.start_ms:
        raise ApiError(403, "not_started", start_ms=session.exam.start_ms, epoch_ms=now)
    held = identity_holds.blocking_hold(ctx.db, attempt_id=session.attempt.id)
    if held is not None:
        # Held after a failed face check: only a proctor's decision opens the paper (the
        # console's approval, or the proctor at the PC with the start code).
        raise ApiError(403, "identity_held", hold_id=held.id, hold_status=held.status)
    key = ctx.papers.paper_key(session.exam)
    return {"paper_key": base64.b64encode(key).decode(), "epoch_ms": now}
