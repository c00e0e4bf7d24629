"""Adding candidates: one at a time, or a CSV roster exported from the platform.

CSV columns: ``student_no,id_number,name,center_id`` (header row required). Files saved by
Excel on a Chinese Windows are GB18030, not UTF-8; both are read. One bad row is reported
and skipped; the other rows are still imported. Importing the same roster again updates
names and centers (and resets the default password only when the ID number changed).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from client.errors import UserFacingError
from client.i18n import _
from server.db import Database
from server.passwords import default_password, hash_password, normalize_id_number

CSV_COLUMNS = ("student_no", "id_number", "name", "center_id")


class CandidateError(UserFacingError):
    """A candidate (or roster) that cannot be imported; the CLI prints code and message."""


@dataclass(frozen=True)
class RowError:
    line: int
    code: str
    message: str


@dataclass
class CsvImportReport:
    added: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


def upsert_candidate(
    db: Database,
    *,
    student_no: str,
    id_number: str,
    name: str,
    center_id: str | None,
    hasher: Callable[[str], str] = hash_password,
) -> tuple[int, bool]:
    """Insert or update one candidate; returns (candidate id, created)."""
    student_no, name = student_no.strip(), name.strip()
    id_number = normalize_id_number(id_number)
    center_id = (center_id or "").strip() or None
    if not student_no or not id_number or not name:
        raise CandidateError("candidate.missing_field", _("学号、身份证号和姓名都不能为空"))
    if center_id is not None and db.get_center(center_id) is None:
        raise CandidateError(
            "candidate.unknown_center", _("考点 {center} 不存在").format(center=center_id)
        )
    by_no = db.find_candidate(student_no=student_no)
    by_id = db.find_candidate(id_number=id_number)
    if by_no is not None and by_id is not None and by_no.id != by_id.id:
        raise CandidateError(
            "candidate.conflict",
            _("学号 {student_no} 与身份证号 {id_number} 分属两名不同的考生").format(
                student_no=student_no, id_number=id_number
            ),
        )
    existing = by_no or by_id
    if existing is None:
        new_id = db.insert_candidate(
            student_no=student_no,
            id_number=id_number,
            name=name,
            center_id=center_id,
            password_hash=hasher(default_password(id_number)),
        )
        return new_id, True
    changes: dict[str, object] = {}
    for column, value in (("student_no", student_no), ("name", name), ("center_id", center_id)):
        if getattr(existing, column) != value:
            changes[column] = value
    if existing.id_number != id_number:
        changes["id_number"] = id_number
        changes["password_hash"] = hasher(default_password(id_number))
    if changes:
        db.update_candidate(existing.id, **changes)
    return existing.id, False


def read_csv_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def import_candidates_csv(db: Database, *, path: Path, exam_id: str) -> CsvImportReport:
    """Import a roster and register everyone in it for *exam_id* (which must exist)."""
    if db.get_exam(exam_id) is None:
        raise CandidateError("exam.unknown", _("考试 {exam} 不存在").format(exam=exam_id))
    reader = csv.DictReader(io.StringIO(read_csv_text(path)))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CandidateError(
            "csv.missing_columns",
            _("CSV 文件缺少列：{columns}").format(columns=", ".join(missing)),
        )
    report = CsvImportReport()
    for row in reader:
        line = reader.line_num
        try:
            candidate_id, created = upsert_candidate(
                db,
                student_no=row.get("student_no") or "",
                id_number=row.get("id_number") or "",
                name=row.get("name") or "",
                center_id=row.get("center_id"),
            )
            db.register(exam_id=exam_id, candidate_id=candidate_id)
        except CandidateError as exc:
            report.errors.append(RowError(line, exc.code, exc.message))
            continue
        except IntegrityError as exc:
            report.errors.append(
                RowError(
                    line,
                    "candidate.conflict",
                    _("与已有考生冲突：{reason}").format(reason=str(exc.orig)),
                )
            )
            continue
        if created:
            report.added += 1
        else:
            report.updated += 1
    return report
