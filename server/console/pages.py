"""HTML shells of the console. The room page is filled in by console.js from JSON; the
server only interpolates values through ``esc``. Chinese first; English from catalogs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from client.i18n import _, current_language
from client.timefmt import staff_datetime
from server.console.actions import INCIDENT_CATEGORIES
from server.console.audit import AuditEntry, action_label, actor_label, arrived_label
from server.console.identity import RealName
from server.console.roles import Account, Action
from server.db import Exam


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, *, script: bool = False) -> str:
    lang = "zh-CN" if current_language() == "zh_CN" else "en"
    js = '<script src="/console/static/console.js" defer></script>' if script else ""
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{esc(title)}</title>'
            f'<link rel="stylesheet" href="/console/static/console.css">{js}</head>'
            f"<body>{body}</body></html>")


def login_page(*, error: str | None = None, username: str = "") -> str:
    error_html = f'<p class="error" id="error" role="alert">{esc(error)}</p>' if error else ""
    return page(_("考场监控台登录"), f"""
<main class="card"><h1>{esc(_("考场监控台"))}</h1>
<p class="hint">{esc(_("监考教师、主考和管理员使用各自的账号登录"))}</p>{error_html}
<form method="post" action="/console/login">
<label>{esc(_("用户名"))}<input name="username" id="username" value="{esc(username)}"
 autocomplete="username" required></label>
<label>{esc(_("密码"))}<input name="password" id="password" type="password"
 autocomplete="current-password" required></label>
<button type="submit" id="login">{esc(_("登录"))}</button>
</form></main>""")


def header(account: Account, csrf: str, real_name: RealName | None) -> str:
    """The top bar of every console page: who is signed in, by real name (name, masked ID
    number, photo) when the account has one, and the pages."""
    scope = (_("全部考点") if account.center_id is None else
             _("考点 {center}").format(center=account.center_id) if account.room is None else
             _("考点 {center} · 考场 {room}").format(center=account.center_id, room=account.room))
    audit_link = (f'<a href="/console/audit" id="audit-link">{esc(_("操作记录"))}</a>')
    materials_link = (f'<a href="/console/materials" id="materials-link">'
                      f'{esc(_("应急材料"))}</a>')
    if real_name is None:
        identity = f'<span id="id-number" class="muted">{esc(_("未登记身份证号"))}</span>'
    else:
        masked = _("身份证号 {masked}").format(masked=real_name.masked_id_number)
        identity = f'<span id="id-number">{esc(masked)}</span>'
        if real_name.has_photo:
            identity = ('<img id="who-photo" class="who-photo" alt="" '
                        'src="/console/materials/me/photo">' + identity)
    return f"""<header class="top">
<strong>{esc(_("考场监控台"))}</strong>
<span id="who">{esc(account.display_name)}（{esc(account.role.label)}） · {esc(scope)}</span>
{identity}
<nav><a href="/console">{esc(_("考场"))}</a> {audit_link} {materials_link}</nav>
<form method="post" action="/console/logout" class="inline">
<input type="hidden" name="csrf" value="{esc(csrf)}">
<button type="submit" id="logout">{esc(_("退出"))}</button></form></header>"""


def room_page(*, account: Account, csrf: str, exams: Sequence[Exam], exam: Exam | None,
              real_name: RealName | None) -> str:
    options = "".join(
        f'<option value="{esc(e.id)}"{" selected" if exam and e.id == exam.id else ""}>'
        f"{esc(e.title)}（{esc(_starts(e))}）</option>" for e in exams)
    allowed = [a.value for a in Action if account.may(a)]
    config = {
        "csrf": csrf, "role": account.role.value, "allowed": allowed,
        "categories": {k: _(v) for k, v in INCIDENT_CATEGORIES.items()},
        "text": _client_texts(),
    }
    group_button = (f'<button type="button" id="group-action">{esc(_("多名考生延时"))}</button>'
                    if account.may(Action.EXTRA_TIME) else "")
    if account.may(Action.MESSAGE):
        group_button += (f' <button type="button" id="group-message">'
                         f'{esc(_("多名考生发消息"))}</button>')
    body = f"""{header(account, csrf, real_name)}
<section class="bar">
<label>{esc(_("考试"))} <select id="exam">{options}</select></label>
<label>{esc(_("考场"))} <select id="room"></select></label>
<input id="search" type="search" placeholder="{esc(_("按姓名、学号或座位号查找"))}"
 aria-label="{esc(_("查找考生"))}">
{group_button}
<span id="clock" aria-live="off"></span>
<span id="freshness" class="muted"></span>
</section>
<section id="counts" class="counts" aria-label="{esc(_("筛选"))}"></section>
<p id="notice" class="notice" role="status" hidden></p>
<main id="tiles" class="tiles" aria-live="polite"></main>
<aside id="detail" class="detail" hidden aria-label="{esc(_("考生详情"))}"></aside>
<div id="config" hidden data-config="{esc(json.dumps(config, ensure_ascii=False))}"></div>"""
    if exam is None:
        body = f"""{header(account, csrf, real_name)}<main class="card"><p id="no-exam">
{esc(_("您的考点目前没有安排座位的考试。主考可用 exam-server assign-seats 导入考场安排表。"))}
</p></main>"""
    return page(_("考场监控台"), body, script=exam is not None)


def _starts(exam: Exam) -> str:
    """'12-07 09:00': the exam's start for the exam picker (year and seconds dropped)."""
    return staff_datetime(exam.start_ms, short=True, labelled=False)[:11]


def _client_texts() -> dict[str, str]:
    """Every text console.js shows, translated here (the script holds no language)."""
    return {
        "all": _("全部"), "attention": _("需关注"), "absent": _("缺考"),
        "not_logged_in": _("未登录"), "waiting": _("等待开考"), "answering": _("作答中"),
        "offline": _("失去联系"), "held": _("待授权登录"), "submitted": _("已交卷"),
        "seat": _("座位"), "answered": _("已答"), "last_save": _("最近保存"),
        "last_sync": _("最近同步"), "since": _("自"), "identity_none": _("未核验"),
        "identity_verified": _("人脸核验通过"), "identity_failed": _("人脸核验未通过"),
        "identity_approved": _("监考已审批入场"), "integrity": _("环境检测告警"),
        "integrity_notes": _("环境检测提醒（已记录）"),
        "process_check_blind": _("进程检测失效"),
        "switches": _("切屏"),
        "count_one": _("1 次"), "count_many": _("{n} 次"), "in_total": _("共"),
        "seconds": _("秒"), "minutes": _("分钟"),
        "user_switches": _("切换用户"), "session_locks": _("锁屏"),
        "suspends": _("睡眠唤醒"),
        "not_counted": _("（不计为切屏）"), "counted_as_switch": _("（计入切屏，待审核）"),
        "review": _("待审核"), "request": _("登录请求"), "approve": _("批准登录"),
        "refuse": _("拒绝"), "issue_code": _("发放授权码"),
        "reset_password": _("重置为默认密码"), "mark_present": _("标记到场"),
        "mark_absent": _("标记缺考"), "end_attempt": _("结束作答（强制交卷）"),
        "incident": _("记录异常"), "reason": _("原因（写入考务记录）"),
        "category": _("类别"), "confirm": _("确认"), "cancel": _("取消"),
        "close": _("关闭"), "done": _("已完成"), "code_is": _("授权码"),
        "valid_until": _("有效至"), "updated": _("已更新"), "stale": _("连接中断，正在重试"),
        "beijing": _("北京时间"), "identity": _("身份核验"), "no_photo": _("无底照"),
        "photo": _("底照"),
        "present": _("已到场"), "status": _("状态"), "none": _("无"),
        "seconds_ago": _("秒前"), "minutes_ago": _("分钟前"),
        "client_version": _("客户端版本"), "too_old": _("版本过旧，须更新"),
        "extra_time": _("延长考试时间"), "extra_badge": _("延时"), "paused": _("已暂停"),
        "end_time": _("结束时间"), "extra_how": _("延长方式"),
        "extra_minutes": _("按分钟"), "extra_multiplier": _("按考试时长的倍数"),
        "extra_amount": _("分钟数或倍数（如 10 或 1.25）"), "new_end": _("新的结束时间"),
        "select_all": _("全选"), "select_none": _("全不选"), "people": _("人"),
        "group_title": _("多名考生延时"),
        "group_hint": _("下列为当前显示的未交卷考生，已全部勾选；取消勾选不需要延时的考生。"),
        "pause": _("暂停作答"), "resume": _("恢复作答"),
        "paused_note": _("已暂停：该考生的计时已停止，恢复后结束时间顺延"),
        "pause_overdue": _("暂停时间过长，请确认是否恢复作答"),
        "answered_during_pause": _("暂停期间作答"),
        "pc_actions": _("考生电脑上的监考操作"), "arrived_at": _("到达"),
        "time_unknown": _("时间不可信"),
        "answered_during_pause_note": _(
            "该电脑在暂停期间（未收到暂停通知）保存的修改，未计入答案，已留存备查"),
        "message": _("发送消息"), "message_text": _("消息内容（考生在考试页面上看到）"),
        "message_badge": _("消息"), "message_sent": _("已发送"),
        "message_delivered": _("已送达"), "message_read": _("已读"),
        "group_message_title": _("多名考生发消息"),
        "group_message_hint": _("下列为当前显示的考生，已全部勾选；取消勾选不需要此消息的考生。"),
        "face_failed": _("人脸核验未通过"), "face_pending": _("待审批入场"),
        "face_evidence": _("核验照片"), "face_reason": _("未通过原因"),
        "face_score": _("比对分数"), "face_threshold": _("阈值"),
        "face_failures": _("失败次数"), "face_requested": _("申请时间"),
        "face_decision": _("处理结果"),
        "face_status_pending": _("等待监考老师核验"),
        "face_status_approved": _("已批准入场"), "face_status_refused": _("不予入场"),
        "approve_face": _("批准入场"), "refuse_face": _("不予入场"),
        "face_hint": _(
            "请到座位核对考生本人与身份证件后再处理；批准入场后该考生的成绩将标记为待审核"),
    }


def audit_page(*, account: Account, csrf: str, entries: Sequence[AuditEntry],
               can_export: bool, real_name: RealName | None) -> str:
    # An action reported by an exam PC arrived later than it was done: both times.
    rows = "".join(
        f'<tr data-action="{esc(e.action)}" data-role="{esc(e.role)}">'
        f'<td class="done">{esc(staff_datetime(e.at_ms, labelled=False))}</td>'
        f'<td class="arrived">{esc(arrived_label(e))}</td>'
        f'<td class="actor">{esc(actor_label(e))}</td><td>{esc(action_label(e.action))}</td>'
        f"<td>{esc(e.room or '')}</td><td>{esc(e.student_no or '')} "
        f"{esc(e.candidate_name or '')}</td><td>{esc(e.reason)}</td></tr>" for e in entries)
    head = "".join(f"<th>{esc(h)}</th>" for h in (
        _("操作时间（北京时间）"), _("到达服务器"), _("操作人"), _("操作"), _("考场"),
        _("考生"), _("原因")))
    export = (f'<p><a id="export" href="/console/audit.csv">{esc(_("导出当日记录（CSV）"))}'
              "</a></p>" if can_export else "")
    return page(_("操作记录"), f"""{header(account, csrf, real_name)}
<main class="wide"><h1>{esc(_("操作记录"))}</h1>{export}
<table id="audit"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></main>""")
