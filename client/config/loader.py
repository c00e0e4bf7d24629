"""Find and read user.ini files; report malformed values and fall back per key.

Lookup order (earlier wins, per key): ``--config PATH``, ``user.ini`` beside the
executable, the machine-wide config dir, the per-user config dir. Values from different
files merge key by key, so an admin's machine-wide file can set the server while a
per-user file only sets the language.

Settings declared ``trusted_only`` (the camera's security settings and the server's trust
anchors: url, ca_file, signing_public_key, allow_plain_http) are taken only from trusted
files: the machine-wide config (%ProgramData%/ExamClient/user.ini, which an administrator
writes, and installer.ini beside it, the installer's command-line options). The candidate
can write the per-user file, pass ``--config`` and edit a portable copy's folder; a
security key there is ignored and reported, and the next trusted file or the default
applies. The paper package's per-exam camera policy (client.config.camera) comes on top.

Two more rules keep a proxy of the candidate's out even when a trusted file is careless:
a plain ``http://`` server URL is refused unless the trusted file also says
``allow_plain_http = true`` (a lab or test network), and ``ca_file`` must lie in the folder
of a trusted file (the admin-only machine config folder), so nobody can swap the CA file
the trusted file points to.
"""

from __future__ import annotations

import configparser
import logging
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PureWindowsPath
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from client.config.declarations import SETTINGS, Setting
from client.config.types import InvalidValue
from client.i18n import _

log = logging.getLogger(__name__)

APP_NAME = "ExamClient"
INI_NAME = "user.ini"
# The installer's command-line options (/SERVER, /CAFILE, ...), beside the center's user.ini
# in the machine config folder: NSIS cannot rewrite a UTF-8 file key by key without passing
# the center's Chinese comments through the ANSI code page, so it writes its own file and
# the loader merges the two (installer options win, as they always did).
INSTALLER_INI_NAME = "installer.ini"


class ProblemKind(StrEnum):
    INVALID = "invalid"          # not an allowed value: the default applies
    UNTRUSTED = "untrusted"      # a security key in a file the candidate can write
    PLAIN_HTTP = "plain_http"    # http:// without allow_plain_http in a trusted file
    CA_OUTSIDE = "ca_outside"    # ca_file outside the admin-only machine config folder
    NOT_ADMIN_OWNED = "not_admin_owned"  # a "machine-wide" file a non-administrator owns


@dataclass(frozen=True)
class SettingProblem:
    """One thing wrong in one file; the client runs on with the default for that key."""

    file: Path
    section: str
    key: str
    value: str
    allowed: str
    kind: ProblemKind = ProblemKind.INVALID

    @property
    def security(self) -> bool:
        """A security setting was refused: an attempt, or a config an admin must move."""
        return self.kind is not ProblemKind.INVALID

    def message(self) -> str:
        if self.kind is ProblemKind.UNTRUSTED:
            return _("配置文件 {file} 中的 [{section}] {key} 已忽略：考生可以修改这个文件，"
                     "此项只能写在全机配置文件 {machine} 中").format(
                file=self.file, section=self.section, key=self.key, machine=self.allowed)
        if self.kind is ProblemKind.PLAIN_HTTP:
            return _("配置文件 {file} 中的 [server] url = {value} 未加密（http://），已忽略："
                     "正式考试请用 https://；仅实验室/测试网络可在全机配置文件中设置 "
                     "[server] allow_plain_http = true").format(file=self.file,
                                                                value=self.value)
        if self.kind is ProblemKind.NOT_ADMIN_OWNED:
            return _("全机配置文件 {file} 或其所在文件夹的所有者不是管理员（{owner}），可能是"
                     "考生自己创建的，其中的安全设置已忽略：请重新运行安装程序").format(
                file=self.file, owner=self.value)
        if self.kind is ProblemKind.CA_OUTSIDE:
            return _("配置文件 {file} 中的 [server] ca_file = {value} 已忽略：CA 证书文件"
                     "必须放在只有管理员能修改的全机配置目录 {folder} 中").format(
                file=self.file, value=self.value, folder=self.allowed)
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


def _machine_config_dir() -> Path:
    if sys.platform == "win32":
        # Not platformdirs.site_config_dir: it prefers the environment variable
        # WIN_PD_OVERRIDE_COMMON_APPDATA, which any user can set for themselves (HKCU\
        # Environment) to make a folder of their own "machine-wide". The shell's known
        # folder comes from HKLM, which only an administrator can change.
        from platformdirs.windows import get_win_folder_via_ctypes

        return Path(get_win_folder_via_ctypes("CSIDL_COMMON_APPDATA")) / APP_NAME
    # Linux and macOS: development and CI only; $XDG_CONFIG_DIRS decides (tools/frozen_exam.py
    # points it at the run's own machine-wide file).
    return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False))


def machine_config_path() -> Path:
    """The machine-wide config (the center's): trusted with security settings.

    On Windows %ProgramData%\\ExamClient\\user.ini as the shell knows it, never from an
    environment variable the candidate could change.
    """
    return _machine_config_dir() / INI_NAME


def machine_installer_config_path() -> Path:
    """The installer's options, beside the center's file and trusted like it."""
    return machine_config_path().with_name(INSTALLER_INI_NAME)


def trusted_config_paths() -> list[Path]:
    """The files allowed to set ``trusted_only`` settings by default."""
    return [machine_installer_config_path(), machine_config_path()]


def config_search_path(explicit: Path | None = None) -> list[Path]:
    """Candidate ini files, highest precedence first."""
    paths = [] if explicit is None else [explicit]
    paths.append(executable_dir() / INI_NAME)
    paths.extend(trusted_config_paths())
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


# Owners an exam PC's candidate cannot be: Administrators, SYSTEM, TrustedInstaller.
ADMIN_OWNER_SIDS = frozenset({
    "S-1-5-32-544", "S-1-5-18",
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
})


def foreign_owner(path: Path) -> str | None:
    """On Windows: the owner of *path* or its folder when that is not an administrator
    (C:\\ProgramData lets any user create a folder or file there and own it), else None.
    Elsewhere (development, CI) None: the folder's permissions are the developer's."""
    if sys.platform != "win32":
        return None
    from client.config import file_owner_windows

    resolved = path.resolve()
    for item in (resolved, resolved.parent):
        owner = file_owner_windows.owner_sid(item)
        if owner not in ADMIN_OWNER_SIDS:
            return owner or "?"
    return None


def _resolved_parent(path: Path) -> Path | None:
    try:
        return path.resolve().parent
    except OSError:
        return None


def _refuse_unsafe_anchors(values: dict[str, Any], sources: dict[str, Path],
                           problems: list[SettingProblem], *, trusted: set[Path]) -> None:
    """Anchors a trusted file set but that would still let a candidate in: plain http
    (anyone on the path rewrites it) and a CA file in a folder the candidate can write."""
    url = str(values["server/url"])
    if urlsplit(url).scheme == "http" and not values["server/allow_plain_http"] \
            and "server/url" in sources:
        problems.append(SettingProblem(sources["server/url"], "server", "url", url, "https://",
                                       ProblemKind.PLAIN_HTTP))
        values["server/url"] = _DEFAULTS["server/url"]
    ca_file: Path | None = values["server/ca_file"]
    if ca_file is not None and "server/ca_file" in sources:
        # resolve() follows symlinks and junctions: a link out of the folder is caught too.
        admin_folders = {parent for parent in map(_resolved_parent, trusted) if parent}
        if _resolved_parent(ca_file) not in admin_folders or foreign_owner(ca_file) is not None:
            problems.append(SettingProblem(
                sources["server/ca_file"], "server", "ca_file", str(ca_file),
                str(machine_config_path().parent), ProblemKind.CA_OUTSIDE))
            values["server/ca_file"] = None


_DEFAULTS = {s.name: s.default for s in SETTINGS}


def load_settings(files: Iterable[Path], *, trusted: Iterable[Path] | None = None) -> Settings:
    """Read the given files (highest precedence first); missing files are skipped.

    *trusted*: the files allowed to set ``trusted_only`` settings (default: the
    machine-wide config and the installer's file beside it). Their folders must be
    admin-only: ``ca_file`` is accepted only inside one of them.
    """
    trusted_files = {
        Path(p).resolve() for p in (trusted if trusted is not None else trusted_config_paths())
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
        if is_trusted and (owner := foreign_owner(path)) is not None:
            problems.append(SettingProblem(path, "*", "*", owner, "Administrators",
                                           ProblemKind.NOT_ADMIN_OWNED))
            is_trusted = False
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
                                               str(machine_config_path()),
                                               ProblemKind.UNTRUSTED))
                continue
            try:
                values[setting.name] = relative_to_file(setting.type.parse(text), path)
            except InvalidValue:
                problems.append(SettingProblem(path, setting.section, setting.key, text,
                                               setting.type.allowed()))
                # The declared default stands; a lower-precedence file must not win either.
            sources[setting.name] = path
    _refuse_unsafe_anchors(values, sources, problems, trusted=trusted_files)
    for problem in problems:
        log.error("%s", problem.message())
    return Settings(values, sources, tuple(found), tuple(problems))
