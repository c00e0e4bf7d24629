"""The installer's refusals (issue 22), run for real under wine: Windows 7 (exit 3), 32-bit
Windows (exit 4), a missing or old Universal C Runtime (exit 8). Each refusal copies
nothing, writes no registry key, and leaves one line in %TEMP%\\ExamClient-install.log
that says why, in the PC's language (Chinese here, as in the exam rooms).

Two prefixes are made once per module (~15 s each): a 64-bit one and a WINEARCH=win32 one
(the only way to be 32-bit Windows under wine). The payload is the same small one as in
test_installer_wine.py.

The UCRT file: under wine, GetDLLVersion on any file named ucrtbase.dll answers with the
version of Wine's own ucrtbase, which the installer process has already loaded (10.0.14393),
whatever file is on disk. So the UCRT refusals run an installer built with
-DUCRT_DLL=<another name>: the same check, message and exit code as the shipped build, on a
file the test controls (installer/ucrt.nsh; test_ucrt_and_old_windows.py asserts that the
shipped build reads System32\\ucrtbase.dll).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from wine_support import SCRIPT, WINE_MARKS, nsis

pytestmark = WINE_MARKS

SETUP = r"C:\ExamClient-Setup.exe"
UCRT_SETUP = r"C:\ExamClient-Setup-ucrt.exe"  # reads C:\ucrt\ucrtbase-under-test.dll
UCRT_FILE = "ucrtbase-under-test.dll"
PRODUCT_KEYS = (r"HKLM\Software\ExamClient",
                r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\ExamClient")


@dataclass
class Prefix:
    path: Path
    env: dict[str, str]

    @property
    def drive_c(self) -> Path:
        return self.path / "drive_c"

    def run(self, *args: str) -> int:
        result = subprocess.run(["wine", *args], env=self.env, capture_output=True,
                                timeout=120, check=False)
        return result.returncode

    def windows_version(self, version: str) -> None:
        assert self.run("reg", "add", r"HKCU\Software\Wine", "/v", "Version", "/d", version,
                        "/f") == 0

    def product_keys(self) -> set[str]:
        """Which of PRODUCT_KEYS exist (one wine process: each one takes seconds)."""
        line = " & ".join(f"reg query {key} /reg:64" for key in PRODUCT_KEYS)
        result = subprocess.run(["wine", "cmd", "/c", line], env=self.env,
                                capture_output=True, timeout=120, check=False)
        shown = result.stdout.decode("utf-8", "replace").lower().replace(
            "hkey_local_machine", "hklm")
        return {key for key in PRODUCT_KEYS if f"{key.lower()}\r\n" in shown}

    def temp_log(self) -> str:
        logs = list(self.drive_c.glob("users/*/Temp/ExamClient-install.log"))
        return logs[0].read_bytes().decode("utf-8") if logs else ""

    def machine(self) -> set[str]:
        """Every file and folder on C: and D: (but the temp folder) and which product keys
        exist: what a refusal must leave as it was."""
        state = {f"key {key}" for key in self.product_keys()}
        for drive in ("c:", "d:"):
            root = (self.path / "dosdevices" / drive).resolve()
            for path in root.rglob("*"):
                relative = path.relative_to(root).as_posix()
                if "/Temp/" not in f"/{relative}/" and not relative.startswith("ucrt/"):
                    state.add(f"{drive}/{relative}")
        return state


def versioned_dll(work: Path, version: str) -> Path:
    """A PE file whose version resource says `version` (what GetDLLVersion reads)."""
    out = work / f"version-{version}.dll"
    source = work / f"version-{version}.nsi"
    source.write_text(
        'Unicode true\nOutFile "${OUTFILE}"\nSilentInstall silent\n'
        f'RequestExecutionLevel user\nVIProductVersion "{version}"\n'
        f'VIFileVersion "{version}"\n'
        'VIAddVersionKey /LANG=1033 "FileDescription" "Microsoft C Runtime Library"\n'
        f'VIAddVersionKey /LANG=1033 "FileVersion" "{version}"\n'
        'Section\nSectionEnd\n', encoding="utf-8")
    nsis(source, out)
    return out


@dataclass
class Machines:
    x64: Prefix
    x86: Prefix
    work: Path


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machines]:
    work = tmp_path_factory.mktemp("wine-refusals")
    display = next(n for n in range(120, 220) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    xvfb = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", "800x600x24",
                             "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
    # LC_ALL: wine then reports a Chinese UI language and the installer speaks Chinese
    base = {**os.environ, "WINEDEBUG": "-all", "LANG": "C.UTF-8", "LC_ALL": "zh_CN.UTF-8",
            "DISPLAY": f":{display}", "WINEDLLOVERRIDES": "mscoree,mshtml="}
    prefixes: list[Prefix] = []
    try:
        payload = work / "payload"
        (payload / "_internal" / "resources").mkdir(parents=True)
        (payload / "_internal" / "resources" / "model.bin").write_bytes(os.urandom(1 << 16))
        (payload / "ExamClient.exe").write_bytes(b"MZ gui")
        (payload / "ExamClient-console.exe").write_bytes(b"MZ console")
        nsis(SCRIPT, work / "setup.exe", "-DVERSION=0.1.0", f"-DPAYLOAD={payload}")
        nsis(SCRIPT, work / "setup-ucrt.exe", "-DVERSION=0.1.0", f"-DPAYLOAD={payload}",
             rf"-DUCRT_DLL=C:\ucrt\{UCRT_FILE}")
        for name, arch in (("x64", "win64"), ("x86", "win32")):
            env = {**base, "WINEPREFIX": str(work / name), "WINEARCH": arch}
            subprocess.run(["wineboot", "--init"], env=env, capture_output=True,
                           timeout=300, check=True)
            prefix = Prefix(work / name, env)
            prefixes.append(prefix)
            (work / f"{name}-disk-d").mkdir()  # a second internal disk, as in exam rooms
            (prefix.path / "dosdevices" / "d:").symlink_to(work / f"{name}-disk-d")
            (prefix.drive_c / "ucrt").mkdir()
            shutil.copyfile(work / "setup.exe", prefix.drive_c / "ExamClient-Setup.exe")
            shutil.copyfile(work / "setup-ucrt.exe",
                            prefix.drive_c / "ExamClient-Setup-ucrt.exe")
        yield Machines(prefixes[0], prefixes[1], work)
    finally:
        for prefix in prefixes:
            subprocess.run(["wineserver", "-k"], env=prefix.env, capture_output=True,
                           timeout=60, check=False)
        xvfb.terminate()
        xvfb.wait(timeout=10)


def refused(prefix: Prefix, setup: str, code: int, *why: str) -> None:
    """Run the installer silently; it must exit with `code`, change nothing and log why."""
    before = prefix.machine()
    log_before = prefix.temp_log()
    assert prefix.run(setup, "/S") == code
    assert prefix.machine() == before
    added = prefix.temp_log()[len(log_before):]
    assert added.startswith(f"[0.1.0] exit {code}: "), added
    for words in why:
        assert words in added, (words, added)
    assert "安装已取消" in added


def test_windows_7_is_refused_with_the_supported_versions_and_why(
        machines: Machines) -> None:
    machines.x64.windows_version("win7")
    refused(machines.x64, SETUP, 3, "Windows 10 或 Windows 11（64 位）", "Qt 6",
            "没有复制任何文件")
    machines.x64.windows_version("win81")
    refused(machines.x64, SETUP, 3, "Windows 7/8")


def test_32_bit_windows_10_is_refused(machines: Machines) -> None:
    machines.x86.windows_version("win10")
    refused(machines.x86, SETUP, 4, "64 位 Windows", "32 位")


def test_a_missing_or_old_ucrt_is_refused_and_a_current_one_installs(
        machines: Machines) -> None:
    x64 = machines.x64
    x64.windows_version("win10")
    dll = x64.drive_c / "ucrt" / UCRT_FILE
    dll.unlink(missing_ok=True)
    refused(x64, UCRT_SETUP, 8, "缺少通用 C 运行库", "ucrtbase.dll", "sfc /scannow")

    shutil.copyfile(versioned_dll(machines.work, "10.0.10240.16384"), dll)  # Windows 10 1507
    refused(x64, UCRT_SETUP, 8, "版本过旧", "10.0.14393", "本机版本：10.0.10240.16384")

    # The same installer on the same machine with a current UCRT installs: the refusals
    # above came from the UCRT alone, and an installation does show in machine().
    shutil.copyfile(versioned_dll(machines.work, "10.0.19041.1"), dll)
    before = x64.machine()
    assert x64.run(UCRT_SETUP, "/S") == 0
    after = x64.machine()
    assert {f"key {key}" for key in PRODUCT_KEYS} <= after - before
    assert "c:/Program Files/ExamClient/ExamClient.exe" in after - before
    assert "d:/ExamClientData" in after - before
