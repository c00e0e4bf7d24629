"""Settings: declared once (declarations.py), read from user.ini files (loader.py)."""

from client.config.declarations import SETTINGS, Setting
from client.config.loader import (
    ProblemKind,
    SettingProblem,
    Settings,
    config_search_path,
    load_settings,
)

__all__ = [
    "SETTINGS",
    "ProblemKind",
    "Setting",
    "SettingProblem",
    "Settings",
    "config_search_path",
    "load_settings",
]
