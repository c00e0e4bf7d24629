"""The camera line (through client.camera, here fed from image files) and the integrity
line (client.integrity's findings turned into one line)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage import data

from client.integrity.evaluate import evaluate
from client.integrity.rules import builtin_rules
from client.integrity.snapshot import ProcessInfo, Snapshot
from client.readiness.camera import check_camera
from client.readiness.integrity import check_integrity, evaluate_findings
from client.readiness.result import Status


def write_image(path: Path, image: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), image)
    return path


def test_a_camera_that_delivers_pictures_passes(tmp_path: Path) -> None:
    photo = write_image(tmp_path / "astronaut.png",
                        cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    result = check_camera(enabled=True, device="", source=photo, data_dir=tmp_path)
    assert result.status is Status.PASS
    assert "512×512" in result.message


def test_a_black_camera_is_diagnosed_with_what_to_do(tmp_path: Path) -> None:
    black = write_image(tmp_path / "black.png", np.zeros((480, 640, 3), np.uint8))
    result = check_camera(enabled=True, device="", source=black, data_dir=tmp_path)
    assert result.status is Status.FAIL
    assert result.detail["error_code"] == "camera.black"
    assert "全黑" in result.message
    assert "；" in result.message  # the steps to fix it are part of the line


def test_a_missing_camera_source_fails(tmp_path: Path) -> None:
    result = check_camera(enabled=True, device="", source=tmp_path / "missing.mp4",
                          data_dir=tmp_path)
    assert result.status is Status.FAIL
    assert result.detail["error_code"]


def test_identity_verification_switched_off_is_a_problem(tmp_path: Path) -> None:
    # Issue 16: a disabled camera check used to read as PASS.
    result = check_camera(enabled=False, device="", source=None, data_dir=tmp_path)
    assert result.status is Status.FAIL
    assert "enabled = false" in result.message


def test_a_remote_control_tool_fails_the_integrity_line() -> None:
    rules = builtin_rules()
    snapshot = Snapshot(os="Windows 10", processes=(ProcessInfo(pid=4242, name="ToDesk.exe"),))
    result = evaluate_findings(evaluate(snapshot, rules), rules_version=rules.version)
    assert result.status is Status.FAIL
    assert "ToDesk" in result.message
    clean = evaluate_findings(evaluate(Snapshot(os="Windows 10"), rules),
                              rules_version=rules.version)
    assert clean.status is Status.PASS
    assert str(rules.version) in clean.message


def test_integrity_runs_on_this_machine() -> None:
    result = check_integrity()
    assert result.name == "integrity"
    assert result.detail["rules_version"] == builtin_rules().version
