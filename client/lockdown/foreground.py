"""Which program is in front, as recorded for a focus loss (Qt-free, plain strings).

GetForegroundWindow gives a window, its process gives an executable name. The name alone
is the candidate's to choose: any program copied into their profile and renamed
LockApp.exe would pass for the lock screen, and the guard excuses the lock screen during a
lock (which another program of the same user can announce with a forged notice) and for
LATE_NOTICE_MS after an unlock (client/lockdown/focus.py). So the lock screen's names are
believed only from their own files in the Windows folder; any other file of that name is
recorded by its full path, which is never the lock screen.
"""

from __future__ import annotations

import ntpath

from client.lockdown.focus import SESSION_SCREENS

# Where Windows 10/11 keeps the programs that have the foreground while the session is
# locked, relative to the Windows folder. C:\Windows\Temp, \Tasks, \tracing and others
# are writable by users, so "somewhere under the Windows folder" is not enough.
_SESSION_SCREEN_FILES = frozenset({
    ntpath.join("System32", "LogonUI.exe"),
    ntpath.join("SystemApps", "Microsoft.LockApp_cw5n1h2txyewy", "LockApp.exe"),
})


def _canonical(path: str) -> str:
    if path.startswith("\\\\?\\"):
        path = path[4:]
    return ntpath.normcase(ntpath.normpath(path))


def foreground_label(*, name: str, exe_path: str | None, windows_dir: str | None) -> str:
    """What to record for the program in front: its name, unless the name is the lock
    screen's and the file is not (then its full path). *exe_path* None: the file could
    not be read, as for LogonUI (SYSTEM's) — a program the candidate started is always
    readable by them, so an unreadable one is not theirs."""
    if name.lower() not in SESSION_SCREENS or exe_path is None:
        return name
    if windows_dir:
        expected = {_canonical(ntpath.join(windows_dir, f)) for f in _SESSION_SCREEN_FILES}
        if _canonical(exe_path) in expected:
            return name
    return exe_path
