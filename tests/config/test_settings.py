from __future__ import annotations

from pathlib import Path

from client import i18n
from client.config import SETTINGS, load_settings
from client.config.example import render_example
from client.config.loader import config_search_path

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "user.ini.example"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_example_ini_matches_declarations() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == render_example()
    # and every declared key is in it with its default (read as the machine-wide file)
    settings = load_settings([EXAMPLE], trusted=[EXAMPLE])
    assert settings.problems == ()
    for setting in SETTINGS:
        assert settings.get(setting.name) == setting.default, setting.name


def test_defaults_without_files(tmp_path: Path) -> None:
    settings = load_settings([tmp_path / "missing.ini"])
    assert settings.files == ()
    assert settings.get("OpenGL/Level") == "auto"
    assert settings.get("ui/language") == "zh_CN"


def test_values_are_parsed_and_typed(tmp_path: Path) -> None:
    ini = write(tmp_path / "user.ini", "[server]\nurl = https://exam.school.edu.cn/\n"
                "center_id = C-01\ntimeout_seconds = 5\n[opengl]\nlevel = 0\n"
                "[data]\ndirectory = D:/ExamData\n")
    settings = load_settings([ini], trusted=[ini])  # [server] url: machine-wide only
    assert settings.get("server/url") == "https://exam.school.edu.cn"
    assert settings.get("OpenGL/Level") == "0"
    assert settings.get("server/timeout_seconds") == 5.0
    assert settings.data_dir == Path("D:/ExamData")
    assert settings.sources["server/url"] == ini


def test_malformed_value_is_reported_and_default_used(tmp_path: Path) -> None:
    i18n.set_language("zh_CN")
    ini = write(tmp_path / "user.ini", "[OpenGL]\nLevel = 3\n[server]\ntimeout_seconds = soon\n")
    lower = write(tmp_path / "machine.ini", "[OpenGL]\nLevel = 1\n")
    settings = load_settings([ini, lower])
    assert settings.get("OpenGL/Level") == "auto"  # the default, not the lower file's 1
    assert settings.get("server/timeout_seconds") == 10.0
    problems = {(p.section, p.key): p for p in settings.problems}
    level = problems[("OpenGL", "Level")]
    assert level.file == ini and level.value == "3"
    assert "auto, 0, 1, 2" in level.allowed
    text = level.message()
    assert str(ini) in text and "Level" in text and "3" in text and "默认值" in text


def test_precedence_is_per_key(tmp_path: Path) -> None:
    first = write(tmp_path / "a.ini", "[ui]\nlanguage = en\n")
    second = write(tmp_path / "b.ini", "[ui]\nlanguage = zh_CN\n[server]\ncenter_id = C-9\n")
    settings = load_settings([first, second])
    assert settings.get("ui/language") == "en"
    assert settings.get("server/center_id") == "C-9"


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "user.ini"
    bad.write_bytes(b"\xff\xfe[server\x00garbage")
    settings = load_settings([bad])
    assert settings.problems and settings.problems[0].file == bad
    assert settings.get("server/url") == "https://exam.example.invalid"


def test_bom_is_accepted(tmp_path: Path) -> None:
    ini = tmp_path / "user.ini"
    ini.write_bytes("\ufeff[ui]\nlanguage = en\n".encode())
    assert load_settings([ini]).get("ui/language") == "en"


def test_search_path_order(tmp_path: Path) -> None:
    explicit = tmp_path / "x.ini"
    paths = config_search_path(explicit)
    assert paths[0] == explicit
    assert paths[1].name == "user.ini"
    # The installer's options, then the center's file, both machine-wide; then per user.
    assert [p.name for p in paths[2:4]] == ["installer.ini", "user.ini"]
    assert paths[2].parent == paths[3].parent
    assert len(paths) == 5
