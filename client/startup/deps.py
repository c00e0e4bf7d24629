"""Dependency and version checks before Qt, with a message that needs no Qt to show.

A lab PC with a broken install must get a readable sentence, not a silent exit: on
Windows a MessageBoxW (user32, always present), elsewhere stderr. The Qt import itself
happens later (client.ui); report_qt_import_failure() turns its failure ("DLL load
failed", a missing entry point) into the same kind of message.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from client.i18n import _

log = logging.getLogger(__name__)

MIN_PYTHON = (3, 11)


@dataclass(frozen=True)
class Requirement:
    module: str  # import name, located with find_spec (not imported: no Qt DLL is loaded)
    distribution: str  # name for importlib.metadata
    minimum: str  # dotted version, "" for any


@dataclass(frozen=True)
class DependencyProblem:
    requirement: Requirement
    found: str | None  # installed version, None when missing

    def describe(self) -> str:
        req = self.requirement
        if self.found is None:
            return _("缺少组件 {name}").format(name=req.distribution)
        return _("组件 {name} 版本过旧：{found}，需要 {minimum} 或更高").format(
            name=req.distribution, found=self.found, minimum=req.minimum)


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("PySide6", "PySide6-Essentials", "6.8"),
    Requirement("sqlcipher3", "sqlcipher3", "0.6.4"),
    Requirement("cryptography", "cryptography", "44"),
    Requirement("requests", "requests", "2.32"),
    Requirement("platformdirs", "platformdirs", "4"),
    Requirement("psutil", "psutil", "6"),
)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in text.split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
    return tuple(parts)


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _find_spec(module: str) -> object | None:
    try:
        return importlib.util.find_spec(module)
    except (ImportError, ValueError):  # a broken or blocked package counts as missing
        return None


def check_dependencies(
    requirements: Sequence[Requirement] = REQUIREMENTS,
) -> list[DependencyProblem]:
    """Missing or too-old components. Frozen builds have no metadata: presence is enough."""
    problems: list[DependencyProblem] = []
    frozen = bool(getattr(sys, "frozen", False))
    for req in requirements:
        if _find_spec(req.module) is None:
            problems.append(DependencyProblem(req, None))
            continue
        version = installed_version(req.distribution)
        if version is None:
            if not frozen:
                log.warning("%s importable but without version metadata", req.distribution)
            continue
        if req.minimum and _version_tuple(version) < _version_tuple(req.minimum):
            problems.append(DependencyProblem(req, version))
    return problems


def python_problem() -> str | None:
    if sys.version_info[:2] < MIN_PYTHON:
        return _("Python 版本过旧：{found}，需要 {minimum} 或更高").format(
            found=".".join(map(str, sys.version_info[:3])),
            minimum=".".join(map(str, MIN_PYTHON)))
    return None


def problems_message(problems: Sequence[DependencyProblem], *, python: str | None) -> str:
    lines = [_("考试客户端无法启动，安装不完整：")]
    if python is not None:
        lines.append("  - " + python)
    lines += ["  - " + p.describe() for p in problems]
    lines.append(_("请联系考点管理员重新安装考试客户端。"))
    return "\n".join(lines)


def show_plain_message(title: str, text: str) -> None:
    """A message that needs no Qt: MessageBoxW on Windows, stderr elsewhere."""
    log.error("%s: %s", title, text)
    if sys.platform == "win32":
        import ctypes

        mb_iconerror = 0x10
        mb_setforeground = 0x10000
        ctypes.windll.user32.MessageBoxW(None, text, title, mb_iconerror | mb_setforeground)
        return
    if sys.stderr is not None:
        sys.stderr.write(f"{title}\n{text}\n")
        sys.stderr.flush()


def verify_or_explain() -> bool:
    """Run every check; on failure show the plain message and return False."""
    python = python_problem()
    problems = check_dependencies()
    if python is None and not problems:
        return True
    show_plain_message(_("考试客户端"), problems_message(problems, python=python))
    return False


def report_qt_import_failure(exc: BaseException) -> None:
    """The Qt import failed (missing DLL, missing entry point): explain, in plain text."""
    text = "\n".join([
        _("考试客户端无法加载图形界面组件。"),
        f"{type(exc).__name__}: {exc}",
        _("请联系考点管理员重新安装考试客户端，或安装最新的 Windows 更新。"),
    ])
    show_plain_message(_("考试客户端"), text)
