"""Data-directory checks before the exam: missing, read-only, full, on the system drive."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.store.datadir import check_data_dir, is_windows_system_drive, on_system_drive
from client.store.errors import DataDirError


@contextlib.contextmanager
def tmpfs(directory: Path, options: str) -> Iterator[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)],
                              capture_output=True, text=True, timeout=10)
    except OSError as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True, timeout=10)


def test_a_usable_directory_is_created_and_reported(tmp_path: Path) -> None:
    target = tmp_path / "new" / "ExamData"
    report = check_data_dir(target)
    assert target.is_dir() and list(target.iterdir()) == []  # the probe file is gone
    assert report.free_bytes > 0
    codes = {w.code for w in report.warnings}
    assert ("store.datadir_on_system_drive" in codes) == report.on_system_drive


def test_a_missing_drive_is_a_clear_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    with pytest.raises(DataDirError) as caught:
        check_data_dir(not_a_folder / "ExamData")
    assert caught.value.code == "store.datadir_missing"
    assert "user.ini" in caught.value.message
    with pytest.raises(DataDirError) as caught:
        check_data_dir(not_a_folder)
    assert caught.value.code == "store.datadir_missing"


def test_a_read_only_directory_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() != 0:  # permissions stop a normal user; root needs a read-only mount
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        with pytest.raises(DataDirError) as caught:
            check_data_dir(folder)
        folder.chmod(0o700)
    else:
        with tmpfs(tmp_path / "ro", "ro,size=1m") as folder, pytest.raises(DataDirError) as caught:
            check_data_dir(folder)
    assert caught.value.code == "store.datadir_readonly"
    assert "无法写入" in caught.value.message


def test_too_little_space_stops_and_little_space_warns(tmp_path: Path) -> None:
    with pytest.raises(DataDirError) as caught:
        check_data_dir(tmp_path, min_free_bytes=1 << 62)
    assert caught.value.code == "store.datadir_full"
    report = check_data_dir(tmp_path, min_free_bytes=0, recommended_free_bytes=1 << 62)
    assert "store.datadir_space_low" in {w.code for w in report.warnings}


def test_a_small_real_disk(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "size=4m") as folder:
        with pytest.raises(DataDirError) as caught:
            check_data_dir(folder)  # default minimum is 20 MiB
        assert caught.value.code == "store.datadir_full"
        report = check_data_dir(folder, min_free_bytes=1 << 20)
        assert {w.code for w in report.warnings} == {"store.datadir_space_low"}
        assert not report.on_system_drive  # a separate device, like D: on a lab PC


def test_system_drive_decision_on_windows_paths() -> None:
    assert is_windows_system_drive(r"C:\Users\exam\AppData", system_drive="C:")
    assert is_windows_system_drive(r"c:\data", system_drive="C:")
    assert is_windows_system_drive(r"C:\data", system_drive="c:\\")
    assert not is_windows_system_drive(r"D:\ExamData", system_drive="C:")
    assert not is_windows_system_drive(r"\\server\share\exam", system_drive="C:")
    assert is_windows_system_drive(r"E:\x", system_drive="E:")


def test_system_drive_on_this_system(tmp_path: Path) -> None:
    assert on_system_drive(Path("/")) is True
    assert on_system_drive(tmp_path) == (tmp_path.stat().st_dev == Path("/").stat().st_dev)
