"""The center's base photo report: every registered candidate of an exam with their photo
checked against the whole standard, an advice line per problem, who has no photo, and
the photo history. ``exam-server photo-report EXAM [--center ID] [--out FILE.csv]`` and
the admin page /admin/photos (server/admin_web/photo_pages.py) both use it.

Checks are cached per photo (SHA-256) in this process: the page can be reloaded during
the collection week without re-running the models on a hundred unchanged photos.
"""

from __future__ import annotations

import argparse
import csv
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from client.i18n import _
from client.timefmt import beijing_datetime
from server.base_photos import get_base_photo
from server.db import Candidate, Database
from server.keys import ServerKeys
from server.photo_check import MEASURE_COLUMNS
from server.photo_history import HistoryRow, history

_cache: dict[str, tuple[tuple[str, ...], dict[str, float | int | None]]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class CandidatePhoto:
    candidate: Candidate
    has_photo: bool
    problems: tuple[str, ...]          # codes
    advice: tuple[str, ...]            # one Chinese line per problem
    measures: dict[str, float | int | None]
    uploaded_at_ms: int | None
    uploaded_by: str
    history: tuple[HistoryRow, ...]

    @property
    def ok(self) -> bool:
        return self.has_photo and not self.problems


def _check(jpeg: bytes, sha256: str, analyzer: Any) -> tuple[tuple[str, ...],
                                                             dict[str, float | int | None]]:
    with _cache_lock:
        cached = _cache.get(sha256)
    if cached is not None:
        return cached
    from client.camera.base_photo import check_base_photo

    report = check_base_photo(jpeg, analyzer, full_standard=True)
    result = (tuple(p.value for p in report.problems), dict(report.measures))
    with _cache_lock:
        _cache[sha256] = result
    return result


def center_report(db: Database, keys: ServerKeys, *, exam_id: str, center_id: str | None,
                  analyzer: Any = None) -> list[CandidatePhoto]:
    """One row per registered candidate (of *center_id*, or all), in student-number order."""
    from client.camera.base_photo import PhotoProblem, problem_text

    candidates = sorted((c for c in db.registered_candidates(exam_id)
                         if center_id is None or c.center_id == center_id),
                        key=lambda c: c.student_no)
    past = history(db, [c.id for c in candidates]) if candidates else []
    owned = None
    rows = []
    try:
        for candidate in candidates:
            photo = get_base_photo(db, keys, candidate.id)
            mine = tuple(h for h in past if h.candidate_id == candidate.id)
            if photo is None:
                rows.append(CandidatePhoto(candidate, False, (), (), {}, None, "", mine))
                continue
            if analyzer is None and owned is None:
                from client.camera.analyzer import FaceAnalyzer

                owned = FaceAnalyzer(video_mode=False)
            codes, measures = _check(photo.jpeg, photo.sha256, analyzer or owned)
            rows.append(CandidatePhoto(
                candidate, True, codes, tuple(problem_text(PhotoProblem(c)) for c in codes),
                measures, photo.uploaded_at_ms, photo.uploaded_by, mine))
    finally:
        if owned is not None:
            owned.close()
    return rows


def report_csv(rows: Sequence[CandidatePhoto]) -> str:
    """UTF-8 CSV text (write it with a BOM so that Excel opens it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("学号"), _("姓名"), _("考点"), _("底照"), _("结果"), _("整改建议"),
                     _("问题代码"), _("上传时间"), _("上传人"), _("底照记录"), *MEASURE_COLUMNS])
    for r in rows:
        result = (_("合格") if r.ok else _("不合格")) if r.has_photo else _("无底照")
        changes = "；".join(f"{beijing_datetime(h.at_ms)} {h.action} {h.by}" for h in r.history)
        writer.writerow([
            r.candidate.student_no, r.candidate.name, r.candidate.center_id or "",
            _("有") if r.has_photo else _("无"), result, "；".join(r.advice), " ".join(r.problems),
            beijing_datetime(r.uploaded_at_ms) if r.uploaded_at_ms else "", r.uploaded_by,
            changes,
            *("" if r.measures.get(c) is None else r.measures[c] for c in MEASURE_COLUMNS)])
    return out.getvalue()


def cmd_photo_report(args: argparse.Namespace) -> int:
    from server.cli import open_context

    ctx = open_context(args)
    if ctx.db.get_exam(args.exam) is None:
        print(_("找不到考试 {exam}").format(exam=args.exam))
        return 1
    rows = center_report(ctx.db, ctx.keys, exam_id=args.exam, center_id=args.center)
    out = args.out or ctx.settings.data_dir / f"photo-report-{args.exam}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report_csv(rows), encoding="utf-8-sig")
    missing = [r for r in rows if not r.has_photo]
    bad = [r for r in rows if r.has_photo and not r.ok]
    for r in bad:
        print(f"{r.candidate.student_no} {r.candidate.name}：{'；'.join(r.advice)}")
    if missing:
        print(_("没有底照的考生（{n} 人）：").format(n=len(missing)))
        for r in missing:
            print(f"  {r.candidate.student_no} {r.candidate.name}")
    print(_("共 {total} 名考生：底照合格 {ok} 人，需重拍 {bad} 人，无底照 {missing} 人；"
            "报告：{out}").format(total=len(rows), ok=len(rows) - len(bad) - len(missing),
                                 bad=len(bad), missing=len(missing), out=out))
    return 1 if bad or missing else 0


def register_cli(subparsers: Any) -> None:
    from pathlib import Path

    from server.cli import add_data_argument

    parser = subparsers.add_parser(
        "photo-report", help=_("考点底照报告：逐人检查结果、整改建议、无底照名单和底照记录"))
    add_data_argument(parser)
    parser.add_argument("exam")
    parser.add_argument("--center", default=None, help=_("只列出该考点的考生"))
    parser.add_argument("--out", type=Path, default=None, help=_("CSV 报告文件"))
    parser.set_defaults(func=cmd_photo_report)
