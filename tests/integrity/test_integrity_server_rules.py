"""`exam-server set-integrity-rules` refuses to sign rules every client would refuse
(expired, older than the built-in ones, older than the exam's current ones), and says so
(issue 17: it used to sign them and report success)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from client.resources import resource_path
from server.db import Database
from server.integrity_rules import RulesRefused, exam_rules, set_rules
from server.keys import ensure_keys

REPO = Path(__file__).resolve().parents[2]
NOW_MS = 1_796_000_000_000  # 2026-12-01, before the built-in rules expire (2027-06-30)


def server(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("EXAM_SERVER_DATA", None)
    return subprocess.run([sys.executable, "-m", "server", "--lang", "zh_CN", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("server") / "data"
    result = server("init-demo", "--data", str(data))
    assert result.returncode == 0, result.stderr
    return data


def rules(**changes: Any) -> bytes:
    doc = json.loads(resource_path("integrity", "rules.json").read_text(encoding="utf-8"))
    doc.update(changes)
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def stored(db: Database) -> list[int]:
    with db.read() as conn:
        rows = conn.execute(select(exam_rules.c.rules)).all()
    return [json.loads(bytes(r.rules))["version"] for r in rows]


def builtin_version() -> int:
    version: int = json.loads(resource_path("integrity", "rules.json").read_bytes())["version"]
    return version


@pytest.mark.slow  # two server subprocesses (init-demo, the command): ~10 s on a busy PC
def test_expired_rules_are_refused_by_the_command(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "expired.json"
    path.write_bytes(rules(version=builtin_version() + 5, expires_at="2025-01-01T00:00:00Z"))
    result = server("set-integrity-rules", "--data", str(data_dir), "demo-exam", str(path))
    assert result.returncode == 1, result.stdout
    assert "过期" in result.stdout and "未签名" in result.stdout
    assert "已签名并写入" not in result.stdout


def test_older_and_newer_rules(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'server.db'}")
    keys = ensure_keys(tmp_path / "keys")
    base = builtin_version()
    with pytest.raises(RulesRefused, match="比客户端内置规则"):
        set_rules(db, keys, exam_id="demo-exam", data=rules(version=base - 1), now_ms=NOW_MS)
    set_rules(db, keys, exam_id="demo-exam", data=rules(version=base + 2), now_ms=NOW_MS)
    # Re-setting the very same file is fine; an older or equal different one is not.
    set_rules(db, keys, exam_id="demo-exam", data=rules(version=base + 2), now_ms=NOW_MS)
    with pytest.raises(RulesRefused, match="不比本考试当前的规则"):
        set_rules(db, keys, exam_id="demo-exam", data=rules(version=base + 1), now_ms=NOW_MS)
    with pytest.raises(RulesRefused, match="格式错误"):
        set_rules(db, keys, exam_id="demo-exam", data=rules(version=base + 3, vm={}),
                  now_ms=NOW_MS)
    assert stored(db) == [base + 2]
