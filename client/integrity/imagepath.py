"""Executable paths inside service command lines (ImagePath), quoted or not."""

from __future__ import annotations

import re

_QUOTED = re.compile(r'^\s*"([^"]+)"')
_UNQUOTED_EXE = re.compile(r"^\s*(.+?\.exe)(?=\s|$)", re.IGNORECASE)


def executable_path(command_line: str) -> str:
    r"""'"C:\Program Files\X\x.exe" -k y' -> 'C:\Program Files\X\x.exe'."""
    match = _QUOTED.match(command_line) or _UNQUOTED_EXE.match(command_line)
    return match.group(1) if match else command_line.strip()


def executable_name(command_line: str) -> str:
    r"""'"C:\Program Files\X\x.exe" -k y' -> 'x.exe' (either slash)."""
    return re.split(r"[\\/]", executable_path(command_line))[-1]
