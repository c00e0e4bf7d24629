"""Universal C Runtime (通用 C 运行库): present and new enough for the client?

A PC whose UCRT is missing or older than Windows 10 1607's cannot start the client:
"无法定位程序输入点 _o__configure_narrow_argv 于动态链接库 api-ms-win-crt-private-l1-1-0.dll"
(the ``_o_`` exports came with UCRT 10.0.14393). On Windows 10/11 the UCRT is part of
Windows; "精简版"/Ghost images sometimes carry an old copy or none. The facts come from a
small adapter (client/readiness/ucrt_windows.py); the decision here takes plain data.
The installer makes the same check before copying anything (installer/ucrt.nsh).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from client.i18n import _
from client.readiness.result import CheckResult, Status

MIN_UCRT_VERSION = (10, 0, 14393, 0)
PROBE_EXPORT = "_o__configure_narrow_argv"


@dataclass(frozen=True)
class UcrtFacts:
    on_windows: bool
    version: tuple[int, int, int, int] | None   # System32\ucrtbase.dll file version
    has_probe_export: bool | None                # ucrtbase exports PROBE_EXPORT (None: unknown)


def ucrt_facts() -> UcrtFacts:
    if sys.platform != "win32":
        return UcrtFacts(on_windows=False, version=None, has_probe_export=None)
    from client.readiness.ucrt_windows import probe_export, ucrtbase_version

    return UcrtFacts(on_windows=True, version=ucrtbase_version(),
                     has_probe_export=probe_export(PROBE_EXPORT))


def _text(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def _fix() -> str:
    return _("请安装 Windows 的最新累积更新（通用 C 运行库是 Windows 10/11 的组成部分），"
             "或以管理员身份运行“sfc /scannow”修复系统文件；精简版/Ghost 系统请换用完整的正版镜像")


def evaluate_ucrt(facts: UcrtFacts) -> CheckResult:
    detail = {"version": _text(facts.version) if facts.version else None,
              "has_probe_export": facts.has_probe_export,
              "min_version": _text(MIN_UCRT_VERSION)}
    if not facts.on_windows:
        return CheckResult("ucrt", Status.PASS, _("非 Windows 系统，无需通用 C 运行库"), detail)
    if facts.version is None:
        return CheckResult("ucrt", Status.FAIL, _(
            "缺少通用 C 运行库（System32\\ucrtbase.dll）：客户端会因“无法定位程序输入点”"
            "而无法启动。{fix}").format(fix=_fix()), detail)
    if facts.version < MIN_UCRT_VERSION or facts.has_probe_export is False:
        return CheckResult("ucrt", Status.FAIL, _(
            "通用 C 运行库版本 {have} 过旧（需要 {need} 或更高）：客户端可能出现“无法定位程序"
            "输入点 _o__configure_narrow_argv 于 api-ms-win-crt-private-l1-1-0.dll”而无法启动。"
            "{fix}").format(have=_text(facts.version), need=_text(MIN_UCRT_VERSION), fix=_fix()),
            detail)
    return CheckResult("ucrt", Status.PASS, _("通用 C 运行库 {have}").format(
        have=_text(facts.version)), detail)


def check_ucrt() -> CheckResult:
    return evaluate_ucrt(ucrt_facts())
