"""installer/center.ini.example, the file a center prepares once, is a valid user.ini."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from client.config import SETTINGS, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "installer" / "center.ini.example"


def test_the_example_loads_without_problems_or_unknown_keys(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="client.config.loader"):
        # The installer copies center.ini to the machine-wide config (trusted).
        settings = load_settings([EXAMPLE], trusted=[EXAMPLE])
    assert not settings.problems
    assert not [r for r in caplog.records if "unknown setting" in r.getMessage()]
    assert settings.get("server/url") == "https://exam.example.edu.cn"
    assert settings.get("server/center_id") == "4401001"
    assert str(settings.get("data/directory")).replace("\\", "/") == "D:/ExamClientData"
    assert settings.get("OpenGL/Level") == "auto"
    assert settings.get("server/ca_file") is None


def test_every_key_of_the_example_is_a_declared_setting() -> None:
    declared = {(s.section.casefold(), s.key.casefold()) for s in SETTINGS}
    section = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]").casefold()
        elif line and not line.startswith(";"):
            key = line.split("=", 1)[0].strip().casefold()
            assert (section, key) in declared, f"[{section}] {key}"


def test_the_example_is_utf8_as_the_client_reads_it() -> None:
    EXAMPLE.read_bytes().decode("utf-8")  # raises on anything else
