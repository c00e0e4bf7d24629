"""``--self-test`` from the source tree: every subsystem loads for real; a broken one is
reported by name without hiding the others. (The frozen run is tools/build_frozen.py.)"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from client.selftest import CHECKS, SelfTestFailure, run_checks, run_self_test


@pytest.mark.qt
def test_every_subsystem_and_the_login_window(qapp: object) -> None:
    from client.ui.selftest_window import check_login_window

    out = io.StringIO()
    code = run_self_test(window_check=check_login_window, stream=out)
    lines = out.getvalue().splitlines()
    assert code == 0, out.getvalue()
    names = [name for name, _check in CHECKS] + ["window"]
    assert [line.split("] ", 1)[1].split(":", 1)[0] for line in lines[:-1]] == names
    assert all(line.startswith("[正常]") for line in lines[:-1])
    assert lines[-1].startswith("自检通过")
    window_line = lines[-2]
    assert "offscreen" in window_line and "ExamClient CJK SC" in window_line


def test_a_failing_subsystem_is_named_and_the_rest_still_run(tmp_path: Path) -> None:
    def broken(_scratch: Path) -> str:
        raise SelfTestFailure("the answer store was written unencrypted")

    checks = [("crypto", dict(CHECKS)["crypto"]), ("store", broken),
              ("translations", dict(CHECKS)["translations"])]
    lines = run_checks(checks, scratch=tmp_path)
    assert [(line.name, line.ok) for line in lines] == [
        ("crypto", True), ("store", False), ("translations", True)]
    assert "unencrypted" in lines[1].message
    assert lines[1].format().startswith("[失败] store:")


def test_a_bundle_without_pillow_fails_the_watermark_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The frozen build once excluded Pillow: evidence photos lost their Chinese line and
    nothing failed. Now the self-test (run on the frozen bundle in CI) does."""
    monkeypatch.setitem(sys.modules, "PIL", None)  # what "not in the bundle" looks like
    line = run_checks([("watermark", dict(CHECKS)["watermark"])], scratch=tmp_path)[0]
    assert not line.ok


def test_a_component_without_metadata_fails_the_versions_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frozen diagnostics once reported null versions for five components."""
    import importlib.metadata

    real = importlib.metadata.version

    def version(name: str) -> str:
        if name == "sqlcipher3":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    line = run_checks([("versions", dict(CHECKS)["versions"])], scratch=tmp_path)[0]
    assert not line.ok and "sqlcipher3" in line.message
