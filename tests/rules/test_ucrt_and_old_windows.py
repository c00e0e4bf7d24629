"""UCRT and old Windows: the readiness check and the installer find a missing or old
Universal C Runtime and say what to install; Windows 7 / 32-bit are refused with a message
that names the supported versions and why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from client.readiness.result import Status
from client.readiness.system import OsFacts, evaluate_os
from client.readiness.ucrt import MIN_UCRT_VERSION, UcrtFacts, evaluate_ucrt, ucrt_facts

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "installer" / "exam-client.nsi"
UCRT_NSH = ROOT / "installer" / "ucrt.nsh"


def windows_ucrt(version: tuple[int, int, int, int] | None,
                 export: bool | None = True) -> UcrtFacts:
    return UcrtFacts(on_windows=True, version=version, has_probe_export=export)


def test_missing_ucrt_fails_and_says_what_to_install() -> None:
    result = evaluate_ucrt(windows_ucrt(None, None))
    assert result.status is Status.FAIL
    assert "缺少通用 C 运行库" in result.message and "ucrtbase.dll" in result.message
    assert "累积更新" in result.message and "sfc /scannow" in result.message


@pytest.mark.parametrize(("version", "export", "status"), [
    ((10, 0, 10240, 16384), True, Status.FAIL),     # Windows 7 KB2999226 / Windows 10 1507
    ((10, 0, 14393, 0), False, Status.FAIL),        # right number, export stripped
    ((10, 0, 14393, 0), True, Status.PASS),
    ((10, 0, 19041, 3636), None, Status.PASS),      # export unknown: the version decides
    ((10, 0, 22621, 3527), True, Status.PASS),
])
def test_ucrt_versions(version: tuple[int, int, int, int], export: bool | None,
                       status: Status) -> None:
    result = evaluate_ucrt(windows_ucrt(version, export))
    assert result.status is status
    if status is Status.FAIL:
        assert "_o__configure_narrow_argv" in result.message
        assert "api-ms-win-crt-private-l1-1-0.dll" in result.message
        assert ".".join(map(str, version)) in result.message
        assert "10.0.14393.0" in result.message


def test_off_windows_the_check_passes_without_touching_windows_apis() -> None:
    facts = ucrt_facts()
    assert facts == UcrtFacts(on_windows=False, version=None, has_probe_export=None)
    assert evaluate_ucrt(facts).status is Status.PASS


@pytest.mark.parametrize(("build", "name"), [(7601, "Windows 7"), (9200, "Windows 8"),
                                             (9600, "Windows 8.1"), (6002, "Windows Vista")])
def test_old_windows_is_refused_with_supported_versions_why_and_what_to_do(
        build: int, name: str) -> None:
    result = evaluate_os(OsFacts(system="Windows", release="7", build=build,
                                 description=f"Windows-7-6.1.{build}-SP1"))
    assert result.status is Status.FAIL
    assert result.message.startswith(f"{name}（内部版本 {build}）不能用于考试")
    assert "64 位的 Windows 10（1809 及以上）和 Windows 11" in result.message
    assert "Qt 6" in result.message and "升级" in result.message


def test_32_bit_windows_is_refused() -> None:
    result = evaluate_os(OsFacts(system="Windows", release="10", build=19045,
                                 description="Windows-10-10.0.19045-SP0", machine="x86"))
    assert result.status is Status.FAIL
    assert "32 位 Windows" in result.message and "64 位" in result.message
    assert evaluate_os(OsFacts(system="Windows", release="10", build=19045,
                               description="Windows-10", machine="AMD64")).status is Status.PASS


def test_installer_checks_the_ucrt_before_copying_with_the_same_minimum() -> None:
    main = INSTALLER.read_text(encoding="utf-8")
    nsh = UCRT_NSH.read_text(encoding="utf-8")
    assert main.count('!include "ucrt.nsh"') == 1
    on_init = main[main.index("Function .onInit"):]
    on_init = on_init[:on_init.index("FunctionEnd")]
    assert on_init.index("${RunningX64}") < on_init.index("!insertmacro CheckUcrt")
    assert "File /r" not in on_init
    minimum = re.search(r"!define UCRT_MIN_BUILD (\d+)", nsh)
    assert minimum is not None and int(minimum.group(1)) == MIN_UCRT_VERSION[2]
    # 32-bit installer: it must read the 64-bit System32, not SysWOW64.
    assert nsh.index("${DisableX64FSRedirection}") < nsh.index("GetDLLVersion")
    # the shipped build reads the real file (only the wine test builds with another one)
    assert '!define UCRT_DLL "$WINDIR\\System32\\ucrtbase.dll"' in nsh
    assert 'GetDLLVersion "${UCRT_DLL}"' in nsh
    assert re.search(r"^!define EXIT_OLD_UCRT 8$", nsh, re.MULTILINE)
    assert "8 Universal C Runtime" in main
    for key in ("MSG_UCRT_MISSING", "MSG_UCRT_OLD"):
        assert len(re.findall(rf"^LangString {key} \$\{{LANG_", nsh, re.MULTILINE)) == 2
    readme = (ROOT / "installer" / "README.md").read_text(encoding="utf-8")
    assert "8 Universal C Runtime" in readme or "8 通用 C 运行库" in readme
