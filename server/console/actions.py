"""What a proctor or chief examiner does from the console, each with its audit row.

Every action names a seat (exam + candidate) that must be inside the account's scope and
an action the role may take; otherwise it raises ``ConsoleRefusal`` and changes nothing.
The action and its audit row are written in one transaction where the action is a plain
database change; actions that reuse another module's writer (approving a login, ending an
attempt) write the audit row right after it, in the same request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from client.errors import UserFacingError
from client.i18n import _
from client.session.authorization import current_code
from server import attempt_time, identity_holds, staff_messages
from server import schema as t
from server.console import audit
from server.console import tables as ct
from server.console.roles import Account, Action
from server.db import IN_PROGRESS, Database, Exam
from server.keys import ServerKeys
from server.offline_package import exam_codes
from server.passwords import default_password, hash_password

REASON_MAX = 500

INCIDENT_CATEGORIES = {
    "identity": "身份存疑",
    "device": "设备或网络故障",
    "cheating": "违纪（作弊嫌疑）",
    "disturbance": "扰乱考场秩序",
    "health": "身体不适",
    "other": "其他",
}

# Actions that change a candidate's exam or access need a stated reason for the record.
_REASON_REQUIRED = {Action.APPROVE_LOGIN, Action.REFUSE_LOGIN, Action.ISSUE_CODE,
                    Action.RESET_PASSWORD, Action.END_ATTEMPT, Action.INCIDENT,
                    Action.EXTRA_TIME, Action.PAUSE, Action.RESUME, Action.APPROVE_FACE,
                    Action.REFUSE_FACE}
MAX_GROUP = 500  # seats in one group action (a room; a hall of several rooms at most)


class ConsoleRefusal(UserFacingError):
    """The action was not allowed or made no sense; nothing was changed."""


@dataclass(frozen=True)
class Target:
    """Who an action is about, why, and when (server time)."""

    exam_id: str
    candidate_id: int
    reason: str
    now_ms: int


@dataclass(frozen=True)
class Seat:
    exam_id: str
    candidate_id: int
    center_id: str
    room: str
    seat: str
    student_no: str
    name: str
    id_number: str


def find_seat(db: Database, *, exam_id: str, candidate_id: int) -> Seat | None:
    ct.ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(
            select(ct.seats, t.candidates.c.student_no, t.candidates.c.name,
                   t.candidates.c.id_number)
            .join(t.candidates, t.candidates.c.id == ct.seats.c.candidate_id)
            .where(ct.seats.c.exam_id == exam_id,
                   ct.seats.c.candidate_id == candidate_id)).first()
    if row is None:
        return None
    return Seat(exam_id=row.exam_id, candidate_id=row.candidate_id, center_id=row.center_id,
                room=row.room, seat=row.seat, student_no=row.student_no, name=row.name,
                id_number=row.id_number)


def _authorize(db: Database, account: Account, action: Action, target: Target) -> Seat:
    if not account.may(action):
        raise ConsoleRefusal("console.not_allowed",
                             _("{role}无权执行此操作，请联系主考").format(role=account.role.label))
    reason = target.reason
    seat = find_seat(db, exam_id=target.exam_id, candidate_id=target.candidate_id)
    # Outside the scope looks exactly like "no such seat": a proctor learns nothing about
    # other rooms by guessing candidate ids.
    if seat is None or not account.sees(center_id=seat.center_id, room=seat.room):
        raise ConsoleRefusal("console.no_such_seat", _("找不到该考生的座位"))
    if action in _REASON_REQUIRED and not reason.strip():
        raise ConsoleRefusal("console.reason_required", _("请填写原因，它将写入考务记录"))
    if len(reason) > REASON_MAX:
        raise ConsoleRefusal("console.reason_too_long",
                             _("原因不能超过 {n} 个字").format(n=REASON_MAX))
    return seat


def _attempt_id(db: Database, seat: Seat) -> int | None:
    attempt = db.find_attempt(exam_id=seat.exam_id, candidate_id=seat.candidate_id)
    return attempt.id if attempt is not None else None


def _audit(db: Database, account: Account, seat: Seat, *, action: Action, now_ms: int,
           reason: str, detail: dict[str, Any] | None = None) -> None:
    with db.write() as conn:
        audit.record(conn, account, action=action.value, at_ms=now_ms, reason=reason.strip(),
                     exam_id=seat.exam_id, center_id=seat.center_id, room=seat.room,
                     candidate_id=seat.candidate_id, detail=detail)


def approve_login(db: Database, account: Account, target: Target, *, request_id: int) -> None:
    seat = _authorize(db, account, Action.APPROVE_LOGIN, target)
    reason, now_ms = target.reason, target.now_ms
    attempt_id = _pending_request(db, seat, request_id)
    # The write approves only a still-pending request: of two decisions sent at once
    # (double click, two tabs, chief and admin) the second finds it closed.
    if not db.approve_login_requests(attempt_id=attempt_id, request_id=request_id,
                                     approved_by=account.actor, now_ms=now_ms):
        raise _closed(request_id)
    db.add_event(attempt_id=attempt_id, kind="second_login_approved",
                 payload={"by": account.actor, "requests": [request_id],
                          "reason": reason.strip()}, at_ms=now_ms)
    _audit(db, account, seat, action=Action.APPROVE_LOGIN, now_ms=now_ms, reason=reason,
           detail={"request_id": request_id})


def refuse_login(db: Database, account: Account, target: Target, *, request_id: int) -> None:
    """Close the request unapproved; the PC may ask again, which makes a new request."""
    seat = _authorize(db, account, Action.REFUSE_LOGIN, target)
    reason, now_ms = target.reason, target.now_ms
    attempt_id = _pending_request(db, seat, request_id)
    with db.write() as conn:
        refused = conn.execute(update(t.login_requests)
                               .where(t.login_requests.c.id == request_id,
                                      t.login_requests.c.status == "pending")
                               .values(status="refused", approved_by=account.actor,
                                       approved_at_ms=now_ms))
        if refused.rowcount != 1:  # decided meanwhile: no refusal, no audit row
            raise _closed(request_id)
        audit.record(conn, account, action=Action.REFUSE_LOGIN.value, at_ms=now_ms,
                     reason=reason.strip(), exam_id=seat.exam_id, center_id=seat.center_id,
                     room=seat.room, candidate_id=seat.candidate_id,
                     detail={"request_id": request_id})
    db.add_event(attempt_id=attempt_id, kind="second_login_refused",
                 payload={"by": account.actor, "requests": [request_id],
                          "reason": reason.strip()}, at_ms=now_ms)


def _pending_request(db: Database, seat: Seat, request_id: int) -> int:
    """The attempt id of the seat's pending request *request_id* (else a refusal)."""
    request = db.get_login_request(request_id)
    attempt_id = _attempt_id(db, seat)
    if request is None or attempt_id is None or request.attempt_id != attempt_id:
        raise ConsoleRefusal("console.no_such_request",
                             _("该考生没有编号为 {n} 的登录请求").format(n=request_id))
    if request.status != "pending":
        raise _closed(request_id)
    return attempt_id


def _closed(request_id: int) -> ConsoleRefusal:
    return ConsoleRefusal("console.request_closed", _("登录请求 {n} 已处理").format(n=request_id))


@dataclass(frozen=True)
class IssuedCode:
    code: str
    valid_until_ms: int


def issue_code(db: Database, account: Account, target: Target, *, keys: ServerKeys,
               exam: Exam) -> IssuedCode:
    """The candidate's current one-time authorization code (typed on the held PC)."""
    seat = _authorize(db, account, Action.ISSUE_CODE, target)
    reason, now_ms = target.reason, target.now_ms
    codes = exam_codes(db, keys, exam.id)
    if codes is None:
        raise ConsoleRefusal("console.no_codes", _("这场考试没有授权码密钥，请重新导入试卷"))
    code, valid_until = current_code(proctor_secret=codes.proctor_secret, exam_id=exam.id,
                                     student_no=seat.student_no, now_ms=now_ms)
    # The code itself is not written to the log: the record says that one was issued.
    _audit(db, account, seat, action=Action.ISSUE_CODE, now_ms=now_ms, reason=reason,
           detail={"valid_until_ms": valid_until})
    return IssuedCode(code=code, valid_until_ms=valid_until)


def reset_password(db: Database, account: Account, target: Target) -> None:
    """Back to the seed's default rule (last 6 of the ID number; 123456 with brackets)."""
    seat = _authorize(db, account, Action.RESET_PASSWORD, target)
    reason, now_ms, candidate_id = target.reason, target.now_ms, target.candidate_id
    new_hash = hash_password(default_password(seat.id_number))
    with db.write() as conn:
        conn.execute(update(t.candidates).where(t.candidates.c.id == candidate_id)
                     .values(password_hash=new_hash))
        audit.record(conn, account, action=Action.RESET_PASSWORD.value, at_ms=now_ms,
                     reason=reason.strip(), exam_id=seat.exam_id, center_id=seat.center_id,
                     room=seat.room, candidate_id=candidate_id)


def mark_attendance(db: Database, account: Account, target: Target, *, present: bool) -> None:
    action = Action.MARK_PRESENT if present else Action.MARK_ABSENT
    seat = _authorize(db, account, action, target)
    exam_id, candidate_id = target.exam_id, target.candidate_id
    reason, now_ms = target.reason, target.now_ms
    where = ((ct.attendance.c.exam_id == exam_id)
             & (ct.attendance.c.candidate_id == candidate_id))
    with db.write() as conn:
        conn.execute(delete(ct.attendance).where(where))
        conn.execute(insert(ct.attendance).values(
            exam_id=exam_id, candidate_id=candidate_id,
            status="present" if present else "absent", by=account.username, at_ms=now_ms))
        audit.record(conn, account, action=action.value, at_ms=now_ms, reason=reason.strip(),
                     exam_id=exam_id, center_id=seat.center_id, room=seat.room,
                     candidate_id=candidate_id)


def end_attempt(db: Database, account: Account, target: Target) -> None:
    """Submit the attempt now with what the server has (违纪终止考试, 考生提前离场)."""
    seat = _authorize(db, account, Action.END_ATTEMPT, target)
    reason, now_ms = target.reason, target.now_ms
    attempt = db.find_attempt(exam_id=target.exam_id, candidate_id=target.candidate_id)
    if attempt is None or attempt.status != IN_PROGRESS:
        raise ConsoleRefusal("console.not_in_progress", _("该考生没有正在进行的作答"))
    db.submit_attempt(attempt.id, at_ms=now_ms)
    db.add_event(attempt_id=attempt.id, kind="attempt_ended_by_staff",
                 payload={"by": account.actor, "reason": reason.strip()}, at_ms=now_ms)
    _audit(db, account, seat, action=Action.END_ATTEMPT, now_ms=now_ms, reason=reason)


def record_incident(db: Database, account: Account, target: Target, *, category: str) -> None:
    seat = _authorize(db, account, Action.INCIDENT, target)
    exam_id, candidate_id = target.exam_id, target.candidate_id
    reason, now_ms = target.reason, target.now_ms
    if category not in INCIDENT_CATEGORIES:
        raise ConsoleRefusal("console.bad_category", _("请选择异常类别"))
    with db.write() as conn:
        conn.execute(insert(ct.incidents).values(
            exam_id=exam_id, candidate_id=candidate_id, center_id=seat.center_id,
            room=seat.room, category=category, reason=reason.strip(), by=account.username,
            at_ms=now_ms))
        audit.record(conn, account, action=Action.INCIDENT.value, at_ms=now_ms,
                     reason=reason.strip(), exam_id=exam_id, center_id=seat.center_id,
                     room=seat.room, candidate_id=candidate_id,
                     detail={"category": category})


@dataclass(frozen=True)
class Granted:
    candidate_id: int
    end_ms: int  # the candidate's new end (server time)


def _group(db: Database, account: Account, action: Action, *, exam_id: str,
           candidate_ids: list[int], reason: str, now_ms: int) -> list[Seat]:
    """Every seat of a group action, each inside the scope (else nothing is done)."""
    unique = list(dict.fromkeys(candidate_ids))
    if not unique:
        raise ConsoleRefusal("console.no_seats", _("请选择考生"))
    if len(unique) > MAX_GROUP:
        raise ConsoleRefusal("console.too_many_seats",
                             _("一次最多选择 {n} 名考生").format(n=MAX_GROUP))
    return [_authorize(db, account, action, Target(exam_id=exam_id, candidate_id=c,
                                                   reason=reason, now_ms=now_ms))
            for c in unique]


def grant_extra_time(db: Database, account: Account, *, exam: Exam, candidate_ids: list[int],
                     reason: str, now_ms: int, minutes: float | None,
                     multiplier: float | None) -> list[Granted]:
    """Extra time for one candidate or a group (a selection, the room), in minutes or as
    a multiplier of the exam's duration, before the exam or during it.

    All or nothing: a seat outside the scope, already submitted or whose time has run
    out refuses the whole group, so the record never holds half a decision. Each
    candidate gets an audit row (who, when, why, how much, the new end) written in the
    same transaction as the grant.
    """
    seats = _group(db, account, Action.EXTRA_TIME, exam_id=exam.id,
                   candidate_ids=candidate_ids, reason=reason, now_ms=now_ms)
    try:
        extra_ms = attempt_time.extra_ms_for(exam=exam, minutes=minutes,
                                             multiplier=multiplier)
    except ValueError:
        raise ConsoleRefusal("console.bad_extra_time", _(
            "请填写延长的分钟数（不超过 {m}）或时间倍数（大于 1，最多 {x}）").format(
                m=attempt_time.MAX_EXTRA_MINUTES, x=attempt_time.MAX_MULTIPLIER)) from None
    granted: list[Granted] = []
    with db.write() as conn:
        for seat in seats:
            attempt = conn.execute(select(t.attempts.c.status).where(
                t.attempts.c.exam_id == exam.id,
                t.attempts.c.candidate_id == seat.candidate_id)).first()
            before = attempt_time.read_clock(conn, exam=exam, candidate_id=seat.candidate_id,
                                             lock=True)
            over = before.end_ms(now_ms=now_ms) <= now_ms
            if (attempt is not None and attempt.status != IN_PROGRESS) or over:
                raise ConsoleRefusal("console.time_over", _(
                    "{name}（座位 {seat}）已交卷或考试时间已结束，不能再延长").format(
                        name=seat.name, seat=seat.seat), candidate_id=seat.candidate_id)
            after = attempt_time.add_extra(conn, exam=exam, candidate_id=seat.candidate_id,
                                           extra_ms=extra_ms, now_ms=now_ms)
            end_ms = after.end_ms(now_ms=now_ms)
            audit.record(conn, account, action=Action.EXTRA_TIME.value, at_ms=now_ms,
                         reason=reason.strip(), exam_id=exam.id, center_id=seat.center_id,
                         room=seat.room, candidate_id=seat.candidate_id, detail={
                             "extra_ms": extra_ms, "minutes": minutes,
                             "multiplier": multiplier, "end_ms": end_ms,
                             "end_before_ms": before.end_ms(now_ms=now_ms),
                             "planned": now_ms < exam.start_ms, "group": len(seats)})
            granted.append(Granted(candidate_id=seat.candidate_id, end_ms=end_ms))
    return granted


def send_message(db: Database, account: Account, *, exam: Exam, candidate_ids: list[int],
                 text: str, now_ms: int) -> list[int]:
    """A message to one seat, a selection or the room: one per candidate (so the console
    shows per seat 已送达 / 已读), each with its audit row, in one transaction. The PC
    shows it on its next heartbeat without taking the focus (docs/console.md)."""
    text = text.strip()
    if not text:
        raise ConsoleRefusal("console.message_empty", _("请填写消息内容"))
    if len(text) > staff_messages.TEXT_MAX:
        raise ConsoleRefusal("console.message_too_long", _("消息不能超过 {n} 个字").format(
            n=staff_messages.TEXT_MAX))
    seats = _group(db, account, Action.MESSAGE, exam_id=exam.id, candidate_ids=candidate_ids,
                   reason=text, now_ms=now_ms)
    staff_messages.ensure_tables(db)
    sender = f"{account.role.label} {account.display_name}"
    sent: list[int] = []
    with db.write() as conn:
        for seat in seats:
            message_id = staff_messages.send(conn, exam_id=exam.id,
                                             candidate_id=seat.candidate_id, text=text,
                                             sender=sender, by=account.username, now_ms=now_ms)
            audit.record(conn, account, action=Action.MESSAGE.value, at_ms=now_ms, reason=text,
                         exam_id=exam.id, center_id=seat.center_id, room=seat.room,
                         candidate_id=seat.candidate_id,
                         detail={"message_id": message_id, "group": len(seats)})
            sent.append(message_id)
    return sent


def set_pause(db: Database, account: Account, target: Target, *, exam: Exam,
              paused: bool) -> int:
    """Stop (暂停作答) or restart (恢复作答) one candidate's exam clock; returns the
    candidate's end after the change (while paused: as if resumed now).

    Only an attempt under way can be paused: logged in, not submitted, the exam started
    and the candidate's time not over. Resuming moves the end by the time paused
    (server/attempt_time.py); the PC shows a paused screen meanwhile and takes no answer.
    """
    action = Action.PAUSE if paused else Action.RESUME
    seat = _authorize(db, account, action, target)
    now_ms, reason = target.now_ms, target.reason.strip()
    with db.write() as conn:
        attempt = conn.execute(select(t.attempts.c.id, t.attempts.c.status).where(
            t.attempts.c.exam_id == exam.id,
            t.attempts.c.candidate_id == seat.candidate_id)).first()
        before = attempt_time.read_clock(conn, exam=exam, candidate_id=seat.candidate_id,
                                         lock=True)
        under_way = (attempt is not None and attempt.status == IN_PROGRESS
                     and now_ms >= exam.start_ms and before.end_ms(now_ms=now_ms) > now_ms)
        if not under_way:
            raise ConsoleRefusal("console.not_in_progress", _("该考生没有正在进行的作答"))
        if before.paused == paused:
            raise ConsoleRefusal("console.pause_unchanged", _("该考生已处于暂停状态") if paused
                                 else _("该考生没有被暂停"))
        after = attempt_time.set_paused(conn, exam=exam, candidate_id=seat.candidate_id,
                                        paused=paused, now_ms=now_ms)
        end_ms = after.end_ms(now_ms=now_ms)
        detail: dict[str, Any] = {"end_ms": end_ms, "paused_ms_total": after.paused_ms}
        if not paused and before.paused_since_ms is not None:
            detail["paused_for_ms"] = now_ms - before.paused_since_ms
        audit.record(conn, account, action=action.value, at_ms=now_ms, reason=reason,
                     exam_id=exam.id, center_id=seat.center_id, room=seat.room,
                     candidate_id=seat.candidate_id, detail=detail)
    assert attempt is not None
    db.add_event(attempt_id=int(attempt.id), kind="attempt_paused" if paused
                 else "attempt_resumed", payload={"by": account.actor, "reason": reason,
                                                  **detail}, at_ms=now_ms)
    return end_ms


def decide_face_hold(db: Database, account: Account, target: Target, *, hold_id: int,
                     approve: bool) -> None:
    """Let a candidate held after a failed face check in (批准入场) or not (不予入场).

    The hold must be the seat's own and still waiting: a decided one (a second click, a
    replayed request, another tab) or another candidate's is refused and nothing changes.
    The decision, the proctor's identity result (on approval) and the audit row with
    the evidence (the stored frames' ids) are one transaction. The PC learns it on its
    next heartbeat (server/identity_holds.py).
    """
    from server.review import evaluate_attempt

    action = Action.APPROVE_FACE if approve else Action.REFUSE_FACE
    seat = _authorize(db, account, action, target)
    reason, now_ms = target.reason.strip(), target.now_ms
    hold = identity_holds.get_hold(db, hold_id)
    attempt_id = _attempt_id(db, seat)
    if hold is None or attempt_id is None or hold.attempt_id != attempt_id:
        raise ConsoleRefusal("console.no_such_hold",
                             _("该考生没有编号为 {n} 的人脸核验审批").format(n=hold_id))
    evidence = identity_holds.evidence_ids(db, hold)
    with db.write() as conn:
        if not identity_holds.decide(conn, hold=hold, approve=approve, by=account.actor,
                                     reason=reason, now_ms=now_ms):
            raise ConsoleRefusal("console.hold_closed",
                                 _("人脸核验审批 {n} 已处理").format(n=hold_id))
        audit.record(conn, account, action=action.value, at_ms=now_ms, reason=reason,
                     exam_id=seat.exam_id, center_id=seat.center_id, room=seat.room,
                     candidate_id=seat.candidate_id, detail={
                         "hold_id": hold_id, "event_id": hold.event_id,
                         "evidence_image_ids": evidence, "check_reason": hold.reason,
                         "score": hold.score, "threshold": hold.threshold})
    db.add_event(attempt_id=attempt_id, kind="identity_hold_approved" if approve
                 else "identity_hold_refused",
                 payload={"by": account.actor, "hold_id": hold_id, "reason": reason},
                 at_ms=now_ms)
    if approve:  # 人脸识别认证未通过: the result waits for a reviewer (server/review.py)
        evaluate_attempt(db, attempt_id, now_ms=now_ms)
