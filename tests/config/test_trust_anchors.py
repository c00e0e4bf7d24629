"""The server's trust anchors (url, ca_file, signing_public_key) come only from the
machine-wide config (issue 16, config bypass): each test failed before.

A candidate who could set them points the PC at a local proxy with their own CA and
rewrites what it sends (integrity reports, identity results) and receives (countdown,
pause, messages).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from client import i18n
from client.config import ProblemKind, load_settings
from client.config.loader import config_search_path, machine_config_path
from client.readiness.config_trust import evaluate_config_trust
from client.readiness.result import Status

DEFAULT_URL = "https://exam.example.invalid"
PROXY = ("[server]\nurl = https://127.0.0.1:8443\nca_file = {ca}\n"
         "signing_public_key = Y2FuZGlkYXRlJ3Mga2V5\n")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    """The admin-only machine config folder, with the center's CA beside user.ini."""
    folder = tmp_path / "ProgramData" / "ExamClient"
    write(folder / "center-ca.pem", "center CA")
    return write(folder / "user.ini", "[server]\nurl = https://exam.school.edu.cn\n"
                 "ca_file = center-ca.pem\nsigning_public_key = c2Nob29sJ3Mga2V5\n")


@pytest.mark.parametrize("where", ["--config my.ini", "user.ini beside the program",
                                   "per-user user.ini"])
def test_candidate_files_cannot_move_the_server(tmp_path: Path, machine: Path,
                                                where: str) -> None:
    candidate = write(tmp_path / "candidate" / "user.ini",
                      PROXY.format(ca=tmp_path / "candidate" / "proxy-ca.pem"))
    files = [machine, candidate] if where.startswith("per-user") else [candidate, machine]
    settings = load_settings(files, trusted=[machine])
    assert settings.get("server/url") == "https://exam.school.edu.cn"
    assert settings.get("server/ca_file") == machine.parent / "center-ca.pem"
    assert settings.get("server/signing_public_key") == "c2Nob29sJ3Mga2V5"
    refused = {(p.key, p.kind) for p in settings.problems}
    if not where.startswith("per-user"):   # below the machine file it is simply shadowed
        assert refused == {(key, ProblemKind.UNTRUSTED)
                           for key in ("url", "ca_file", "signing_public_key")}


def test_without_a_machine_file_the_default_applies_and_is_reported(tmp_path: Path) -> None:
    i18n.set_language("zh_CN")
    candidate = write(tmp_path / "user.ini", PROXY.format(ca=tmp_path / "ca.pem"))
    settings = load_settings([candidate])   # default trust: the real machine-wide files
    assert settings.get("server/url") == DEFAULT_URL
    assert settings.get("server/ca_file") is None
    assert settings.get("server/signing_public_key") == ""
    message = settings.problems[0].message()
    assert str(candidate) in message and "已忽略" in message
    assert str(machine_config_path()) in message


def test_the_exe_dir_file_is_not_trusted_by_default(tmp_path: Path) -> None:
    beside_program = config_search_path()[0]
    assert beside_program.name == "user.ini" and beside_program not in (
        machine_config_path(), machine_config_path().with_name("installer.ini"))


@pytest.mark.parametrize("scheme", ["http", "HTTP", "Http"])
def test_plain_http_is_refused_unless_the_machine_file_allows_it(tmp_path: Path,
                                                                 scheme: str) -> None:
    machine = write(tmp_path / "machine" / "user.ini",
                    f"[server]\nurl = {scheme}://10.0.0.5\n")
    settings = load_settings([machine], trusted=[machine])
    assert settings.get("server/url") == DEFAULT_URL
    assert [p.kind for p in settings.problems] == [ProblemKind.PLAIN_HTTP]

    lab = write(tmp_path / "lab" / "user.ini",
                f"[server]\nurl = {scheme}://10.0.0.5\nallow_plain_http = true\n")
    assert load_settings([lab], trusted=[lab]).get("server/url") == f"{scheme}://10.0.0.5"


def test_a_candidate_cannot_allow_plain_http(tmp_path: Path) -> None:
    machine = write(tmp_path / "machine" / "user.ini", "[server]\nurl = http://10.0.0.5\n")
    candidate = write(tmp_path / "user.ini", "[server]\nallow_plain_http = true\n")
    settings = load_settings([candidate, machine], trusted=[machine])
    assert settings.get("server/url") == DEFAULT_URL
    assert {p.kind for p in settings.problems} == {ProblemKind.UNTRUSTED,
                                                  ProblemKind.PLAIN_HTTP}


def test_a_trusted_file_cannot_point_at_a_ca_the_candidate_can_swap(
        tmp_path: Path, machine: Path) -> None:
    writable = write(tmp_path / "Users" / "Public" / "ca.pem", "candidate CA")
    careless = write(machine.parent / "user.ini", f"[server]\nca_file = {writable}\n")
    settings = load_settings([careless], trusted=[careless])
    assert settings.get("server/ca_file") is None
    assert [p.kind for p in settings.problems] == [ProblemKind.CA_OUTSIDE]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_link_from_the_machine_folder_to_a_writable_ca_is_caught(
        tmp_path: Path, machine: Path) -> None:
    writable = write(tmp_path / "Users" / "Public" / "ca.pem", "candidate CA")
    (machine.parent / "linked-ca.pem").symlink_to(writable)
    careless = write(machine.parent / "user.ini", "[server]\nca_file = linked-ca.pem\n")
    assert load_settings([careless], trusted=[careless]).get("server/ca_file") is None


def test_the_installer_file_beside_the_center_file_is_trusted_and_wins(
        tmp_path: Path, machine: Path) -> None:
    installer = write(machine.with_name("installer.ini"),
                      "[server]\nurl = https://installer.example.edu.cn\n")
    settings = load_settings([installer, machine], trusted=[installer, machine])
    assert settings.get("server/url") == "https://installer.example.edu.cn"
    assert settings.get("server/ca_file") == machine.parent / "center-ca.pem"  # center.ini's
    assert not settings.problems


def test_readiness_fails_on_a_refused_anchor_and_says_where(tmp_path: Path,
                                                            machine: Path) -> None:
    i18n.set_language("zh_CN")
    candidate = write(tmp_path / "user.ini", "[server]\nurl = https://127.0.0.1:8443\n")
    settings = load_settings([candidate, machine], trusted=[machine])
    result = evaluate_config_trust(settings.problems, server_url=settings.get("server/url"))
    assert result.status is Status.FAIL
    assert "[server] url" in result.message and str(candidate) in result.message
    assert result.detail["refused"] == [{"file": str(candidate), "section": "server",
                                         "key": "url", "kind": "untrusted"}]
    clean = load_settings([machine], trusted=[machine])
    assert evaluate_config_trust(clean.problems,
                                 server_url=clean.get("server/url")).status is Status.PASS
    assert evaluate_config_trust((), server_url="http://10.0.0.5").status is Status.WARN


def test_a_user_environment_variable_cannot_move_the_machine_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """platformdirs prefers WIN_PD_OVERRIDE_COMMON_APPDATA to the shell; any user can set
    it in HKCU\\Environment and make a folder of their own the "machine-wide" config."""
    from platformdirs import windows

    fake = str(tmp_path / "kaosheng")
    monkeypatch.setenv("WIN_PD_OVERRIDE_COMMON_APPDATA", "C:\\Users\\kaosheng\\fake")
    assert windows.get_win_folder("CSIDL_COMMON_APPDATA") == "C:\\Users\\kaosheng\\fake"
    # The shell's answer (SHGetKnownFolderPath, from HKLM), as it is on Windows.
    monkeypatch.setattr(windows, "get_win_folder_via_ctypes",
                        lambda name: "C:\\ProgramData" if name == "CSIDL_COMMON_APPDATA"
                        else fake)
    monkeypatch.setattr("sys.platform", "win32")
    assert str(machine_config_path()).replace("/", "\\") == \
        "C:\\ProgramData\\ExamClient\\user.ini"


CANDIDATE_SID = "S-1-5-21-1004336348-1177238915-682003330-1001"


def test_a_machine_file_the_candidate_owns_is_not_trusted(
        tmp_path: Path, machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """C:\\ProgramData lets any user create ExamClient\\user.ini when the installer did not
    (a portable copy, an old installation): the file is then the candidate's own."""
    from platformdirs import windows

    from client.config import file_owner_windows

    monkeypatch.setattr(windows, "get_win_folder_via_ctypes", lambda name: "C:\\ProgramData")
    owners = {machine.resolve(): CANDIDATE_SID}
    monkeypatch.setattr(file_owner_windows, "owner_sid",
                        lambda path: owners.get(path, "S-1-5-32-544"))
    monkeypatch.setattr("sys.platform", "win32")
    settings = load_settings([machine], trusted=[machine])
    assert settings.get("server/url") == DEFAULT_URL
    kinds = {p.kind for p in settings.problems}
    assert kinds == {ProblemKind.NOT_ADMIN_OWNED, ProblemKind.UNTRUSTED}
    assert CANDIDATE_SID in settings.problems[0].message()

    owners.clear()   # installed: Administrators own the file and the folder
    trusted = load_settings([machine], trusted=[machine])
    assert trusted.get("server/url") == "https://exam.school.edu.cn"
    assert trusted.get("server/ca_file") == machine.parent / "center-ca.pem"

    owners[(machine.parent / "center-ca.pem").resolve()] = CANDIDATE_SID  # planted CA
    assert load_settings([machine], trusted=[machine]).get("server/ca_file") is None
