"""A Qt that cannot load (a missing or broken DLL) ends in a plain message, not a raw
traceback (issue 14: client/cli.py did not guard its client.ui imports)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Qt's modules fail to import as a broken install makes them fail ("DLL load failed"),
# while PySide6 itself is found, so the dependency check before Qt passes.
BROKEN_QT = """
import sys
class BrokenQt:
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6.QtCore":
            raise ImportError("DLL load failed while importing QtCore: 找不到指定的程序。")
        return None
sys.meta_path.insert(0, BrokenQt())
from client.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command", [["run"], ["demo"], ["check", "--gui"], ["gpu-probe"]])
def test_every_window_command_explains_a_broken_qt(tmp_path: Path, command: list[str]) -> None:
    ini = tmp_path / "user.ini"
    ini.write_text(f"[data]\ndirectory = {tmp_path / 'data'}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", BROKEN_QT, "--config", str(ini), *command],
                            cwd=tmp_path, env=env, capture_output=True, text=True,
                            encoding="utf-8", timeout=120, check=False)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "考试客户端无法加载图形界面组件" in result.stderr
    assert "请联系考点管理员重新安装考试客户端" in result.stderr
    assert "Traceback" not in result.stderr
