"""Find and read user.ini files; report malformed values and fall back per key.

Lookup order (earlier wins, per key): ``--config PATH``, ``user.ini`` beside the
executable, the machine-wide config dir, the per-user config dir. Values from different
files merge key by key, so an admin's machine-wide file can set the server while a
per-user file only sets the language.

Settings declared ``trusted_only`` (the camera's security settings) are taken only from
trusted files: the machine-wide config (%ProgramData%/ExamClient/user.ini, which an
administrator writes). The candidate can write the per-user file, pass ``--config`` and
edit a portable copy's folder; a security key there is ignored and reported, and the
next trusted file or the default applies. The paper package's per-exam camera policy
(client.config.camera) comes on top.
"""

from __future__ import annotations

import configparser
import logging
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

import platformdirs

from client.config.declarations import SETTINGS, Setting
from client.config.types import InvalidValue
from client.i18n import _

log = logging.getLogger(__name__)

APP_NAME = "ExamClient"
INI_NAME = "user.ini"


@dataclass(frozen=True)
class SettingProblem:
    """One thing wrong in one file; the client runs on with the default for that key."""

    file: Path
    section: str
    key: str
    value: str
    allowed: str

    def message(self) -> str:
        return _("配置文件 {file} 中 [{section}] {key} = {value} 无效（允许：{allowed}），"
                 "已使用默认值").format(file=self.file, section=self.section, key=self.key,
                                       value=self.value, allowed=self.allowed)


@dataclass(frozen=True)
class Settings:
    """The effective settings: declared defaults overridden by the files found."""

    values: Mapping[str, Any]
    sources: Mapping[str, Path] = field(default_factory=dict)  # setting name -> file
    files: tuple[Path, ...] = ()
    problems: tuple[SettingProblem, ...] = ()

    def get(self, name: str) -> Any:
        return self.values[name]

    @property
    def data_dir(self) -> Path:
        configured: Path | None = self.values["data/directory"]
        if configured is not None:
            return configured
        return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        unknown = set(overrides) - set(self.values)
        if unknown:
            raise KeyError(f"unknown settings: {sorted(unknown)}")
        return Settings({**self.values, **overrides}, self.sources, self.files, self.problems)


def executable_dir() -> Path:
    """The folder of the installed program (frozen) or of the source tree (development)."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parents[2]


def machine_config_path() -> Path:
    """The machine-wide config: the only file trusted with security settings."""
    return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False)) / INI_NAME


def config_search_path(explicit: Path | None = None) -> list[Path]:
    """Candidate ini files, highest precedence first."""
    paths = [] if explicit is None else [explicit]
    paths.append(executable_dir() / INI_NAME)
    paths.append(machine_config_path())
    paths.append(Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / INI_NAME)
    return paths


def _read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    # utf-8-sig: Notepad on old Windows saves UTF-8 with a BOM.
    with path.open(encoding="utf-8-sig") as handle:
        parser.read_file(handle)
    return parser


def _lookup(parser: configparser.ConfigParser, setting: Setting) -> str | None:
    # Section names are case-sensitive in configparser; admins type "[opengl]" too.
    for section in parser.sections():
        if section.casefold() == setting.section.casefold():
            value = parser.get(section, setting.key, fallback=None)  # keys are case-folded
            return value
    return None


def relative_to_file(value: Any, ini: Path) -> Any:
    """A relative path in a config file means a path next to that file (center.ini's
    ``ca_file = center-ca.pem``), never one relative to whatever folder the client was
    started from. Windows-style absolute paths count as absolute on every platform."""
    if not isinstance(value, Path):
        return value
    if value.is_absolute() or PureWindowsPath(str(value)).is_absolute():
        return value
    return ini.resolve().parent / value


def _same_file(path: Path, trusted: set[Path]) -> bool:
    try:
        return path.resolve() in trusted
    except OSError:
        return False


def load_settings(files: Iterable[Path], *, trusted: Iterable[Path] | None = None) -> Settings:
    """Read the given files (highest precedence first); missing files are skipped.

    *trusted*: the files allowed to set ``trusted_only`` settings (default: the
    machine-wide config only).
    """
    trusted_files = {
        Path(p).resolve() for p in (trusted if trusted is not None else [machine_config_path()])
    }
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    sources: dict[str, Path] = {}
    problems: list[SettingProblem] = []
    found: list[Path] = []
    known = {(s.section.casefold(), s.key.casefold()) for s in SETTINGS}
    for path in files:
        if not path.is_file():
            continue
        try:
            parser = _read_ini(path)
        except (OSError, UnicodeDecodeError, configparser.Error) as exc:
            problems.append(SettingProblem(path, "*", "*", str(exc).splitlines()[0],
                                           "a readable UTF-8 INI file"))
            continue
        found.append(path)
        is_trusted = _same_file(path, trusted_files)
        for section in parser.sections():
            for key in parser[section]:
                if (section.casefold(), key.casefold()) not in known:
                    log.warning("%s: unknown setting [%s] %s (ignored)", path, section, key)
        for setting in SETTINGS:
            if setting.name in sources:
                continue  # a file earlier in the lookup order already set it
            text = _lookup(parser, setting)
            if text is None:
                continue
            if setting.trusted_only and not is_trusted:
                # A candidate-writable file: the key is ignored (a trusted file further
                # down, or the default, applies) and the attempt is reported.
                problems.append(SettingProblem(path, setting.section, setting.key, text,
                                               _("仅限全机配置文件 {file}").format(
                                                   file=machine_config_path())))
                continue
            try:
                values[setting.name] = relative_to_file(setting.type.parse(text), path)
            except InvalidValue:
                problems.append(SettingProblem(path, setting.section, setting.key, text,
                                               setting.type.allowed()))
                # The declared default stands; a lower-precedence file must not win either.
            sources[setting.name] = path
    for problem in problems:
        log.error("%s", problem.message())
    return Settings(values, sources, tuple(found), tuple(problems))
