"""HTML of the review page (/admin/review). Every interpolated value goes through ``esc``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from client.i18n import _
from client.timefmt import staff_datetime
from server.admin_web.pages import _header, _page, esc
from server.db import Admin, Candidate, Exam
from server.review import ReviewEntry
from server.review_store import IdentityRow, ImageRef, ItemRow

_REVIEW_STYLE = """<style>
.pending{color:#b00;font-weight:bold}.cleared{color:#060}.none{color:#555}
img.capture{max-height:160px;margin:.2em;border:1px solid #999}
.identity-failed{color:#b00;font-weight:bold}
</style>"""


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return staff_datetime(ms)


def _role_text(image: ImageRef) -> str:
    return {
        "capture": _("核验抓拍"),
        "evidence": _("监考核验水印照片"),
        "snapshot": _("监控抓拍"),
    }.get(image.role, image.role)


def _identity_text(entry: ReviewEntry) -> str:
    if entry.identity_failed:
        return f'<span class="identity-failed">{esc(_("人脸识别认证未通过"))}</span>' + esc(
            _("（监考老师人工核验入场）"))
    if any(r.passed for r in entry.identity):
        return esc(_("人脸识别通过"))
    if entry.identity:
        return esc(_("人脸识别未通过（{n} 次），尚未入场").format(n=len(entry.identity)))
    return esc(_("没有人脸识别记录"))


def _identity_rows(rows: Sequence[IdentityRow]) -> str:
    items = []
    for r in rows:
        result = _("通过") if r.passed else _("未通过")
        score = "-" if r.score is None else f"{r.score:.3f}"
        threshold = "-" if r.threshold is None else f"{r.threshold:.3f}"
        proctor = (_("；监考老师 {who} 核验入场").format(who=r.proctor_id or "-")
                   if r.approved_by_proctor else "")
        items.append(f"<li>{esc(_time(r.at_ms or r.received_at_ms))} {esc(result)} "
                     f"{esc(r.reason)} {esc(_('相似度'))} {esc(score)}/{esc(threshold)}"
                     f"{esc(proctor)}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else ""


def _item_rows(items: Sequence[ItemRow]) -> str:
    lines = []
    for item in items:
        p = item.payload
        if item.kind == "camera":
            ended = p.get("ended_ms")
            lines.append(f'<li class="camera">{esc(_("监控"))} {esc(p.get("kind"))} '
                         f"{esc(_time(p.get('started_ms')))} – "
                         f"{esc(_time(ended) if ended is not None else _('未结束'))}</li>")
        else:
            finding = p.get("finding") or {}
            name = (finding.get("name") or {}).get("zh_CN") or finding.get("subject")
            phase = _("考试中") if p.get("phase") == "exam" else _("考前")
            lines.append(f'<li class="integrity">{esc(phase)} {esc(finding.get("code"))} '
                         f"{esc(finding.get('kind'))} {esc(name)} {esc(finding.get('severity'))}"
                         f" {esc(p.get('state'))} {esc(_time(p.get('at_ms')))}</li>")
    return f"<ul>{''.join(lines)}</ul>" if lines else ""


def _images(entry: ReviewEntry, has_base_photo: bool) -> str:
    parts = []
    if has_base_photo:
        parts.append(f'<figure style="display:inline-block"><img class="capture" alt="" '
                     f'src="/admin/review/base-photo/{entry.attempt.id}">'
                     f"<figcaption>{esc(_('底照'))}</figcaption></figure>")
    for image in entry.images:
        parts.append(f'<figure style="display:inline-block"><img class="capture" alt="" '
                     f'src="/admin/review/image/{image.id}" data-role="{esc(image.role)}">'
                     f"<figcaption>{esc(_role_text(image))}</figcaption></figure>")
    return "".join(parts)


def _status(entry: ReviewEntry) -> str:
    if entry.verdict.pending:
        return f'<span class="pending">{esc(_("待审核"))}</span>'
    if entry.verdict.cleared_by:
        return f'<span class="cleared">{esc(_("已审核（{by}）").format(by=entry.verdict.cleared_by))}</span>'  # noqa: E501
    return f'<span class="none">{esc(_("无需审核"))}</span>'


def review_page(*, admin: Admin, csrf: str, exams: Sequence[Exam], exam: Exam | None,
                entries: Sequence[ReviewEntry], with_photo: set[int],
                without_photo: Sequence[Candidate], message: str | None = None,
                materials: Mapping[str, str] | None = None) -> str:
    # materials: emergency materials HTML per student number (server/admin_web/
    # materials_routes.py), shown beside the candidates they concern.
    materials = materials or {}
    options = "".join(
        f'<option value="{esc(e.id)}"{" selected" if exam and e.id == exam.id else ""}>'
        f"{esc(e.id)} {esc(e.title)}</option>" for e in exams)
    rows = []
    for entry in entries:
        clear = ""
        if entry.verdict.pending:
            clear = (f'<form method="post" action="/admin/review/clear">'
                     f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
                     f'<input type="hidden" name="attempt" value="{entry.attempt.id}">'
                     f'<button type="submit" id="clear-{entry.attempt.id}">'
                     f"{esc(_('标记为已审核'))}</button></form>")
        reasons = "".join(f'<li data-code="{esc(r.code)}">{esc(r.text)}</li>'
                          for r in entry.verdict.reasons)
        rows.append(
            f'<tr id="attempt-{entry.attempt.id}" data-student="{esc(entry.candidate.student_no)}"'
            f' data-pending="{int(entry.verdict.pending)}">'
            f"<td>{esc(entry.candidate.student_no)}<br>{esc(entry.candidate.name)}</td>"
            f"<td>{_status(entry)}<ul>{reasons}</ul>{clear}</td>"
            f"<td>{_identity_text(entry)}{_identity_rows(entry.identity)}"
            f"{_item_rows(entry.items)}</td>"
            f"<td>{_images(entry, entry.candidate.id in with_photo)}"
            f"{materials.get(entry.candidate.student_no, '')}</td></tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in (_("考生"), _("审核状态"), _("记录"), _("图片")))
    table = (f'<table id="review"><tr>{head}</tr>{"".join(rows)}</table>' if rows
             else f'<p id="empty">{esc(_("没有需要审核的考生"))}</p>')
    missing = ""
    if without_photo:
        names = "".join(f"<li>{esc(c.student_no)} {esc(c.name)}</li>" for c in without_photo)
        missing = (f'<h2>{esc(_("没有底照的考生"))}</h2><p>'
                   f"{esc(_('这些考生无法进行人脸比对：请上传底照（exam-server add-photos），或由监考老师人工核验后入场。'))}"  # noqa: E501
                   f'</p><ul id="no-photo">{names}</ul>')
    note = f'<p id="message">{esc(message)}</p>' if message else ""
    return _page(_("身份核验与监控审核"), f"""{_REVIEW_STYLE}
{_header(admin, csrf)}
<h1>{esc(_("身份核验与监控审核"))}</h1>{note}
<form method="get" action="/admin/review"><label>{esc(_("考试"))}
<select name="exam" id="exam">{options}</select></label>
<button type="submit">{esc(_("查看"))}</button></form>
{table}{missing}{materials.get("", "")}""")
