"""Logging in with no network: against the verifiers of a package preloaded on this PC.

The PC holds the signed packages it preloaded under ``<data>/exams/<exam id>/``. Each one
is checked against the pinned server key before anything in it is trusted, and its
``offline`` header entry (client/session/offline_header.py) tells whether the typed
username and password belong to one of the exam's candidates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from client.errors import UserFacingError
from client.i18n import _
from client.paper.package import PackageHeader, verify_package
from client.session.offline_header import (
    OfflineEntry,
    OfflineMaterial,
    OfflineProfile,
    verify_password,
)
from client.session.server_keys import ServerKeys
from client.sync.errors import ServerUnreachable

log = logging.getLogger(__name__)

PACKAGE_NAME = "paper.exampkg"


@dataclass(frozen=True)
class PreloadedExam:
    exam_id: str
    package_path: Path
    header: PackageHeader
    material: OfflineMaterial


def package_path_for(data_dir: Path, exam_id: str) -> Path:
    return data_dir / "exams" / exam_id / PACKAGE_NAME


def preloaded_exam(data_dir: Path, keys: ServerKeys, exam_id: str) -> PreloadedExam | None:
    """The verified package of *exam_id* on this PC, if it carries offline data."""
    path = package_path_for(data_dir, exam_id)
    try:
        header = verify_package(path.read_bytes(), trusted_key=keys.signing_key,
                                expected_exam_id=exam_id)
        material = OfflineMaterial.from_extra(header.extra, exam_id=exam_id)
    except FileNotFoundError:
        return None
    except (OSError, UserFacingError) as exc:
        log.warning("preloaded package %s unusable offline: %s", path, exc)
        return None
    if material is None:
        return None
    return PreloadedExam(exam_id=exam_id, package_path=path, header=header, material=material)


def preloaded_exams(data_dir: Path, keys: ServerKeys) -> list[PreloadedExam]:
    folder = data_dir / "exams"
    if not folder.is_dir():
        return []
    found = [preloaded_exam(data_dir, keys, entry.name) for entry in sorted(folder.iterdir())
             if entry.is_dir()]
    return [exam for exam in found if exam is not None]


def offline_unavailable() -> ServerUnreachable:
    return ServerUnreachable("no preloaded package", message=_(
        "无法连接考试服务器，本机也没有预先下载的试卷包，无法离线登录。"
        "请检查网络，或请监考教师联系考点管理员"))


def find_offline_login(exams: list[PreloadedExam], *, username: str, password: str,
                       now_ms: int | None) -> tuple[PreloadedExam, OfflineProfile]:
    """*Blocking* (argon2). The exam and candidate of these credentials; raises
    UserFacingError when there is no usable package or the credentials match none."""
    if not exams:
        raise offline_unavailable()
    current = [e for e in exams if now_ms is None or e.material.exam.end_ms > now_ms]
    current.sort(key=lambda e: e.material.exam.start_ms)
    matches: list[tuple[PreloadedExam, OfflineEntry]] = []
    for exam in current:
        entry = exam.material.lookup(username)
        if entry is not None:
            matches.append((exam, entry))
    for exam, entry in matches:
        if verify_password(entry, password):
            return exam, entry.profile
    if not matches:
        verify_password(None, password)  # same cost as a real check
    raise UserFacingError("offline.wrong_credentials", _(
        "无法连接考试服务器，已用本机预先下载的试卷包离线核对：用户名或密码不正确，"
        "或该考生不在本场考试名单中"), exams=[e.exam_id for e in current])
