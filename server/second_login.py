"""Who may log in again, and when the answer is "wait for authorization".

The rule (docs/offline.md, "Sessions"), checked after the password:

1. the first login of an attempt, or any login before the exam starts (nothing answered
   yet, the paper still locked), or after the attempt was submitted (to see the result):
   allowed;
2. the same PC coming back (after a crash, the client's own restart, or a retry whose
   answer was lost): the PC (client id) that holds the attempt's writing token, or that
   presents such a token: allowed with no proctor;
3. another PC (or a PC without its saved token) more than ``resume_window_s`` after the
   attempt's last contact: the attempt is submitted automatically with what the server
   has, and the login says so;
4. otherwise the login is held (409 ``second_login``) until it brings a valid
   authorization code (client/session/authorization.py) or an admin approved it (API or
   ``exam-server authorize-login``).
"""

from __future__ import annotations

from dataclasses import dataclass

from client.session.authorization import check_with_secret
from server.context import ServerContext
from server.db import CANDIDATE_TOKEN, Attempt, Candidate, Exam
from server.errors import ApiError
from server.offline_package import code_verifiers_for, exam_codes

FIRST = "first"
BEFORE_START = "before_start"
AFTER_SUBMISSION = "after_submission"
SAME_CLIENT = "same_client"
CODE = "authorization_code"
APPROVED = "approved"
RESUME_WINDOW_OVER = "resume_window_over"


@dataclass(frozen=True)
class LoginAttemptFacts:
    client_id: str
    seen_ip: str
    resume_token: str
    authorization_code: str


def decide(ctx: ServerContext, *, candidate: Candidate, exam: Exam, attempt: Attempt | None,
           facts: LoginAttemptFacts, now_ms: int) -> str:
    """The kind of this login (one of the constants above); raises ApiError when held."""
    if attempt is None or attempt.login_count == 0:
        return FIRST
    if attempt.is_submitted:
        return AFTER_SUBMISSION
    if now_ms < exam.start_ms:
        return BEFORE_START
    if same_client(ctx, attempt=attempt, facts=facts, now_ms=now_ms):
        return SAME_CLIENT
    since = max(attempt.last_contact_ms or 0, exam.start_ms)
    if now_ms - since > ctx.settings.resume_window_s * 1000:
        return RESUME_WINDOW_OVER
    if facts.authorization_code:
        return _check_code(ctx, candidate=candidate, exam=exam, attempt=attempt, facts=facts,
                           now_ms=now_ms)
    approval = ctx.db.take_login_approval(
        attempt_id=attempt.id, client_id=facts.client_id or None, now_ms=now_ms,
        max_age_ms=ctx.settings.login_approval_ttl_s * 1000)
    if approval is not None:
        return APPROVED
    raise _held(ctx, candidate=candidate, exam=exam, attempt=attempt, facts=facts,
                now_ms=now_ms)


def same_client(ctx: ServerContext, *, attempt: Attempt, facts: LoginAttemptFacts,
                now_ms: int) -> bool:
    """The PC that holds the attempt (its client id has the writing token) logs in again.

    Logins are idempotent per PC: a retry whose answer was lost, or a restart that lost
    its token, is the same login, never a second one (docs/lifecycle.md).
    """
    if not facts.client_id:
        return False
    if ctx.db.writer_client_id(attempt.id) == facts.client_id:
        return True
    if facts.resume_token:
        token = ctx.db.resolve_token(facts.resume_token, now_ms=now_ms)
        return (token is not None and token.kind == CANDIDATE_TOKEN
                and token.attempt_id == attempt.id and token.client_id == facts.client_id)
    return False


def _check_code(ctx: ServerContext, *, candidate: Candidate, exam: Exam, attempt: Attempt,
                facts: LoginAttemptFacts, now_ms: int) -> str:
    codes = exam_codes(ctx.db, ctx.keys, exam.id)
    window = None if codes is None else check_with_secret(
        facts.authorization_code, proctor_secret=codes.proctor_secret, exam_id=exam.id,
        student_no=candidate.student_no, now_ms=now_ms)
    if window is None:
        ctx.db.add_event(attempt_id=attempt.id, kind="authorization_code_refused",
                         payload={"client_id": facts.client_id, "seen_ip": facts.seen_ip},
                         at_ms=now_ms)
        raise ApiError(403, "authorization_code_invalid", candidate_id=candidate.id,
                       exam_id=exam.id)
    if not ctx.db.claim_authorization_code(attempt_id=attempt.id, window=window,
                                           client_id=facts.client_id, now_ms=now_ms):
        raise ApiError(409, "authorization_code_used", candidate_id=candidate.id,
                       exam_id=exam.id)
    return CODE


def _held(ctx: ServerContext, *, candidate: Candidate, exam: Exam, attempt: Attempt,
          facts: LoginAttemptFacts, now_ms: int) -> ApiError:
    request = ctx.db.create_login_request(attempt_id=attempt.id,
                                          client_id=facts.client_id or None,
                                          seen_ip=facts.seen_ip, now_ms=now_ms)
    if request.requested_at_ms == now_ms:
        ctx.db.add_event(attempt_id=attempt.id, kind="second_login_held",
                         payload={"request_id": request.id, "client_id": facts.client_id,
                                  "seen_ip": facts.seen_ip}, at_ms=now_ms)
    detail: dict[str, object] = {
        "request_id": request.id,
        "candidate_id": candidate.id,
        "student_no": candidate.student_no,
        "exam_id": exam.id,
        "seen_ip": facts.seen_ip,
        "resume_window_ends_ms": max(attempt.last_contact_ms or 0, exam.start_ms)
        + ctx.settings.resume_window_s * 1000,
    }
    codes = exam_codes(ctx.db, ctx.keys, exam.id)
    if codes is not None:
        # The same digests the package header carries: they let the PC check a typed
        # code by itself when the network drops right after this answer.
        verifiers = code_verifiers_for(proctor_secret=codes.proctor_secret, exam_id=exam.id,
                                       candidate_id=candidate.id, student_no=candidate.student_no,
                                       start_ms=exam.start_ms, end_ms=exam.end_ms)
        detail["authorization"] = verifiers.to_json()
    return ApiError(409, "second_login", **detail)
