"""installer/exam-client.nsi compiles with makensis (Debian's nsis package), and its
command line, exit codes and user.ini output agree with the docs and the client's loader."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from client.config import SETTINGS, load_settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "installer" / "exam-client.nsi"
README = ROOT / "installer" / "README.md"

makensis = shutil.which("makensis")
needs_makensis = pytest.mark.skipif(makensis is None,
                                    reason="makensis not installed (apt-get install -y nsis)")


def payload(folder: Path) -> Path:
    """What PyInstaller's dist/ExamClient/ looks like, with 1 MB that does not compress."""
    (folder / "_internal" / "resources" / "fonts").mkdir(parents=True)
    (folder / "ExamClient.exe").write_bytes(b"MZ gui")
    (folder / "ExamClient-console.exe").write_bytes(b"MZ console")
    (folder / "_internal" / "resources" / "fonts" / "字体.otf").write_bytes(os.urandom(1 << 20))
    return folder


def compile_installer(tmp_path: Path, payload_dir: Path) -> subprocess.CompletedProcess[str]:
    assert makensis is not None
    return subprocess.run(
        [makensis, "-V2", "-DVERSION=0.1.0", f"-DPAYLOAD={payload_dir}",
         f"-DOUTFILE={tmp_path / 'ExamClient-Setup.exe'}", str(SCRIPT)],
        cwd=SCRIPT.parent, capture_output=True, text=True, timeout=120, check=False)


@needs_makensis
def test_the_installer_compiles_with_the_payload(tmp_path: Path) -> None:
    result = compile_installer(tmp_path, payload(tmp_path / "dist"))
    assert result.returncode == 0, result.stdout + result.stderr
    setup = tmp_path / "ExamClient-Setup.exe"
    assert setup.read_bytes()[:2] == b"MZ"
    assert setup.stat().st_size > 1 << 20  # the payload is inside


@needs_makensis
def test_a_missing_payload_fails_the_build(tmp_path: Path) -> None:
    result = compile_installer(tmp_path, tmp_path / "no-such-dist")
    assert result.returncode != 0
    assert not (tmp_path / "ExamClient-Setup.exe").exists()


def script() -> str:
    return SCRIPT.read_text(encoding="utf-8")


def test_every_documented_option_is_parsed() -> None:
    text = script()
    documented = set(re.findall(r"^;\s+(/[A-Z]+)=", text, re.MULTILINE))
    parsed = set(re.findall(r'!insertmacro GetOption \$R0 "(/[A-Z]+)="', text))
    assert documented == parsed == {"/CONFIG", "/SERVER", "/CENTER", "/CAFILE", "/DATADIR",
                                    "/RENDERLEVEL"}
    readme = README.read_text(encoding="utf-8")
    for option in parsed | {"/S", "/D", "/PURGE"}:
        assert option in readme, option


def test_exit_codes_in_the_header_match_the_script() -> None:
    text = script()
    defined = {int(v) for v in re.findall(r"^!define EXIT_\w+ (\d+)$", text, re.MULTILINE)}
    header = re.search(r"^; Exit codes: (.+?)\n; Uninstaller", text, re.MULTILINE | re.DOTALL)
    assert header is not None
    documented = {int(code) for code in re.findall(r"(\d+) [a-zA-Z/]", header.group(1))}
    assert defined <= documented
    assert {3, 4} <= defined  # old Windows and 32-bit Windows refuse before copying


def test_windows_version_is_checked_before_any_file_is_copied() -> None:
    text = script()
    on_init = text.index("Function .onInit")
    assert text.index("${IfNot} ${AtLeastWin10}", on_init) < text.index("${IfNot} ${RunningX64}")
    assert "File /r" not in text[on_init:text.index("FunctionEnd", on_init)]


def overrides_as_written(values: dict[str, str]) -> str:
    """The lines Function WriteOverrides writes, with the installer's variables filled in."""
    text = script()
    body = text[text.index("Function WriteOverrides"):]
    body = body[:body.index("FunctionEnd")]
    lines: list[str] = []
    condition_ok = True
    for raw in body.splitlines():
        line = raw.strip()
        test = re.match(r'\$\{If\} \$(\w+) != ""', line)
        if test:
            condition_ok = bool(values.get(test.group(1)))
        elif line == "${EndIf}":
            condition_ok = True
        written = re.match(r'!insertmacro WriteUTF8Line \$R0 "(.*)"$', line)
        if written and condition_ok:
            lines.append(re.sub(r"\$(\w+)", lambda m: values[m.group(1)], written.group(1)))
    return "\r\n".join(lines) + "\r\n"


def test_the_user_ini_the_installer_writes_loads_in_the_client(tmp_path: Path) -> None:
    values = {"ServerUrl": "https://exam.example.edu.cn", "CenterId": "4401001",
              "CaFile": r"\\share\ca.pem", "INSTDIR": r"C:\Program Files\ExamClient",
              "DataDir": r"D:\考试数据", "RenderLevel": "0"}
    # installer.ini in the machine config folder, the CA file copied beside it: both
    # trusted with the server's trust anchors (client.config.loader.trusted_config_paths).
    ini = tmp_path / "ProgramData" / "ExamClient" / "installer.ini"
    ini.parent.mkdir(parents=True)
    (ini.parent / "center-ca.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    ini.write_bytes(overrides_as_written(values).encode("utf-8"))  # the macro writes UTF-8
    settings = load_settings([ini], trusted=[ini])
    assert not settings.problems
    assert settings.get("server/url") == "https://exam.example.edu.cn"
    assert settings.get("server/center_id") == "4401001"
    assert str(settings.get("data/directory")).endswith("考试数据")
    assert settings.get("OpenGL/Level") == "0"
    assert settings.get("server/ca_file") == ini.parent / "center-ca.pem"
    # Options not given leave their keys out, so center.ini's values stand.
    partial = tmp_path / "partial.ini"
    partial.write_bytes(overrides_as_written({**values, "ServerUrl": "", "CenterId": "",
                                              "CaFile": "", "RenderLevel": ""}).encode())
    assert set(load_settings([partial]).sources) == {"data/directory"}


def test_installer_keys_are_declared_settings() -> None:
    declared = {s.name for s in SETTINGS}
    text = script()
    read = {f"{section}/{key}" for section, key in
            re.findall(r'ReadINIStr \$\w+ \$ConfigFile "(\w+)" "(\w+)"', text)}
    assert read == {"data/directory", "server/ca_file"}
    assert read <= declared
    assert {"server/url", "server/center_id", "server/ca_file", "data/directory",
            "OpenGL/Level"} <= declared
