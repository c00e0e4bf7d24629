import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from client.startup.single_instance import instance_key
from client.ui.single_instance import SingleInstance, bring_to_front

ROOT = Path(__file__).resolve().parents[2]

SECOND_START = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QCoreApplication
    from client.ui.single_instance import SingleInstance
    app = QCoreApplication([])
    print("claimed" if SingleInstance(sys.argv[1]).claim() else "handed over", flush=True)
""")

pytestmark = pytest.mark.qt


def test_second_start_raises_the_first_and_exits(qtbot, tmp_path):
    key = instance_key(tmp_path)
    first = SingleInstance(key)
    assert first.claim()
    window = QWidget()
    qtbot.addWidget(window)
    window.showMinimized()
    first.activation_requested.connect(lambda: bring_to_front(window))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    second = subprocess.Popen([sys.executable, "-c", SECOND_START, key], stdout=subprocess.PIPE,
                              text=True, env=env)
    with qtbot.waitSignal(first.activation_requested, timeout=20000):
        pass
    qtbot.waitUntil(lambda: second.poll() is not None, timeout=20000)
    assert second.stdout is not None and second.stdout.read().strip() == "handed over"
    assert not window.isMinimized() and window.isVisible()
    first.release()


def test_first_start_claims_and_release_frees_the_name(qapp, tmp_path):
    key = instance_key(tmp_path)
    one = SingleInstance(key)
    assert one.claim()
    one.release()
    two = SingleInstance(key)
    assert not two.notify_running_instance(timeout_ms=200)
    assert two.claim()
    two.release()
