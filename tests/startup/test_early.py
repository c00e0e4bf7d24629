import logging
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from client.startup import early

ROOT = Path(__file__).resolve().parents[2]


def run_python(code, *, env_extra=None, timeout=60):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env_extra or {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


@pytest.fixture
def clean_root_logger():
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    yield
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_logging_goes_to_a_rotating_file(tmp_path, clean_root_logger):
    path = early.setup_logging(log_dir=tmp_path / "logs")
    logging.getLogger("client.test").warning("考生 %s logged", "甲")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert path.name == early.LOG_FILE
    assert "考生 甲 logged" in path.read_text(encoding="utf-8")
    assert early.log_files(tmp_path / "logs") == [path]


def test_logging_without_stderr_works(tmp_path, clean_root_logger, monkeypatch):
    monkeypatch.setattr(sys, "stderr", None)  # a windowed frozen build
    early.setup_logging(log_dir=tmp_path, to_stderr=True)
    logging.getLogger("x").error("still logged")


def test_native_crash_is_collected_at_the_next_start(tmp_path):
    crash_dir = tmp_path / "crash"
    done = run_python(f"""
        import faulthandler, sys
        sys.stderr = None  # like a windowed frozen build: faulthandler must not need it
        from pathlib import Path
        from client.startup import early
        early.arm_faulthandler(Path({str(crash_dir)!r}))
        faulthandler._sigsegv()
    """)
    assert done.returncode != 0
    fault_logs = list(crash_dir.glob("faulthandler-*.log"))
    assert len(fault_logs) == 1 and fault_logs[0].stat().st_size > 0
    assert early.pending_crash_reports(crash_dir) == []
    made = early.collect_fault_logs(crash_dir)
    reports = early.pending_crash_reports(crash_dir)
    assert [r.path for r in reports] == made and reports[0].kind == "native"
    assert "Segmentation fault" in reports[0].read_text()
    assert not list(crash_dir.glob("faulthandler-*.log"))


def test_clean_exit_leaves_no_crash_log(tmp_path):
    crash_dir = tmp_path / "crash"
    done = run_python(f"""
        from pathlib import Path
        from client.startup import early
        early.arm_faulthandler(Path({str(crash_dir)!r}))
        early.disarm_faulthandler()
    """)
    assert done.returncode == 0, done.stderr
    assert list(crash_dir.iterdir()) == []


def test_a_running_instances_fault_log_is_left_alone(tmp_path):
    crash_dir = tmp_path
    mine = crash_dir / f"faulthandler-{os.getpid()}.log"
    mine.write_text("in use", encoding="utf-8")
    assert early.collect_fault_logs(crash_dir) == []
    assert mine.exists()


def test_seen_reports_move_and_old_ones_are_pruned(tmp_path):
    paths = [early.write_crash_report(tmp_path, kind="python", text=f"t{i}") for i in range(3)]
    reports = early.pending_crash_reports(tmp_path)
    assert {r.path for r in reports} <= set(paths) and len(reports) >= 1
    early.mark_reports_seen(reports)
    assert early.pending_crash_reports(tmp_path) == []
    assert len(early.all_crash_logs(tmp_path)) == len(reports)
    early.prune_crash_logs(tmp_path, keep=0)
    assert early.all_crash_logs(tmp_path) == []


@pytest.fixture
def hooks(tmp_path):
    shown = []
    early.install_excepthooks(crash_dir=tmp_path, show_error=shown.append)
    yield shown
    early.uninstall_excepthooks()


def test_exception_in_a_thread_reaches_the_callback_with_a_crash_log(hooks, tmp_path, caplog):
    def work():
        raise ValueError("保存失败")

    thread = threading.Thread(target=work, name="sync-worker")
    thread.start()
    thread.join()
    assert len(hooks) == 1
    report = hooks[0]
    assert (report.exc_type, report.message, report.thread_name) == ("ValueError", "保存失败",
                                                                     "sync-worker")
    assert report.crash_log is not None and "保存失败" in report.crash_log.read_text("utf-8")
    assert "unhandled exception in sync-worker" in caplog.text
    assert [r.kind for r in early.pending_crash_reports(tmp_path)] == ["python"]


def test_main_thread_hook(hooks):
    try:
        raise KeyError("q7")
    except KeyError:
        sys.excepthook(*sys.exc_info())
    assert hooks[0].exc_type == "KeyError"


def test_a_failing_callback_falls_back_to_stderr(tmp_path, capsys):
    def broken(report):
        raise RuntimeError("dialog broke")

    early.install_excepthooks(crash_dir=tmp_path, show_error=broken)
    try:
        early.handle_exception(OSError, OSError("disk"), None, thread_name="MainThread")
    finally:
        early.uninstall_excepthooks()
    assert "OSError: disk" in capsys.readouterr().err


def test_errors_to_stderr_flag_shows_no_dialog(tmp_path):
    done = run_python(f"""
        import threading
        from pathlib import Path
        from client.startup import early
        def show(report):
            print("DIALOG SHOWN")
        early.install_excepthooks(crash_dir=Path({str(tmp_path)!r}), show_error=show,
                                  errors_to_stderr=True)
        t = threading.Thread(target=lambda: 1 / 0, name="worker")
        t.start(); t.join()
        raise SystemExit(0)
    """)
    assert done.returncode == 0
    assert "DIALOG SHOWN" not in done.stdout
    assert "unhandled exception in worker" in done.stderr
    assert "ZeroDivisionError" in done.stderr
