import sys

import pytest

from client.startup import deps
from client.startup.deps import Requirement


@pytest.mark.qt  # PySide6 is one of the checked components
def test_the_real_installation_is_complete():
    assert deps.check_dependencies() == []
    assert deps.python_problem() is None
    assert deps.verify_or_explain() is True


def test_missing_and_old_components_are_named():
    problems = deps.check_dependencies([
        Requirement("no_such_module_xyz", "no-such-dist", "1"),
        Requirement("requests", "requests", "999.0"),
        Requirement("psutil", "psutil", ""),
    ])
    assert [(p.requirement.distribution, p.found is None) for p in problems] == [
        ("no-such-dist", True), ("requests", False)]
    message = deps.problems_message(problems, python=None)
    assert "no-such-dist" in message and "requests" in message and "999.0" in message
    assert message.splitlines()[0] == "考试客户端无法启动，安装不完整："


def test_checking_does_not_import_qt():
    # find_spec only: a broken Qt DLL must not crash the check itself.
    before = set(sys.modules)
    deps.check_dependencies()
    assert not {m for m in set(sys.modules) - before if m.startswith("PySide6.Qt")}


def test_plain_message_goes_to_stderr_off_windows(capsys):
    deps.show_plain_message("考试客户端", "缺少组件 x")
    assert capsys.readouterr().err == "考试客户端\n缺少组件 x\n"


def test_qt_import_failure_is_explained(capsys):
    deps.report_qt_import_failure(ImportError("DLL load failed while importing QtGui"))
    err = capsys.readouterr().err
    assert "DLL load failed" in err and "图形界面组件" in err


def test_version_compare():
    assert deps._version_tuple("6.12.0") > deps._version_tuple("6.8")
    assert deps._version_tuple("44.0.1") >= deps._version_tuple("44")
    assert deps._version_tuple("2.32.3.post1") > deps._version_tuple("2.32")
