"""`exam-client check` (run_check): verdict lines, exit codes, snapshot dump and replay."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from integrity_fixtures import load_case

from client import i18n
from client.integrity.cli import main, run_check
from client.integrity.snapshot import Snapshot


def dump_case(name: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(load_case(name).snapshot.dumps(), encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "code"), [
    ("fp_clean_lab_pc", 0), ("camera_virtual_installed", 1), ("tool_todesk", 2)])
def test_exit_code_follows_the_verdict(name: str, code: int, tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_check(dump_snapshot=None, as_json=False,
                     snapshot_file=dump_case(name, tmp_path), out=out) == code


def test_human_output_names_the_tool_and_what_to_do(tmp_path: Path) -> None:
    out = io.StringIO()
    run_check(dump_snapshot=None, as_json=False,
              snapshot_file=dump_case("tool_todesk", tmp_path), out=out)
    text = out.getvalue()
    assert "[e-01 必须处理] 检测到远程控制软件：ToDesk（ToDesk.exe），请退出后点击重新检测" in text
    assert "检测未通过" in text


def test_english_output(tmp_path: Path) -> None:
    i18n.set_language("en")
    try:
        out = io.StringIO()
        run_check(dump_snapshot=None, as_json=False,
                  snapshot_file=dump_case("vm_vmware_guest", tmp_path), out=out)
    finally:
        i18n.set_language("zh_CN")
    assert "Virtual machine or virtual device detected (VMware)" in out.getvalue()


def test_json_output_and_dump_round_trip(tmp_path: Path) -> None:
    source = dump_case("tool_anydesk_renamed", tmp_path)
    dump = tmp_path / "dump.json"
    out = io.StringIO()
    code = run_check(dump_snapshot=dump, as_json=True, snapshot_file=source, out=out)
    report = json.loads(out.getvalue())
    assert code == 2 and report["verdict"] == "block"
    assert report["findings"][0]["subject"] == "anydesk"
    assert "notepad2.exe" in report["findings"][0]["message"]
    assert Snapshot.loads(dump.read_text(encoding="utf-8")) == load_case(
        "tool_anydesk_renamed").snapshot


def test_real_collection_dumps_this_machine(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    dump = tmp_path / "here.json"
    code = main(["--dump-snapshot", str(dump)])
    assert code in (0, 1, 2)
    assert Snapshot.loads(dump.read_text(encoding="utf-8")).processes
    assert str(dump) in capsys.readouterr().out


def test_exam_client_check_snapshot_works_as_documented(tmp_path: Path) -> None:
    """`exam-client check --snapshot FILE` (docs/integrity.md) was an argparse error."""
    import subprocess
    import sys

    path = dump_case("tool_todesk", tmp_path)
    result = subprocess.run([sys.executable, "-m", "client", "check", "--snapshot", str(path)],
                            capture_output=True, text=True, encoding="utf-8", timeout=120,
                            cwd=tmp_path, env={**_env(), "PYTHONIOENCODING": "utf-8"})
    assert result.returncode == 2, result.stderr
    assert "ToDesk" in result.stdout and "检测未通过" in result.stdout


def test_a_misspelled_snapshot_is_an_error_not_a_pass(tmp_path: Path) -> None:
    path = dump_case("tool_todesk", tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["proceses"] = data.pop("processes")
    path.write_text(json.dumps(data), encoding="utf-8")
    out = io.StringIO()
    assert run_check(dump_snapshot=None, as_json=False, snapshot_file=path, out=out) == 3
    assert "proceses" in out.getvalue() and "检测通过" not in out.getvalue()


def _env() -> dict[str, str]:
    import os

    root = Path(__file__).resolve().parents[2]
    return {**os.environ, "PYTHONPATH": str(root)}
