"""HTML of the admin pages. Every interpolated value goes through ``esc``."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from client.i18n import _, current_language
from server.db import Admin, Exam
from server.import_jobs import DONE, FAILED, PROCESSING, QUEUED, BatchProgress
from server.merge import Outcome
from server.offline_import import ImportReport, ImportStatus, marks_note, take_over_notes

_STYLE = """
body{font-family:"Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.3em .6em}
.merged{color:#060}.unchanged{color:#555}.refused{color:#b00}.error{color:#b00}
"""


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str, *, head: str = "") -> str:
    lang = "zh-CN" if current_language() == "zh_CN" else "en"
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}'
            f"<title>{esc(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>")


def login_page(*, error: str | None = None, username: str = "") -> str:
    error_html = f'<p class="error" id="error">{esc(error)}</p>' if error else ""
    return _page(_("考点管理员登录"), f"""
<h1>{esc(_("考点管理员登录"))}</h1>{error_html}
<form method="post" action="/admin/login">
<p><label>{esc(_("用户名"))} <input name="username" id="username" value="{esc(username)}"
 autocomplete="username" required></label></p>
<p><label>{esc(_("密码"))} <input name="password" id="password" type="password"
 autocomplete="current-password" required></label></p>
<p><button type="submit" id="login">{esc(_("登录"))}</button></p>
</form>""")


def _header(admin: Admin, csrf: str) -> str:
    scope = (_("考点：{center}").format(center=admin.center_id) if admin.center_id
             else _("平台管理员（全部考点）"))
    return f"""
<p>{esc(_("管理员"))} <span id="admin-name">{esc(admin.real_name or _("未登记实名"))}</span>（<b
 id="admin">{esc(admin.username)}</b>） · {esc(scope)}
<form method="post" action="/admin/logout" style="display:inline">
<input type="hidden" name="csrf" value="{esc(csrf)}">
<button type="submit" id="logout">{esc(_("退出"))}</button></form></p>
<nav><a href="/admin/offline">{esc(_("上传离线答卷"))}</a> ·
<a href="/admin/review">{esc(_("身份核验与监控审核"))}</a> ·
<a href="/admin/seats">{esc(_("考场座位"))}</a> ·
<a href="/admin/materials">{esc(_("应急材料"))}</a> ·
<a href="/admin/photos">{esc(_("底照报告"))}</a></nav>"""


def upload_page(*, admin: Admin, csrf: str, exams: Sequence[Exam],
                reports: Sequence[ImportReport] = (), error: str | None = None) -> str:
    options = "".join(f'<option value="{esc(e.id)}">{esc(e.id)} {esc(e.title)}</option>'
                      for e in exams)
    error_html = f'<p class="error" id="error">{esc(error)}</p>' if error else ""
    return _page(_("上传离线答卷"), f"""
{_header(admin, csrf)}
<h1>{esc(_("上传离线答卷"))}</h1>
<p>{esc(_("可一次选择多个 .examans 文件。文件名不要修改；重复上传不会改变任何内容。"))}</p>
{error_html}
<form method="post" action="/admin/offline" enctype="multipart/form-data">
<input type="hidden" name="csrf" value="{esc(csrf)}">
<p><input type="file" name="files" id="files" multiple accept=".examans" required></p>
<p><label>{esc(_("只接受这场考试的文件"))}
<select name="exam" id="exam"><option value="">{esc(_("（任意考试）"))}</option>{options}
</select></label></p>
<p><button type="submit" id="upload">{esc(_("上传并合并"))}</button></p>
<p>{esc(_("文件先保存到服务器，再逐个合并；下一页显示每个文件的进度。"))}</p>
</form>
{results_table(reports) if reports else ""}""")


def batch_page(*, admin: Admin, csrf: str, progress: BatchProgress,
               queue: dict[str, int]) -> str:
    """One upload's files as the job loops merge them; reloads itself until all are done."""
    state_text = {QUEUED: _("排队中"), PROCESSING: _("处理中"), DONE: _("已完成"),
                  FAILED: _("失败")}
    totals = _("共 {total} 个文件：排队 {queued}，处理中 {processing}，完成 {done}，失败 {failed}；"
               "新答案 {applied}，已有 {duplicate}").format(
        total=len(progress.jobs), queued=progress.count(QUEUED),
        processing=progress.count(PROCESSING), done=progress.count(DONE),
        failed=progress.count(FAILED), applied=progress.answers(Outcome.APPLIED),
        duplicate=progress.answers(Outcome.DUPLICATE))
    rows = "".join(
        f'<tr class="job-{esc(job.state)}" id="job-{job.position}" data-state="{esc(job.state)}">'
        f"<td>{esc(job.file_name)}</td><td>{esc(state_text[job.state])}</td></tr>"
        for job in progress.jobs)
    waiting = queue[QUEUED] + queue[PROCESSING]
    refresh = "" if progress.finished else '<meta http-equiv="refresh" content="1">'
    done_reports = [job.report for job in progress.jobs if job.report is not None]
    return _page(_("离线答卷导入进度"), f"""
{_header(admin, csrf)}
<h1>{esc(_("离线答卷导入进度"))}</h1>
<p id="totals" data-finished="{int(progress.finished)}">{esc(totals)}</p>
<p id="queue">{esc(_("服务器上等待合并的文件（全部上传）：{n}").format(n=waiting))}</p>
<table id="jobs"><tr><th>{esc(_("文件"))}</th><th>{esc(_("状态"))}</th></tr>{rows}</table>
{results_table(done_reports) if progress.finished else ""}
<p><a href="/admin/offline">{esc(_("继续上传"))}</a></p>""", head=refresh)


def results_table(reports: Sequence[ImportReport]) -> str:
    status_text = {ImportStatus.MERGED: _("已合并"), ImportStatus.UNCHANGED: _("无变化"),
                   ImportStatus.REFUSED: _("拒绝")}
    rows = []
    for index, r in enumerate(reports):
        notes = [_("题 {q}：版本 {before} -> {after}").format(
                     q=q.question_id, before=q.before_revision or "-", after=q.after_revision)
                 for q in r.questions if q.outcome is Outcome.APPLIED]
        late = sum(q.rejected_after_end for q in r.questions)
        if late:
            notes.append(_("考试结束后的修改被拒绝：{n} 个").format(n=late))
        notes.extend([*marks_note(r), *take_over_notes(r)])
        if r.submitted_by_import:
            notes.append(_("该考生的答卷已按文件记录交卷"))
        if r.score_after is not None and r.score_after != r.score_before:
            before = "-" if r.score_before is None else r.score_before
            notes.append(_("重新评分：{before} -> {after}").format(before=before,
                                                                after=r.score_after))
        if r.previously_imported_at_ms is not None:
            notes.append(_("此文件以前已导入过"))
        changes = "".join(f"<li>{esc(note)}</li>" for note in notes)
        who = f"{esc(r.candidate_no)} {esc(r.candidate_name)}" if r.candidate_no else ""
        rows.append(
            f'<tr class="{esc(r.status.value)}" id="result-{index}" data-code="{esc(r.code)}">'
            f"<td>{esc(r.file_name)}</td><td>{esc(status_text[r.status])}</td>"
            f"<td>{who}</td><td>{esc(r.message)}<br><small>{esc(r.code)}</small>"
            f"<ul>{changes}</ul></td></tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in (_("文件"), _("结果"), _("考生"), _("详情")))
    return f'<table id="results"><tr>{head}</tr>{"".join(rows)}</table>'
