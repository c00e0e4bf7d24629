"""The console's audit log: one row per action, who, when, why; CSV for the exam record."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from client.i18n import _
from client.timefmt import staff_datetime
from server import schema as t
from server.console import tables as ct
from server.console.roles import Account
from server.db import Database


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at_ms: int
    actor: str
    actor_name: str | None  # the real name when it acted (None: a row from before names)
    role: str
    action: str
    exam_id: str | None
    center_id: str | None
    room: str | None
    candidate_id: int | None
    student_no: str | None
    candidate_name: str | None
    reason: str
    detail: dict[str, Any]


def record(conn: Connection, account: Account, *, action: str, at_ms: int, reason: str = "",
           exam_id: str | None = None, center_id: str | None = None, room: str | None = None,
           candidate_id: int | None = None, detail: dict[str, Any] | None = None) -> None:
    """Write the audit row in the caller's transaction, so an action and its record
    are committed together or not at all."""
    conn.execute(insert(ct.audit).values(
        at_ms=at_ms, actor=account.username, actor_name=account.display_name,
        role=account.role.value, action=action,
        exam_id=exam_id, center_id=center_id if center_id is not None else account.center_id,
        room=room, candidate_id=candidate_id, reason=reason, detail=detail or {}))


SYSTEM_ACTOR = "server"
SYSTEM_ROLE = "system"


def record_system(conn: Connection, *, action: str, at_ms: int, reason: str, exam_id: str,
                  center_id: str | None, room: str | None, candidate_id: int,
                  detail: dict[str, Any], actor: str = SYSTEM_ACTOR,
                  actor_name: str = "考试服务器", role: str = SYSTEM_ROLE) -> None:
    """An audit row no console account made: the server itself (a pause ended by its
    limit) or a proctor on a PC (proctor mode, reported by the PC: server/pc_actions.py)."""
    conn.execute(insert(ct.audit).values(
        at_ms=at_ms, actor=actor, actor_name=actor_name, role=role, action=action,
        exam_id=exam_id,
        center_id=center_id, room=room, candidate_id=candidate_id, reason=reason,
        detail=detail))


def seat_of(conn: Connection, *, exam_id: str, candidate_id: int) -> tuple[str | None, str | None]:
    """(center, room) of the candidate's seat for the exam; the candidate's center and no
    room when the room plan has no seat for them."""
    row = conn.execute(select(ct.seats.c.center_id, ct.seats.c.room).where(
        ct.seats.c.exam_id == exam_id, ct.seats.c.candidate_id == candidate_id)).first()
    if row is not None:
        return row.center_id, row.room
    center = conn.execute(select(t.candidates.c.center_id)
                          .where(t.candidates.c.id == candidate_id)).scalar()
    return center, None


def entries(db: Database, account: Account, *, since_ms: int | None = None,
            limit: int = 500) -> list[AuditEntry]:
    """The newest entries this account may see (its center; a proctor: its room)."""
    ct.ensure_tables(db)
    query = (select(ct.audit, t.candidates.c.student_no, t.candidates.c.name)
             .outerjoin(t.candidates, t.candidates.c.id == ct.audit.c.candidate_id)
             .order_by(ct.audit.c.id.desc()).limit(limit))
    if since_ms is not None:
        query = query.where(ct.audit.c.at_ms >= since_ms)
    if account.center_id is not None:
        query = query.where(ct.audit.c.center_id == account.center_id)
    with db.read() as conn:
        rows = conn.execute(query).all()
    found = [AuditEntry(id=r.id, at_ms=r.at_ms, actor=r.actor, actor_name=r.actor_name,
                        role=r.role, action=r.action,
                        exam_id=r.exam_id, center_id=r.center_id, room=r.room,
                        candidate_id=r.candidate_id, student_no=r.student_no,
                        candidate_name=r.name, reason=r.reason, detail=dict(r.detail or {}))
             for r in rows]
    if account.room is not None:
        found = [e for e in found if e.room in (None, account.room) and
                 (e.room is not None or e.actor == account.username)]
    return found


ACTION_LABELS = {
    "log_in": "登录控制台", "log_in_failed": "登录失败（密码错误）", "log_out": "退出控制台",
    "approve_login": "批准再次登录", "refuse_login": "拒绝再次登录",
    "issue_code": "发放授权码", "reset_password": "重置密码",
    "mark_present": "标记到场", "mark_absent": "标记缺考",
    "end_attempt": "结束作答", "incident": "记录违纪/异常", "export_day": "导出当日记录",
    "action_refused": "越权操作被拒绝",
    "extra_time": "延长考试时间", "message": "发送消息", "pause": "暂停作答",
    "resume": "恢复作答", "pause_limit": "暂停超时，自动恢复作答",
    # Reported by an exam PC (server/console/pc_actions.py): proctor mode on that PC.
    "proctor.unlocked": "监考模式解锁（考生电脑）",
    "proctor.unlock_failed": "监考模式解锁失败（考生电脑）",
    "proctor.locked": "监考模式锁定（考生电脑）",
    "proctor.exported": "导出离线答卷（考生电脑）",
    "proctor.export_failed": "导出离线答卷失败（考生电脑）",
    "proctor.relogin_authorized": "授权再次登录（考生电脑）",
    "proctor.entry_approved": "批准入场（考生电脑）",
    "proctor.ended": "退出监考模式（考生电脑）",
    "proctor.client_exited": "监考关闭客户端（考生电脑）",
    "pc_actions_dropped": "考生电脑上报的监考操作过多",
    "approve_face": "人脸核验未通过，批准入场", "refuse_face": "人脸核验未通过，不予入场",
}


def actor_label(entry: AuditEntry) -> str:
    """Who acted, by real name beside the login name: 王老师（wang）."""
    return f"{entry.actor_name or _('未登记实名')}（{entry.actor}）"


def arrived_label(entry: AuditEntry) -> str:
    """When a row reported by an exam PC reached the server (console rows: as done)."""
    arrived = entry.detail.get("arrived_at_ms")
    if entry.role != "pc_proctor" or not isinstance(arrived, int):
        return _("同操作时间")
    return staff_datetime(arrived, labelled=False)


def action_label(action: str) -> str:
    return _(ACTION_LABELS[action]) if action in ACTION_LABELS else action


# A cell Excel or WPS would read as a formula (=HYPERLINK(...), +cmd|..., @SUM, -1+1, and
# tab/CR that some versions skip before one). Names and reasons come from registration
# forms and proctors, so every such cell is written as text (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(found: list[AuditEntry]) -> str:
    """UTF-8 CSV with a BOM, so that Excel on a Chinese Windows opens it correctly.

    Every cell that would start a formula gets a leading apostrophe (shown as text)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("时间（北京时间）"), _("操作人姓名"), _("操作人账号"), _("角色"),
                     _("操作"), _("考试"),
                     _("考点"), _("考场"), _("学号"), _("姓名"), _("原因"), _("详情"),
                     _("到达服务器")])
    for e in sorted(found, key=lambda e: e.id):
        detail = "; ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))
        writer.writerow([_cell(value) for value in (
            staff_datetime(e.at_ms, labelled=False), e.actor_name or "", e.actor, e.role,
            action_label(e.action),
            e.exam_id or "",
            e.center_id or "", e.room or "", e.student_no or "", e.candidate_name or "",
            e.reason, detail, arrived_label(e))])
    return out.getvalue()
