import os
import subprocess
import sys
import time

import pytest

from client.render import software_gl
from client.startup import restart, single_instance


def test_restart_argv_repeats_the_command_line_with_resume():
    argv = restart.restart_argv()
    assert argv[0] == sys.executable
    assert argv[1:-1] == sys.orig_argv[1:]
    assert argv[-1] == restart.RESUME_FLAG
    assert restart.restart_argv(extra_flags=()) == [sys.executable, *sys.orig_argv[1:]]


def test_spawned_process_survives_and_counts_restarts(tmp_path):
    out = tmp_path / "child.txt"
    code = (f"import os, pathlib; pathlib.Path({str(out)!r}).write_text("
            "os.environ['EXAM_CLIENT_RESTART_COUNT'] + ' ' + "
            "os.environ['EXAM_CLIENT_RESTARTED_FROM_PID'])")
    pid = restart.spawn_detached([sys.executable, "-c", code],
                                 environ={**os.environ, restart.RESTART_COUNT_VARIABLE: "2"})
    deadline = time.monotonic() + 20
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert out.read_text() == f"3 {os.getpid()}"
    assert pid > 0


def test_restart_loop_is_bounded():
    assert restart.may_restart({})
    assert not restart.may_restart({restart.RESTART_COUNT_VARIABLE: "5"})
    assert restart.restart_count({restart.RESTART_COUNT_VARIABLE: "junk"}) == 0


def test_restarted_client_waits_for_its_parent(monkeypatch):
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    monkeypatch.setenv(restart.PARENT_PID_VARIABLE, str(parent.pid))
    started = time.monotonic()
    assert restart.wait_for_restarting_parent(timeout_s=20)
    assert time.monotonic() - started >= 0.3
    parent.wait()
    assert restart.PARENT_PID_VARIABLE not in os.environ
    assert restart.wait_for_restarting_parent()  # nothing to wait for


def test_instance_key_is_stable_and_separates_data_dirs(tmp_path):
    a = single_instance.instance_key(tmp_path / "a")
    assert a == single_instance.instance_key(tmp_path / "a")
    assert a != single_instance.instance_key(tmp_path / "b")
    assert a.startswith("exam-client-") and len(a) < 40


def test_software_opengl_lookup(tmp_path, monkeypatch):
    assert software_gl.find_software_opengl([tmp_path]) is None
    (tmp_path / "opengl32sw.dll").write_bytes(b"MZ")
    assert software_gl.find_software_opengl([tmp_path]) == tmp_path / "opengl32sw.dll"
    monkeypatch.setenv("QT_OPENGL_DLL", "mesa.dll")
    assert software_gl.find_software_opengl([tmp_path]) is None


@pytest.mark.qt
def test_software_opengl_is_searched_beside_pyside6():
    assert any(d.name == "PySide6" for d in software_gl.candidate_dirs())
