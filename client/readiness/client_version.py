"""Is this PC's client new enough for the coming exams? ("旧版本不再使用")

The server answers ``GET /client-version-floor`` with the highest floor among the exams
that have not ended (server/version_floor.py); the decision takes plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from client import __version__
from client.i18n import _
from client.paper.exam_rules import VersionFloor
from client.readiness.result import CheckResult, Status
from client.sync.api import API_PREFIX, ca_bundle


def fetch_floor(*, url: str, ca_file: Path | None, cache_dir: Path,
                timeout_s: float) -> Mapping[str, Any] | None:
    """The server's answer, or None when it cannot tell (old server, no network)."""
    try:
        response = requests.get(f"{url.rstrip('/')}{API_PREFIX}/client-version-floor",
                                timeout=timeout_s,
                                verify=ca_bundle(ca_file, cache_dir=cache_dir))
    except (OSError, requests.RequestException):
        return None
    if response.status_code != 200:
        return None
    body = response.json()
    return body if isinstance(body, dict) else None


def evaluate_client_version(answer: Mapping[str, Any] | None, *,
                            version: str = __version__) -> CheckResult:
    detail: dict[str, object] = {"client_version": version}
    if answer is None:
        return CheckResult("client_version", Status.WARN, _(
            "客户端版本 {have}：无法从服务器得知考试要求的最低版本").format(have=version), detail)
    need = answer.get("min_version")
    if not need:
        return CheckResult("client_version", Status.PASS, _(
            "客户端版本 {have}（考试未规定最低版本）").format(have=version), detail)
    floor = VersionFloor(min_version=str(need), download_hint=str(answer.get("download_hint")
                                                                   or ""))
    detail.update(min_version=floor.min_version, exam_id=answer.get("exam_id"))
    if floor.accepts(version):
        return CheckResult("client_version", Status.PASS, _(
            "客户端版本 {have}，满足考试要求（最低 {need}）").format(
                have=version, need=floor.min_version), detail)
    return CheckResult("client_version", Status.FAIL, _(
        "客户端版本 {have} 过旧，考试要求 {need} 或更高版本，旧版本不再使用。"
        "请从 {where} 下载最新版本客户端并安装").format(
            have=version, need=floor.min_version, where=floor.where()), detail)
