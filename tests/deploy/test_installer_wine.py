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
import re
import shutil
import subprocess
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from wine_support import ROOT, SCRIPT, WINE_MARKS, nsis

from client.config import Settings, load_settings

pytestmark = WINE_MARKS

INSTALL = r"C:\Program Files\ExamClient"
MACHINE = r"C:\ProgramData\ExamClient"  # admin-only: the server's trust anchors


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

    def batch(self, lines: list[str]) -> tuple[int, list[str]]:
        """Lines run as a batch file in cmd.exe (ASCII: wine's cmd reads batch files in the
        OEM code page): its exit code and what it printed."""
        assert all(line.isascii() for line in lines), lines
        batch = self.prefix / "drive_c" / "documented.bat"
        body = "".join(f"@{line}\r\n" for line in lines) + "@exit /b %ERRORLEVEL%\r\n"
        batch.write_bytes(body.encode("ascii"))
        result = subprocess.run(["wine", "cmd", "/c", r"C:\documented.bat"], env=self.env,
                                capture_output=True, text=True, timeout=180, check=False)
        return result.returncode, [line.strip() for line in result.stdout.splitlines()]

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
        """The installer's options: machine-wide, beside the center's user.ini."""
        return self.unix(MACHINE + r"\installer.ini")

    def settings(self) -> Settings:
        """What the client reads: both machine-wide files, trusted with the server's
        trust anchors (client.config.loader.trusted_config_paths)."""
        files = [self.user_ini(), self.unix(MACHINE + r"\user.ini")]
        return load_settings(files, trusted=files)

    def uninstall(self, *options: str) -> int:
        # The documented synchronous form: the uninstaller runs in place (_?=), so the
        # command returns when it has finished.
        return self.cmd(f'"{INSTALL}\\uninstall.exe" /S {" ".join(options)} _?={INSTALL}')


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
    # the options of docs/deploy.md and installer/README.md (their exact lines: below)
    center = wine.unix(r"C:\center")
    center.mkdir(parents=True)
    (center / "center.ini").write_text(
        "[server]\nurl = https://center.example.edu.cn\nca_file = center-ca.pem\n",
        encoding="utf-8")
    (center / "center-ca.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    assert wine.cmd(r'C:\ExamClient-Setup.exe /S /SERVER=https://exam.example.edu.cn '
                    r'/CENTER=4401001 /CONFIG=C:\center\center.ini /RENDERLEVEL=0') == 0
    first = wine.settings()
    assert first.get("server/url") == "https://exam.example.edu.cn"  # not "https:"
    assert first.get("server/center_id") == "4401001"
    assert first.get("OpenGL/Level") == "0"
    assert str(first.get("data/directory")) == r"D:\ExamClientData"  # the second disk
    assert str(first.get("server/ca_file")).endswith("center-ca.pem")
    # The trust anchors land in the admin-only machine folder, the CA file beside them
    # (found relative to center.ini), nothing beside the program (a portable copy's
    # folder may be writable, so the client ignores the server there).
    assert first.get("server/ca_file") == wine.unix(MACHINE + r"\center-ca.pem")
    assert not first.problems
    assert wine.unix(r"C:\ProgramData\ExamClient\user.ini").is_file()
    assert not wine.unix(INSTALL + r"\user.ini").exists()
    assert not wine.unix(INSTALL + r"\center-ca.pem").exists()
    assert "url = https://exam.example.edu.cn" in wine.user_ini().read_text(encoding="utf-8")
    assert "config folder: C:\\ProgramData\\ExamClient (Administrators, SYSTEM: full; " \
        "Users: read)" in read_log(wine, "D:")

    # Chinese shortcut names, although this installer ran with an English UI
    start_menu = wine.unix(r"C:\ProgramData\Microsoft\Windows\Start Menu\Programs\考试客户端")
    assert sorted(p.name for p in start_menu.iterdir()) == ["考前检查.lnk", "考试客户端.lnk"]
    assert wine.unix(r"C:\users\Public\Desktop\考试客户端.lnk").is_file()
    assert wine.unix(INSTALL + r"\exam-client.ico").is_file()

    # A plain silent upgrade keeps every earlier setting
    assert wine.install() == 0
    upgraded = wine.settings()
    for name in ("server/url", "server/center_id", "OpenGL/Level", "data/directory",
                 "server/ca_file"):
        assert upgraded.get(name) == first.get(name), name

    log = read_log(wine, "D:")
    assert "installed 0.1.0, exit code 0" in log
    assert log.count("installer started") == 2


def test_an_upgrade_moves_the_server_out_of_the_program_folder(wine: Wine) -> None:
    """Before, /SERVER and /CAFILE went to <install dir>\\user.ini, a file the client no
    longer trusts: an upgrade removes it, and a file planted in the machine folder (any
    user could create one in a new ProgramData folder) is replaced."""
    assert wine.install("/SERVER=https://exam.example.edu.cn") == 0
    wine.unix(INSTALL + r"\user.ini").write_text("[server]\nurl = https://old.example\n",
                                                 encoding="utf-8")
    wine.user_ini().write_text("[server]\nurl = https://127.0.0.1:8443\n", encoding="utf-8")
    assert wine.install() == 0
    assert not wine.unix(INSTALL + r"\user.ini").exists()
    assert wine.settings().get("server/url") == "https://exam.example.edu.cn"


@pytest.mark.parametrize("line", [
    r'C:\ExamClient-Setup.exe /S /DATADIR="D:\Exam Data" /SERVER=https://exam.example.edu.cn',
    r'C:\ExamClient-Setup.exe /S "/DATADIR=D:\Exam Data" /SERVER=https://exam.example.edu.cn',
])
def test_quoted_values_with_spaces(wine: Wine, line: str) -> None:
    assert wine.cmd(line) == 0
    settings = wine.settings()
    assert str(settings.get("data/directory")) == r"D:\Exam Data"
    assert settings.get("server/url") == "https://exam.example.edu.cn"
    assert wine.unix(r"D:\Exam Data").is_dir()
    assert wine.install(r"/DATADIR=D:\ExamClientData") == 0


def test_a_chinese_data_folder_and_the_utf8_log(wine: Wine) -> None:
    # one argument: wine passes it as "/DATADIR=D:\考试 数据" (quoted, UTF-16)
    assert wine.install("/DATADIR=D:\\考试 数据") == 0
    assert str(wine.settings().get("data/directory")) == "D:\\考试 数据"
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
    assert str(wine.settings().get("data/directory")) == r"C:\ExamData"
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


# -- the installer command lines of the admin documentation, run as written ----------------
#
# Read from docs/deploy.md (both languages) and installer/README.md when the tests are
# collected: a line added or changed there is run here. Under wine two things differ from a
# Windows room, and only these are adapted: the installer program itself is started from a
# local copy (wine's cmd cannot start a program from a UNC path; the /CONFIG=\\server\...
# argument stays a UNC path, which wine reads through dosdevices/unc/), and a line with
# Chinese characters is passed as arguments instead of a batch file (wine's cmd reads batch
# files in the OEM code page).

DOCS = (ROOT / "docs" / "deploy.md", ROOT / "installer" / "README.md")
BAT_BLOCK = re.compile(r"^([ \t]*)```bat\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
INSTALL_FOLDER_OPTION = re.compile(r"`(/D=[^`]+)`")
SETUP = re.compile(r"^(?P<share>\\\\(?P<server>[^\\]+)\\(?P<folder>[^\\]+)\\)?"
                   r"(?P<program>ExamClient-Setup-[\d.]+\.exe) ")
UNINSTALL = re.compile(r'^"C:\\Program Files\\ExamClient\\uninstall\.exe" ')
START_WAIT = re.compile(r'^start /wait "" (?P<program>\S+) (?P<options>.*)$')
LOCAL_DEPLOY = r"C:\deploy"
CENTER_INI = "[server]\nurl = https://center.example.edu.cn\ncenter_id = 4401001\n"


def documented(pattern: re.Pattern[str]) -> list[Any]:
    """The documented text *pattern* finds (group 1 for inline options, else the block),
    one case per distinct text, its id the places it is written."""
    places: dict[str, list[str]] = {}
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in pattern.finditer(text):
            body = textwrap.dedent(match.group(2)).strip() if pattern is BAT_BLOCK \
                else match.group(1)
            line = text.count("\n", 0, match.start()) + 1
            places.setdefault(body, []).append(f"{doc.relative_to(ROOT).as_posix()}:{line}")
    return [pytest.param(body, id="+".join(where)) for body, where in places.items()]


def setup_line(block: str) -> re.Match[str]:
    match = SETUP.match(block)
    assert match is not None, block
    return match


BLOCKS = documented(BAT_BLOCK)
SETUP_BLOCKS = [case for case in BLOCKS if SETUP.match(case.values[0])]
UNINSTALL_BLOCKS = [case for case in BLOCKS if UNINSTALL.match(case.values[0])]
START_WAIT_BLOCKS = [case for case in BLOCKS
                     if START_WAIT.match(case.values[0].splitlines()[0])]
INSTALL_FOLDER_OPTIONS = documented(INSTALL_FOLDER_OPTION)


def test_the_documentation_shows_each_kind_of_installer_command() -> None:
    """The cases below come from the docs: an edit that no longer matches them would
    silently test nothing."""
    setups = [SETUP.match(case.values[0]) for case in SETUP_BLOCKS]
    assert {match.group("server") for match in setups if match} >= {"server", "考点服务器"}
    assert any(match and not match.group("share") for match in setups)  # options only
    assert any("/RENDERLEVEL=auto" in case.values[0] for case in SETUP_BLOCKS)
    assert UNINSTALL_BLOCKS and START_WAIT_BLOCKS
    assert [case.values[0] for case in INSTALL_FOLDER_OPTIONS] == [
        r"/D=C:\Program Files\ExamClient"]
    # every documented line that starts the installer or the uninstaller is one of these
    runs_installer = [case for case in BLOCKS
                      if re.search(r"ExamClient-Setup-[\d.]+\.exe /|uninstall\.exe\" /|"
                                   r"^start /wait", case.values[0], re.MULTILINE)]
    assert sorted(case.id for case in runs_installer) == sorted(
        case.id for case in SETUP_BLOCKS + UNINSTALL_BLOCKS + START_WAIT_BLOCKS)


@pytest.fixture
def deploy_share(wine: Wine) -> Path:
    """C:\\deploy with the installer under its documented name and a center.ini, also
    reachable as \\\\<server>\\deploy for every server name the docs use."""
    folder = wine.unix(LOCAL_DEPLOY)
    folder.mkdir(exist_ok=True)
    for case in SETUP_BLOCKS:
        match = setup_line(case.values[0])
        shutil.copyfile(wine.unix(wine.setup), folder / match.group("program"))
        if match.group("share"):
            unc = wine.prefix / "dosdevices" / "unc" / match.group("server")
            unc.mkdir(parents=True, exist_ok=True)
            if not (unc / match.group("folder")).exists():
                (unc / match.group("folder")).symlink_to(folder)
    (folder / "center.ini").write_text(CENTER_INI, encoding="utf-8")
    return folder


def run_documented(wine: Wine, block: str) -> tuple[int, list[str]]:
    """The block's lines in cmd.exe, the installer started from the local copy."""
    first, *rest = block.splitlines()
    match = setup_line(first)
    local = first.replace(match.group(0), f"{LOCAL_DEPLOY}\\{match.group('program')} ", 1)
    if local.isascii():
        return wine.batch([local, *rest])
    # No quotes in these lines (asserted): wine passes each word unchanged.
    assert '"' not in local and rest in ([], ["echo %ERRORLEVEL%"]), block
    code = wine.run(*local.split(" "))
    return code, [str(code)] if rest else []


@pytest.mark.parametrize("block", SETUP_BLOCKS)
def test_documented_setup_commands(wine: Wine, deploy_share: Path, block: str) -> None:
    code, printed = run_documented(wine, block)
    assert code == 0, printed
    if "echo %ERRORLEVEL%" in block:
        assert printed[-1:] == ["0"]
    if "/CONFIG=" in block:  # the center's file, copied unchanged as the machine-wide file
        assert wine.unix(r"C:\ProgramData\ExamClient\user.ini").read_text(
            encoding="utf-8") == CENTER_INI
    settings = wine.settings()
    for option, setting in (("SERVER", "server/url"), ("CENTER", "server/center_id"),
                            ("DATADIR", "data/directory"), ("RENDERLEVEL", "OpenGL/Level")):
        given = re.search(rf"/{option}=(\S+)", block)
        if given:
            assert str(settings.get(setting)) == given.group(1), option


@pytest.mark.parametrize("option", INSTALL_FOLDER_OPTIONS)
def test_the_documented_install_folder_option_ends_the_line(
        wine: Wine, deploy_share: Path, option: str) -> None:
    """/D= last on the documented options line: its spaces and backslashes reach NSIS,
    and the option before it (/RENDERLEVEL=auto) keeps its value."""
    [line] = [case.values[0] for case in SETUP_BLOCKS
              if not setup_line(case.values[0]).group("share")]
    code, printed = run_documented(wine, f"{line} {option}")
    assert code == 0, printed
    folder = option.removeprefix("/D=")
    assert wine.unix(folder + r"\ExamClient.exe").is_file()
    assert wine.settings().get("OpenGL/Level") == "auto"
    assert not wine.unix(folder + r"\user.ini").exists()


@pytest.mark.parametrize("block", START_WAIT_BLOCKS)
def test_the_documented_synchronous_run_reports_the_installers_exit_code(
        wine: Wine, deploy_share: Path, block: str) -> None:
    """The placeholders (the installer's name, "...") are filled with an invalid option:
    the printed code must be the installer's 6, not the 0 cmd had before it ran (which a
    one-line `... & echo %ERRORLEVEL%` printed)."""
    first, *rest = block.splitlines()
    match = START_WAIT.match(first)
    assert match is not None and rest == ["echo %ERRORLEVEL%"], block
    program = f"{LOCAL_DEPLOY}\\{setup_line(SETUP_BLOCKS[0].values[0]).group('program')}"
    options = match.group("options").replace("...", "/RENDERLEVEL=3")
    line = first.replace(match.group("program"), program, 1).replace(
        match.group("options"), options, 1)
    assert wine.batch(["ver > nul"]) == (0, [])  # ERRORLEVEL is 0 before
    code, printed = wine.batch([line, *rest])
    assert printed[-1:] == ["6"]
    assert code == 6


@pytest.mark.parametrize("block", UNINSTALL_BLOCKS)
def test_the_documented_uninstall_commands_remove_the_program(
        wine: Wine, deploy_share: Path, block: str) -> None:
    assert wine.install(r"/DATADIR=D:\ExamClientData") == 0
    answers = wine.unix(r"D:\ExamClientData\answers.db")
    answers.write_bytes(b"store")
    code, printed = wine.batch(block.splitlines())
    assert code == 0, printed
    assert not wine.unix(INSTALL).exists()  # the block's last line removed the folder
    assert answers.is_file()  # answers kept without /PURGE
