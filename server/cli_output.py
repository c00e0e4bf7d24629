"""What the ``exam-server`` commands print (zh_CN source text, English via server.json)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from client.i18n import _
from client.session.codes import format_code
from client.timefmt import staff_datetime
from server.candidates import CsvImportReport
from server.db import (
    AUTO_SUBMITTED,
    IN_PROGRESS,
    PENDING_REVIEW,
    SUBMITTED,
    Candidate,
    Exam,
    LoginRequest,
    ResultRow,
)
from server.demo import DemoInfo
from server.offline_package import OfflineCodes


def local_time(epoch_ms: int) -> str:
    """In the exam's time zone and labelled: staff compare it with what candidates see."""
    return staff_datetime(epoch_ms)


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def print_demo(info: DemoInfo, *, data_dir: Path) -> None:
    print(_("演示数据已就绪，数据目录：{path}").format(path=data_dir))
    print(
        _("考试 {exam}：开始 {start}，结束 {end}").format(
            exam=info.exam_id, start=local_time(info.start_ms), end=local_time(info.end_ms)
        )
    )
    print(_("考点编号：{center}").format(center=info.center_id))
    rows = [[c.student_no, c.id_number.upper(), c.name, c.password] for c in info.candidates]
    print(table([_("学号"), _("身份证号"), _("姓名"), _("密码")], rows))
    print(
        _("管理员：{user}，密码：{password}").format(
            user=info.admin_username, password=info.admin_password
        )
    )
    if info.start_code:
        print_offline_codes(OfflineCodes(proctor_secret=info.proctor_secret,
                                         start_code=info.start_code))
    print(_("启动服务器：exam-server serve --data {path}").format(path=data_dir))


def print_offline_codes(codes: OfflineCodes) -> None:
    print(_("开考码：{code}（无网络时，由监考教师在考生电脑上输入以打开试卷；开考前请勿公开）"
            ).format(code=format_code(codes.start_code)))
    print(_("监考授权密钥：{secret}（由主考保管，用于生成二次登录授权码："
            "exam-server authorization-code 考试 考生）").format(
        secret=format_code(codes.proctor_secret)))


def print_authorized(approved: list[LoginRequest], *, who: str, ttl_s: int) -> None:
    waiting = [r for r in approved if r.client_id is not None]
    if waiting:
        for request in waiting:
            print(_("已批准考生 {who} 在 {client}（{ip}）上的二次登录").format(
                who=who, client=request.client_id, ip=request.seen_ip or "-"))
    else:
        print(_("考生 {who} 目前没有等待授权的登录；已预先批准其下一次登录（{minutes} 分钟内有效）"
                ).format(who=who, minutes=ttl_s // 60))


def print_authorization_code(code: str, *, candidate: Candidate, valid_until_ms: int) -> None:
    print(_("考生 {name}（{student_no}）的授权码：{code}，有效至 {until}").format(
        name=candidate.name, student_no=candidate.student_no, code=format_code(code),
        until=local_time(valid_until_ms)))


def print_csv_report(report: CsvImportReport) -> None:
    for error in report.errors:
        print(
            _("第 {line} 行 [{code}]：{message}").format(
                line=error.line, code=error.code, message=error.message
            )
        )
    print(
        _("新增 {added} 名，更新 {updated} 名，出错 {errors} 行").format(
            added=report.added, updated=report.updated, errors=len(report.errors)
        )
    )


def print_exam(exam: Exam) -> None:
    print(
        _("已导入考试 {exam}（{title}）：{start} 至 {end}").format(
            exam=exam.id,
            title=exam.title,
            start=local_time(exam.start_ms),
            end=local_time(exam.end_ms),
        )
    )
    print(
        _("试卷包 {file}，{size} 字节，SHA-256 {sha}").format(
            file=exam.package_path, size=exam.package_size, sha=exam.package_sha256
        )
    )


def status_text(row: ResultRow) -> str:
    attempt = row.attempt
    if attempt is None:
        return _("未登录")
    if attempt.status == IN_PROGRESS:
        return _("作答中")
    if attempt.review_status == PENDING_REVIEW:
        return _("待审核")
    if attempt.score is None:
        return _("成绩计算中")
    return {SUBMITTED: _("已交卷"), AUTO_SUBMITTED: _("自动交卷")}.get(
        attempt.status, attempt.status
    )


def score_text(row: ResultRow) -> str:
    attempt = row.attempt
    if attempt is None or attempt.score is None or attempt.max_score is None:
        return "-"
    return f"{attempt.score:g}/{attempt.max_score:g}"


def print_results(rows: list[ResultRow]) -> None:
    body = [[r.candidate.student_no, r.candidate.name, status_text(r), score_text(r)] for r in rows]
    print(table([_("学号"), _("姓名"), _("状态"), _("成绩")], body))
