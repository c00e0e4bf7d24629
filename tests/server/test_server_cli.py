"""The exam-server command line, run for real as ``python -m server`` in a subprocess."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from server_testkit import KNOWN_ANSWERS

from client.paper.package import verify_package
from server.config import ServerSettings
from server.db import Database
from server.passwords import verify_password
from server.testing import live_server

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("EXAM_SERVER_DATA", None)
    return subprocess.run(
        [sys.executable, "-m", "server", "--lang", lang, *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def open_db(data: Path) -> Database:
    return Database(ServerSettings.load(data).effective_database_url)


def init_demo(data: Path, paper: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = run("init-demo", "--data", str(data), "--paper", str(paper), *extra)
    assert result.returncode == 0, result.stderr
    return result


def test_init_demo_with_the_shipped_demo_paper(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run("init-demo", "--data", str(data), "--start-in", "120", "--duration", "45",
                 lang="zh_CN")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "演示数据已就绪" in out
    for line in ("2024000001  110101199001011234", "11010519851212002X", "12002X",
                 "A123456(7)", "123456", "011234"):
        assert line in out
    assert "管理员：admin，密码：" in out
    for name in ("signing.pem", "box.pem", "storage.key"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600
    db = open_db(data)
    exam = db.get_exam("demo-exam")
    assert exam is not None and exam.end_ms - exam.start_ms == 45 * 60_000
    assert abs(exam.start_ms - (time.time() * 1000 + 120_000)) < 60_000
    assert (data / "packages" / exam.package_path).stat().st_size == exam.package_size
    db.close()


def test_add_candidates_reports_bad_rows_and_imports_the_rest(tmp_path: Path,
                                                               paper_source: Path) -> None:
    data = tmp_path / "data"
    init_demo(data, paper_source)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "student_no,id_number,name,center_id\n"
        "2025000001,440301199912120011,赵一,demo-center\n"
        "2025000002,,钱二,demo-center\n"
        "2025000003,44030119991212003x,孙三,no-such-center\n"
        "2025000004,44030119991212004x,李四四,demo-center\n",
        encoding="utf-8",
    )
    result = run("add-candidates", "--csv", str(roster), "--exam", "demo-exam", "--data", str(data))
    assert result.returncode == 1
    assert "line 3 [candidate.missing_field]" in result.stdout
    assert "line 4 [candidate.unknown_center]: exam center no-such-center does not exist" in (
        result.stdout)
    assert "2 added, 0 updated, 2 rows with errors" in result.stdout
    db = open_db(data)
    fourth = db.find_candidate(student_no="2025000004")
    assert fourth is not None and fourth.id_number == "44030119991212004X"
    assert verify_password(fourth.password_hash, "12004X")
    assert db.find_candidate(student_no="2025000003") is None
    assert db.current_exam_for(fourth.id, now_ms=0) is not None  # registered

    # Re-import, saved by Excel on a Chinese Windows (GB18030), with the rows fixed.
    roster.write_bytes(
        ("student_no,id_number,name,center_id\n"
         "2025000001,440301199912120011,赵一一,demo-center\n"
         "2025000002,440301199912120022,钱二,demo-center\n").encode("gb18030")
    )
    again = run("add-candidates", "--csv", str(roster), "--exam", "demo-exam", "--data", str(data))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 added, 1 updated, 0 rows with errors" in again.stdout
    assert db.find_candidate(student_no="2025000001").name == "赵一一"
    db.close()


def test_add_candidates_needs_a_known_exam_and_the_columns(tmp_path: Path,
                                                            paper_source: Path) -> None:
    data = tmp_path / "data"
    init_demo(data, paper_source)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_no,name\n1,a\n", encoding="utf-8")
    unknown = run("add-candidates", "--csv", str(roster), "--exam", "nope", "--data", str(data))
    assert unknown.returncode == 1 and "[exam.unknown]" in unknown.stderr
    columns = run("add-candidates", "--csv", str(roster), "--exam", "demo-exam",
                  "--data", str(data))
    assert columns.returncode == 1
    assert "[csv.missing_columns]" in columns.stderr and "id_number, center_id" in columns.stderr


def test_import_paper_from_a_zip(tmp_path: Path, paper_source: Path) -> None:
    data = tmp_path / "data"
    archive = tmp_path / "final.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # one wrapping folder, as Windows makes it
        for file in paper_source.iterdir():
            zf.write(file, f"final/{file.name}")
    result = run("import-paper", str(archive), "--exam", "final-2030", "--title", "期末考试",
                 "--start", "2030-06-01T09:00+08:00", "--end", "2030-06-01T11:00+08:00",
                 "--data", str(data))
    assert result.returncode == 0, result.stderr
    assert "Imported exam final-2030 (期末考试)" in result.stdout
    db = open_db(data)
    exam = db.get_exam("final-2030")
    start = datetime.fromisoformat("2030-06-01T09:00+08:00").timestamp() * 1000
    assert (exam.start_ms, exam.end_ms) == (start, start + 2 * 3600_000)
    assert exam.paper_id == "server-test-paper"
    package = (data / "packages" / exam.package_path).read_bytes()
    from server.keys import load_keys

    public = load_keys(data).signing_public
    assert isinstance(public, Ed25519PublicKey)
    header = verify_package(package, trusted_key=public, expected_exam_id="final-2030")
    assert header.extra["title"] == "期末考试"
    db.close()


def test_import_paper_errors_are_coded(tmp_path: Path, paper_source: Path) -> None:
    data = tmp_path / "data"
    times = ("--start", "2030-06-01T11:00", "--end", "2030-06-01T09:00")
    backwards = run("import-paper", str(paper_source), "--exam", "e1", *times, "--data", str(data))
    assert backwards.returncode == 1 and "[exam.bad_times]" in backwards.stderr
    (paper_source / "paper.json").write_text("{ not json", encoding="utf-8")
    broken = run("import-paper", str(paper_source), "--exam", "e1", "--start",
                 "2030-06-01T09:00", "--end", "2030-06-01T11:00", "--data", str(data))
    assert broken.returncode == 1 and "[paper.invalid]" in broken.stderr
    bad_time = run("import-paper", str(paper_source), "--exam", "e1", "--start", "tomorrow",
                   "--end", "2030-06-01T11:00", "--data", str(data))
    assert bad_time.returncode == 2 and "ISO 8601" in bad_time.stderr


def test_results_table(tmp_path: Path, paper_source: Path) -> None:
    data = tmp_path / "data"
    init_demo(data, paper_source, "--start-in", "0")
    with live_server(data, demo=False) as live:
        session = requests.Session()
        login = session.post(live.api("/login"), json={
            "username": "2024000001", "password": "011234"}, timeout=10)
        assert login.status_code == 200, login.text
        session.headers["Authorization"] = f"Bearer {login.json()['token']}"
        batch = [{"question_id": q, "revision": 1, "value": v} for q, v in KNOWN_ANSWERS.items()]
        session.post(live.api("/attempt/answers"), json={"answers": batch}, timeout=10)
        session.post(live.api("/attempt/submit"), json={"answered_count": 5}, timeout=10)
        # a second candidate logs in and is still answering
        assert session.post(live.api("/login"), json={
            "username": "2024000003", "password": "123456"}, timeout=10).status_code == 200
        session.close()
    result = run("results", "demo-exam", "--data", str(data))
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["Student", "no.", "Name", "Status", "Score"]
    assert rows[1] == ["2024000001", "张三", "Submitted", "7/10"]
    assert rows[2][0] == "2024000002" and rows[2][2:] == ["Not", "logged", "in", "-"]
    assert rows[3] == ["2024000003", "陈大文", "Answering", "-"]
