"""The installer, compiled with a small payload, run under wine with the documented command
lines: what it writes (user.ini, shortcuts, registry, log), what an upgrade keeps, the exit
codes, the data drive it picks, the synchronous silent uninstall and /PURGE's limits.
Not testable under wine: a removable or USB disk (wine presents every mapped folder as an
internal fixed disk and has no IOCTL_STORAGE_QUERY_PROPERTY bus type), so the installer's
internal-disk check (Function IsInternalDisk) is only exercised on the answering path.

Wine (Debian's wine + wine32, scripts/setup.sh) runs the real 32-bit NSIS installer on a
virtual X display; the prefix is made once per module (~40 s) and reports Windows 10.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from client.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "installer" / "exam-client.nsi"
TOOLS = ("wine", "makensis", "Xvfb")
MISSING = [tool for tool in TOOLS if shutil.which(tool) is None]
if MISSING and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the installer under wine; missing {MISSING} "
                       "(scripts/setup.sh installs them)")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(MISSING), reason=f"missing {MISSING}")]

INSTALL = r"C:\Program Files\ExamClient"


@dataclass
class Wine:
    prefix: Path
    env: dict[str, str]
    setup: str  # Windows path of the compiled installer
    sleeper: str  # Windows path of a program that stays running for a while

    def unix(self, windows_path: str) -> Path:
        drive, rest = windows_path[0].lower(), windows_path[3:]
        return (self.prefix / "dosdevices" / f"{drive}:").resolve() / rest.replace("\\", "/")

    def run(self, *args: str, timeout: float = 120) -> int:
        """Run a Windows program; wine returns its exit code when it has finished."""
        result = subprocess.run(["wine", *args], env=self.env, capture_output=True,
                                timeout=timeout, check=False)
        return result.returncode

    def install(self, *options: str) -> int:
        return self.run(self.setup, "/S", *options)

    def cmd(self, line: str) -> int:
        """A command line exactly as typed in cmd.exe, quotes and all: run from a batch
        file (wine would re-quote it as an argument). Wine's cmd reads batch files in the
        OEM code page, so these lines are ASCII; Chinese values go through install()."""
        assert line.isascii(), line
        batch = self.prefix / "drive_c" / "command-line.bat"
        batch.write_bytes(f"@{line}\r\n@exit /b %ERRORLEVEL%\r\n".encode("ascii"))
        return self.run("cmd", "/c", r"C:\command-line.bat")

    def reg(self, key: str, value: str) -> str | None:
        result = subprocess.run(["wine", "reg", "query", key, "/v", value, "/reg:64"],
                                env=self.env, capture_output=True, text=True, timeout=60,
                                check=False)
        for line in result.stdout.splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and parts[0].lower() == value.lower():
                return parts[2].strip()
        return None

    def user_ini(self) -> Path:
        return self.unix(INSTALL + r"\user.ini")

    def uninstall(self, *options: str) -> int:
        # The documented synchronous form: the uninstaller runs in place (_?=), so the
        # command returns when it has finished.
        return self.cmd(f'"{INSTALL}\\uninstall.exe" /S {" ".join(options)} _?={INSTALL}')


def nsis(source: str, out: Path, *defines: str) -> None:
    result = subprocess.run(["makensis", "-V2", *defines, f"-DOUTFILE={out}", source],
                            cwd=SCRIPT.parent, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wine]:
    work = tmp_path_factory.mktemp("wine")
    display = next(n for n in range(120, 220) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    xvfb = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", "800x600x24",
                             "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
    env = {**os.environ, "WINEPREFIX": str(work / "prefix"), "WINEDEBUG": "-all",
           "LANG": "C.UTF-8",  # command lines with Chinese reach the installer intact
           "DISPLAY": f":{display}", "WINEDLLOVERRIDES": "mscoree,mshtml="}
    try:
        subprocess.run(["wineboot", "--init"], env=env, capture_output=True, timeout=300,
                       check=True)
        # Windows 10 (Wine's default prefix says Windows 7, which the installer refuses)
        subprocess.run(["wine", "reg", "add", r"HKCU\Software\Wine", "/v", "Version", "/d",
                        "win10", "/f"], env=env, capture_output=True, timeout=60, check=True)
        # D: is a second internal disk, as in the exam rooms
        (work / "disk-d").mkdir()
        (work / "prefix" / "dosdevices" / "d:").symlink_to(work / "disk-d")
        payload = work / "payload"
        (payload / "_internal" / "resources").mkdir(parents=True)
        (payload / "_internal" / "resources" / "model.bin").write_bytes(os.urandom(1 << 16))
        (payload / "ExamClient.exe").write_bytes(b"MZ gui")
        (payload / "ExamClient-console.exe").write_bytes(b"MZ console")
        c_drive = work / "prefix" / "drive_c"
        nsis(str(SCRIPT), c_drive / "ExamClient-Setup.exe", "-DVERSION=0.1.0",
             f"-DPAYLOAD={payload}")
        sleeper = work / "sleeper.nsi"
        sleeper.write_text('Unicode true\nOutFile "${OUTFILE}"\nSilentInstall silent\n'
                           'RequestExecutionLevel user\nSection\n  Sleep 60000\nSectionEnd\n',
                           encoding="utf-8")
        nsis(str(sleeper), c_drive / "sleeper.exe")
        yield Wine(work / "prefix", env, r"C:\ExamClient-Setup.exe", r"C:\sleeper.exe")
    finally:
        subprocess.run(["wineserver", "-k"], env=env, capture_output=True, timeout=60,
                       check=False)
        xvfb.terminate()
        xvfb.wait(timeout=10)


def read_log(wine: Wine, folder: str) -> str:
    return wine.unix(folder + r"\ExamClient-install.log").read_bytes().decode("utf-8")


def test_documented_command_lines_and_an_upgrade_that_keeps_them(
        wine: Wine, tmp_path: Path) -> None:
    # docs/deploy.md and installer/README.md, verbatim
    center = wine.unix(r"C:\center")
    center.mkdir(parents=True)
    (center / "center.ini").write_text(
        "[server]\nurl = https://center.example.edu.cn\nca_file = center-ca.pem\n",
        encoding="utf-8")
    (center / "center-ca.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    assert wine.cmd(r'C:\ExamClient-Setup.exe /S /SERVER=https://exam.example.edu.cn '
                    r'/CENTER=4401001 /CONFIG=C:\center\center.ini /RENDERLEVEL=0') == 0
    first = load_settings([wine.user_ini()])
    assert first.get("server/url") == "https://exam.example.edu.cn"  # not "https:"
    assert first.get("server/center_id") == "4401001"
    assert first.get("OpenGL/Level") == "0"
    assert str(first.get("data/directory")) == r"D:\ExamClientData"  # the second disk
    assert str(first.get("server/ca_file")).endswith("center-ca.pem")
    assert wine.unix(INSTALL + r"\center-ca.pem").is_file()  # relative to center.ini
    assert wine.unix(r"C:\ProgramData\ExamClient\user.ini").is_file()

    # Chinese shortcut names, although this installer ran with an English UI
    start_menu = wine.unix(r"C:\ProgramData\Microsoft\Windows\Start Menu\Programs\考试客户端")
    assert sorted(p.name for p in start_menu.iterdir()) == ["考前检查.lnk", "考试客户端.lnk"]
    assert wine.unix(r"C:\users\Public\Desktop\考试客户端.lnk").is_file()
    assert wine.unix(INSTALL + r"\exam-client.ico").is_file()

    # A plain silent upgrade keeps every earlier setting
    assert wine.install() == 0
    upgraded = load_settings([wine.user_ini()])
    for name in ("server/url", "server/center_id", "OpenGL/Level", "data/directory",
                 "server/ca_file"):
        assert upgraded.get(name) == first.get(name), name

    log = read_log(wine, "D:")
    assert "installed 0.1.0, exit code 0" in log
    assert log.count("installer started") == 2


@pytest.mark.parametrize("line", [
    r'C:\ExamClient-Setup.exe /S /DATADIR="D:\Exam Data" /SERVER=https://exam.example.edu.cn',
    r'C:\ExamClient-Setup.exe /S "/DATADIR=D:\Exam Data" /SERVER=https://exam.example.edu.cn',
])
def test_quoted_values_with_spaces(wine: Wine, line: str) -> None:
    assert wine.cmd(line) == 0
    settings = load_settings([wine.user_ini()])
    assert str(settings.get("data/directory")) == r"D:\Exam Data"
    assert settings.get("server/url") == "https://exam.example.edu.cn"
    assert wine.unix(r"D:\Exam Data").is_dir()
    assert wine.install(r"/DATADIR=D:\ExamClientData") == 0


def test_a_chinese_data_folder_and_the_utf8_log(wine: Wine) -> None:
    # one argument: wine passes it as "/DATADIR=D:\考试 数据" (quoted, UTF-16)
    assert wine.install("/DATADIR=D:\\考试 数据") == 0
    assert str(load_settings([wine.user_ini()]).get("data/directory")) == "D:\\考试 数据"
    assert wine.unix("D:\\考试 数据").is_dir()
    assert "data folder: D:\\考试 数据" in read_log(wine, "D:")  # decoded as UTF-8
    assert wine.install(r"/DATADIR=D:\ExamClientData") == 0


@pytest.mark.parametrize(("option", "code"), [
    ("/SERVER=ftp://exam.example.edu.cn", 6), ("/SERVER=exam.example.edu.cn", 6),
    ("/CENTER=44 01", 6), ("/RENDERLEVEL=3", 6), (r"/DATADIR=ExamClientData", 6),
    (r"/CAFILE=C:\no\such.pem", 5), (r"/CONFIG=C:\no\center.ini", 5),
])
def test_invalid_values_are_refused_before_anything_changes(
        wine: Wine, option: str, code: int) -> None:
    before = wine.user_ini().read_bytes() if wine.user_ini().exists() else None
    assert wine.install(option) == code
    after = wine.user_ini().read_bytes() if wine.user_ini().exists() else None
    assert before == after


def test_data_folder_on_the_system_drive_has_its_own_exit_code(wine: Wine) -> None:
    assert wine.install(r"/DATADIR=C:\ExamData") == 9
    assert str(load_settings([wine.user_ini()]).get("data/directory")) == r"C:\ExamData"
    assert "exit code 9" in read_log(wine, "C:")
    assert wine.install(r"/DATADIR=D:\ExamClientData") == 0


def test_a_running_client_is_not_replaced(wine: Wine) -> None:
    exe = wine.unix(INSTALL + r"\ExamClient.exe")
    marker = wine.unix(INSTALL + r"\_internal\still-here.txt")
    marker.write_text("from the running version", encoding="utf-8")
    shutil.copyfile(wine.unix(wine.sleeper), exe)
    running = subprocess.Popen(["wine", INSTALL + r"\ExamClient.exe"], env=wine.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        assert wine.install() == 10
        assert marker.is_file()  # _internal untouched
    finally:
        running.kill()
        running.wait()
        subprocess.run(["wine", "taskkill", "/f", "/im", "ExamClient.exe"], env=wine.env,
                       capture_output=True, timeout=60, check=False)
    time.sleep(1)
    assert wine.install() == 0
    assert not marker.exists()


def test_silent_uninstall_is_synchronous_and_purge_deletes_only_its_own_folder(
        wine: Wine) -> None:
    assert wine.install(r"/DATADIR=D:\ExamClientData") == 0
    answers = wine.unix(r"D:\ExamClientData\answers.db")
    answers.write_bytes(b"store")
    assert wine.uninstall() == 0
    # returned only when done: program files gone, data kept
    assert not wine.unix(INSTALL + r"\_internal").exists()
    assert not wine.unix(INSTALL + r"\user.ini").exists()
    assert answers.is_file()
    assert wine.reg(r"HKLM\Software\ExamClient", "DataDir") is None

    # /PURGE deletes a data folder this installer created ...
    assert wine.install(r"/DATADIR=D:\NewData") == 0
    assert wine.uninstall("/PURGE") == 0
    assert not wine.unix(r"D:\NewData").exists()

    # ... but not one that existed before (an admin pointed /DATADIR at a used folder)
    shared = wine.unix(r"D:\Shared")
    shared.mkdir()
    (shared / "someone-else.txt").write_text("keep me", encoding="utf-8")
    assert wine.install(r"/DATADIR=D:\Shared") == 0
    assert wine.uninstall("/PURGE") == 0
    assert (shared / "someone-else.txt").is_file()
    assert "D:\\Shared" in read_log(wine, "D:")
