"""Exam papers on the server: importing a paper source, and the server's own copies.

Import builds the signed, encrypted package that candidates download (without answer
keys), seals the paper key and the answer keys into the database, and stores the package
file under ``<data>/packages/``. For scoring, the server opens its own package with the
paper key and puts the answer keys back into that paper.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import threading
from pathlib import Path

from client.errors import UserFacingError
from client.i18n import _
from client.lockdown.policy import LOCKDOWN_EXTRA_KEY
from client.paper.model import Paper
from client.paper.package import build_package, open_package
from client.paper.source import PaperSource
from client.paper.values import JsonValue
from client.session.offline_header import OFFLINE_EXTRA_KEY
from client.sync.pusher import SYNC_EXTRA_KEY
from server.config import ServerSettings
from server.db import Database, Exam
from server.identity_audit import policy_extra
from server.integrity_rules import rules_extra
from server.keys import ServerKeys
from server.offline_package import offline_extra
from server.proctors import proctor_extra

EXAM_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _paper_key_context(exam_id: str) -> str:
    return f"paper-key:{exam_id}"


def _answer_keys_context(exam_id: str) -> str:
    return f"answer-keys:{exam_id}"


def import_paper(
    *,
    settings: ServerSettings,
    db: Database,
    keys: ServerKeys,
    source_path: Path,
    exam_id: str,
    title: str | None,
    start_ms: int,
    end_ms: int,
    replace: bool = False,
) -> Exam:
    """Build, sign and store the package of *source_path* as exam *exam_id*.

    Re-importing an exam that candidates have already logged in to needs ``replace``:
    their clients then download the new package (its ETag changes).
    """
    if not EXAM_ID_PATTERN.match(exam_id):
        raise UserFacingError(
            "exam.bad_id",
            _("考试编号只能包含字母、数字、点、下划线和连字符（最多 64 个字符）：{exam}").format(
                exam=exam_id
            ),
            exam=exam_id,
        )
    if end_ms <= start_ms:
        raise UserFacingError("exam.bad_times", _("考试结束时间必须晚于开始时间"))
    existing = db.get_exam(exam_id)
    if existing is not None and not replace and db.exam_has_attempts(exam_id):
        raise UserFacingError(
            "exam.has_attempts",
            _("考试 {exam} 已有考生登录，如确需替换试卷请加 --replace").format(exam=exam_id),
            exam=exam_id,
        )
    source = PaperSource.from_path(source_path)
    paper = source.load()
    missing = [item.id for item in paper.items() if item.is_objective and item.key is None]
    if missing:
        raise UserFacingError(
            "paper.missing_keys",
            _("以下客观题没有答案，服务器无法评分：{items}").format(items=", ".join(missing)),
            items=missing,
        )
    title = title or paper.title.source
    paper_key = os.urandom(32)
    data = _build(source=source, settings=settings, db=db, keys=keys, exam_id=exam_id,
                  title=title,
                  start_ms=start_ms, end_ms=end_ms, paper_key=paper_key)
    sha256 = hashlib.sha256(data).hexdigest()
    file_name = _file_name(exam_id, sha256)
    _write_atomically(settings.packages_dir / file_name, data)
    answer_keys = {item.id: item.key for item in paper.items() if item.is_objective}
    exam = Exam(
        id=exam_id,
        title=title,
        start_ms=start_ms,
        end_ms=end_ms,
        paper_id=paper.paper_id,
        package_path=file_name,
        package_sha256=sha256,
        package_size=len(data),
        paper_key_sealed=keys.seal(paper_key, context=_paper_key_context(exam_id)),
        answer_keys_sealed=keys.seal(
            json.dumps(answer_keys, ensure_ascii=False).encode(),
            context=_answer_keys_context(exam_id),
        ),
    )
    db.upsert_exam(exam)
    if existing is not None and existing.package_path != file_name:
        (settings.packages_dir / existing.package_path).unlink(missing_ok=True)
    return exam


def _file_name(exam_id: str, sha256: str) -> str:
    return f"{exam_id}-{sha256[:16]}.exampkg"


def _build(*, source: PaperSource, settings: ServerSettings, db: Database, keys: ServerKeys,
           exam_id: str, title: str,
           start_ms: int, end_ms: int, paper_key: bytes) -> bytes:
    # Imported here: these modules serve HTTP routes (server.auth), which import this one.
    from server.pledges import pledge_extra
    from server.version_floor import version_floor_extra

    extra = {
        "title": title,
        # How often each PC uploads (client/sync/pusher.py): it sizes this server's load,
        # so it travels signed, not in the PC's config.
        SYNC_EXTRA_KEY: {"interval_s": settings.sync_interval_s},
        # Readable before the paper key is released, and signed: the lockdown profile is
        # a security setting, so it comes only from the signed header (client/lockdown).
        LOCKDOWN_EXTRA_KEY: source.load().lockdown,
        # Offline login verifiers, code digests and the start-code wrap (docs/offline.md)
        OFFLINE_EXTRA_KEY: offline_extra(db=db, keys=keys, exam_id=exam_id, title=title,
                                         start_ms=start_ms, end_ms=end_ms,
                                         paper_key=paper_key),
        # The proctors' verifiers for proctor mode with no network (server/proctors.py)
        **proctor_extra(db, exam_id),
        # Newer e-01/e-02 rules for this exam, signed by this server (server/integrity_rules.py)
        **rules_extra(db, exam_id),
        # The exam's camera policy (server/identity_audit.py), signed with the header
        **policy_extra(db, exam_id),
        # Exam-day rules: lowest client version and the exam pledge (client/paper/exam_rules.py)
        **version_floor_extra(db, exam_id),
        **pledge_extra(db, exam_id),
    }
    return build_package(source=source, exam_id=exam_id, paper_key=paper_key,
                         signing_key=keys.signing, extra_header=extra)


def refresh_package(*, settings: ServerSettings, db: Database, keys: ServerKeys,
                    exam_id: str) -> Exam:
    """Rebuild the exam's package with the same paper and key and a current header.

    The header lists the registered candidates' offline login verifiers, so adding
    candidates (or changing the exam's times) needs a new package; clients already holding
    the old one download the new one (its ETag changes).
    """
    exam = db.get_exam(exam_id)
    if exam is None:
        raise UserFacingError("exam.unknown", _("考试 {exam} 不存在").format(exam=exam_id))
    store = PaperStore(db=db, keys=keys, packages_dir=settings.packages_dir)
    paper_key = store.paper_key(exam)
    paper = open_package(store.package_file(exam).read_bytes(), trusted_key=keys.signing_public,
                         expected_exam_id=exam_id, paper_key=paper_key)
    data = _build(source=PaperSource.from_paper(paper), settings=settings, db=db, keys=keys,
                  exam_id=exam_id,
                  title=exam.title, start_ms=exam.start_ms, end_ms=exam.end_ms,
                  paper_key=paper_key)
    sha256 = hashlib.sha256(data).hexdigest()
    file_name = _file_name(exam_id, sha256)
    _write_atomically(settings.packages_dir / file_name, data)
    updated = dataclasses.replace(exam, package_path=file_name, package_sha256=sha256,
                                  package_size=len(data))
    db.upsert_exam(updated)
    if exam.package_path != file_name:
        (settings.packages_dir / exam.package_path).unlink(missing_ok=True)
    return updated


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class PaperStore:
    """The server's view of stored exams: package files, keys, and the scoring paper."""

    def __init__(self, *, db: Database, keys: ServerKeys, packages_dir: Path) -> None:
        self._db = db
        self._keys = keys
        self._packages_dir = packages_dir
        self._lock = threading.Lock()
        self._scoring: dict[tuple[str, str], Paper] = {}
        self._question_ids: dict[tuple[str, str], frozenset[str]] = {}

    def package_file(self, exam: Exam) -> Path:
        return self._packages_dir / exam.package_path

    def paper_key(self, exam: Exam) -> bytes:
        return self._keys.unseal(exam.paper_key_sealed, context=_paper_key_context(exam.id))

    def answer_keys(self, exam: Exam) -> dict[str, JsonValue]:
        raw = self._keys.unseal(exam.answer_keys_sealed, context=_answer_keys_context(exam.id))
        keys: dict[str, JsonValue] = json.loads(raw)
        return keys

    def scoring_paper(self, exam: Exam) -> Paper:
        """The exam's paper with its answer keys (cached per package version)."""
        cache_key = (exam.id, exam.package_sha256)
        with self._lock:
            cached = self._scoring.get(cache_key)
        if cached is not None:
            return cached
        paper = open_package(
            self.package_file(exam).read_bytes(),
            trusted_key=self._keys.signing_public,
            expected_exam_id=exam.id,
            paper_key=self.paper_key(exam),
        )
        answer_keys = self.answer_keys(exam)
        sections = tuple(
            dataclasses.replace(
                section,
                items=tuple(
                    dataclasses.replace(item, key=answer_keys.get(item.id, item.key))
                    for item in section.items
                ),
            )
            for section in paper.sections
        )
        keyed = dataclasses.replace(paper, sections=sections)
        with self._lock:
            self._scoring[cache_key] = keyed
        return keyed

    def question_ids(self, exam: Exam) -> frozenset[str]:
        """The ids a candidate may answer in this exam (checked on every upload)."""
        cache_key = (exam.id, exam.package_sha256)
        with self._lock:
            cached = self._question_ids.get(cache_key)
        if cached is None:
            try:
                paper = self.scoring_paper(exam)
            except FileNotFoundError:
                # *exam* came from a cache and the package was rebuilt since: read it anew.
                fresh = self._db.get_exam(exam.id)
                if fresh is None or fresh.package_sha256 == exam.package_sha256:
                    raise
                return self.question_ids(fresh)
            cached = frozenset(item.id for item in paper.items())
            with self._lock:
                self._question_ids[cache_key] = cached
        return cached

    def max_objective_score(self, exam: Exam) -> float:
        """What the machine can award: essays are read by a person and not counted."""
        return math.fsum(i.score for i in self.scoring_paper(exam).items() if i.is_objective)

    def unscored_items(self, exam: Exam) -> list[str]:
        return [i.id for i in self.scoring_paper(exam).items() if not i.is_objective]
