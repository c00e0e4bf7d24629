"""A relative path in a config file is relative to that file, not to the folder the client
happens to start in (issue 14: center.ini's ``ca_file = center-ca.pem`` crashed the
client with FileNotFoundError once the installer's upgrade dropped its own ca_file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.config import load_settings
from client.sync.api import ca_bundle

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_relative_ca_file_is_found_next_to_the_file_naming_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    center = tmp_path / "ProgramData" / "ExamClient"
    center.mkdir(parents=True)
    (center / "center-ca.pem").write_bytes(PEM)
    ini = center / "user.ini"
    ini.write_text("[server]\nca_file = center-ca.pem\n[data]\ndirectory = 数据\n",
                   encoding="utf-8")
    elsewhere = tmp_path / "Windows" / "System32"  # where a shortcut may start the client
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)

    settings = load_settings([ini], trusted=[ini])  # plays the machine-wide config
    assert settings.get("server/ca_file") == center / "center-ca.pem"
    assert settings.get("data/directory") == center / "数据"
    bundle = Path(ca_bundle(settings.get("server/ca_file"), cache_dir=tmp_path / "cache"))
    assert bundle.read_bytes().endswith(PEM)


@pytest.mark.parametrize("written", [r"C:\ExamClient\center-ca.pem",
                                     r"\\server\share\center-ca.pem", "/etc/exam/ca.pem"])
def test_absolute_paths_stay_as_written(tmp_path: Path, written: str) -> None:
    ini = tmp_path / "user.ini"
    ini.write_text(f"[data]\ndirectory = {written}\n", encoding="utf-8")
    assert str(load_settings([ini]).get("data/directory")) == str(Path(written))
