"""Config and injection bypasses of the identity check (issue 16): each test failed before.

Security settings come only from the machine-wide config (or the signed package's policy,
client.config.camera); a file source replaces the camera only in the demo and tests.
"""

from __future__ import annotations

from pathlib import Path

import camera_sequences as cs
import cv2
import pytest

from client.camera import sources
from client.camera.settings import DEFAULT_SETTINGS
from client.camera.sources import FileSequenceSource
from client.config import load_settings
from client.config.camera import camera_settings
from client.readiness.camera import CameraFacts, evaluate_camera
from client.readiness.result import Status
from client.ui.checks import camera_checks_from

ATTACK = """[camera]
match_threshold = 0.0
challenge_min_count = 1
challenge_max_count = 1
challenge_timeout_s = 30
max_failures_before_proctor = 10
enabled = false
"""


def ini(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("where", ["per-user user.ini", "--config my.ini"])
def test_candidate_files_cannot_weaken_the_check(tmp_path: Path, where: str) -> None:
    candidate = ini(tmp_path / "user.ini", ATTACK)
    machine = ini(tmp_path / "machine.ini", "[server]\ncenter_id = 4401001\n")
    files = [candidate, machine] if where.startswith("--config") else [machine, candidate]
    settings = load_settings(files, trusted=[machine])
    assert settings.get("camera/enabled") is True
    camera = camera_settings(settings)
    assert camera.match_threshold == DEFAULT_SETTINGS.match_threshold
    assert camera.challenge_min_count == DEFAULT_SETTINGS.challenge_min_count
    assert camera.challenge_timeout_s == DEFAULT_SETTINGS.challenge_timeout_s
    assert camera.max_failures_before_proctor == DEFAULT_SETTINGS.max_failures_before_proctor
    ignored = {problem.key for problem in settings.problems}
    assert {"match_threshold", "enabled", "challenge_min_count"} <= ignored
    # The candidate cannot switch the check (and proctoring) off either.
    assert camera_checks_from(settings, enforce=True, low_end=False) is not None


def test_by_default_only_the_machine_wide_file_is_trusted(tmp_path: Path) -> None:
    settings = load_settings([ini(tmp_path / "user.ini", ATTACK)])
    assert settings.get("camera/match_threshold") == DEFAULT_SETTINGS.match_threshold
    assert settings.get("camera/enabled") is True


def test_the_machine_wide_file_sets_them_and_a_user_file_cannot_lower_them(
        tmp_path: Path) -> None:
    machine = ini(tmp_path / "machine.ini", "[camera]\nmatch_threshold = 0.45\n")
    candidate = ini(tmp_path / "user.ini", "[camera]\nmatch_threshold = 0.1\n")
    settings = load_settings([candidate, machine], trusted=[machine])
    assert camera_settings(settings).match_threshold == 0.45


def test_a_bad_value_falls_back_for_that_key_only(tmp_path: Path) -> None:
    machine = ini(tmp_path / "machine.ini",
                  "[camera]\nmatch_threshold = -0.5\nchallenge_timeout_s = 9\n")
    camera = camera_settings(load_settings([machine], trusted=[machine]))
    # Before: a negative threshold reset the whole [camera] section to the defaults.
    assert camera.challenge_timeout_s == 9.0
    assert camera.match_threshold == DEFAULT_SETTINGS.match_threshold


def test_a_file_source_is_refused_in_a_real_exam(tmp_path: Path) -> None:
    clip = tmp_path / "me.mp4"
    clip.write_bytes(b"not really a video")
    machine = ini(tmp_path / "machine.ini", f"[camera]\nsource = {clip}\n")
    settings = load_settings([machine], trusted=[machine])
    real = camera_checks_from(settings, enforce=True, low_end=False)
    assert real is not None and real.source_factory is None      # the real camera
    by_flag = camera_checks_from(load_settings([]), enforce=True, low_end=False,
                                 source_override=clip)            # --camera-source
    assert by_flag is not None and by_flag.source_factory is None
    demo = camera_checks_from(settings, enforce=False, low_end=False)
    assert demo is not None and demo.source_factory is not None


def test_a_looping_folder_is_read_once_so_a_script_cannot_drive_it(
        tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    image = cs.astronaut_frame()
    cv2.imwrite(str(folder / "000.png"), image)
    source = FileSequenceSource(folder, loop=True)
    source.open()
    first = source.read()
    cv2.imwrite(str(folder / "000.png"), cs.darkened(image, 0.2))   # the "virtual camera"
    second = source.read()
    source.close()
    assert first is not None and second is not None
    assert (first.image == second.image).all()
    assert sources.source_facts(source) == {"kind": "file", "path": str(folder)}


def test_readiness_reports_a_disabled_check_as_a_problem() -> None:
    assert evaluate_camera(CameraFacts(enabled=False)).status is Status.FAIL


def test_a_video_replays_at_its_own_frame_rate(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, cs.SIZE)
    for index in range(4):
        writer.write(cs.shifted(cs.astronaut_frame(), index, 0))
    writer.release()
    source = FileSequenceSource(video)
    source.open()
    stamps = []
    while (item := source.read()) is not None:
        stamps.append(item.t_ms)
    source.close()
    assert stamps == [0, 100, 200, 300]      # was [0, 40, 80, 120]: 25 fps assumed
