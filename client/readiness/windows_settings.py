"""Windows adapter: the exam-day settings of this PC as plain data (ExamDaySettings).

Read without parsing localised tool output: the power plan through PowrProf
(PowerReadACValueIndex), the screen saver through SystemParametersInfoW, Windows Update's
active hours and restart policy from the registry. Every reader returns None for what it
could not read; client.readiness.system.evaluate_exam_day decides.
"""

from __future__ import annotations

import sys
import uuid

from client.readiness.system import ExamDaySettings

# Power setting GUIDs (winnt.h)
SUB_SLEEP = "238c9fa8-0aad-41ed-83f4-97be242c8f20"
STANDBY_IDLE = "29f6c1db-86da-48c5-9fdb-f2b67b1f44da"
HIBERNATE_IDLE = "9d7815a6-7ee4-497e-8888-515a05f02364"
SUB_VIDEO = "7516b95f-f776-4464-8c53-06167f40cc99"
VIDEO_IDLE = "3c0bc021-c8a8-4e07-a973-6b14cbcb2b7e"

SPI_GETSCREENSAVETIMEOUT = 0x000E
SPI_GETSCREENSAVEACTIVE = 0x0010

UX_SETTINGS = r"SOFTWARE\Microsoft\WindowsUpdate\UX\Settings"
UPDATE_POLICY = r"SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate"
UPDATE_AU_POLICY = r"SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU"


def read_exam_day_settings() -> ExamDaySettings:
    if sys.platform != "win32":
        return ExamDaySettings()
    sleep_s, hibernate_s, display_s = _power_timeouts()
    active, timeout_s = _screen_saver()
    start, end, no_reboot = _update_hours()
    return ExamDaySettings(sleep_after_s=sleep_s, hibernate_after_s=hibernate_s,
                           display_off_after_s=display_s, screen_saver_active=active,
                           screen_saver_after_s=timeout_s, active_hours_start=start,
                           active_hours_end=end, no_auto_restart_with_user=no_reboot)


def _power_timeouts() -> tuple[int | None, int | None, int | None]:
    if sys.platform != "win32":
        return None, None, None
    import ctypes
    from ctypes import wintypes

    class GUID(ctypes.Structure):
        _fields_ = [("data", ctypes.c_ubyte * 16)]

    def guid(text: str) -> GUID:
        value = GUID()
        ctypes.memmove(value.data, uuid.UUID(text).bytes_le, 16)
        return value

    powrprof = ctypes.WinDLL("powrprof")
    scheme = ctypes.POINTER(GUID)()
    if powrprof.PowerGetActiveScheme(None, ctypes.byref(scheme)) != 0:
        return None, None, None

    def ac_value(subgroup: str, setting: str) -> int | None:
        value = wintypes.DWORD()
        sub, key = guid(subgroup), guid(setting)
        status = powrprof.PowerReadACValueIndex(None, scheme, ctypes.byref(sub),
                                                ctypes.byref(key), ctypes.byref(value))
        return int(value.value) if status == 0 else None

    try:
        return (ac_value(SUB_SLEEP, STANDBY_IDLE), ac_value(SUB_SLEEP, HIBERNATE_IDLE),
                ac_value(SUB_VIDEO, VIDEO_IDLE))
    finally:
        ctypes.windll.kernel32.LocalFree(scheme)


def _screen_saver() -> tuple[bool | None, int | None]:
    if sys.platform != "win32":
        return None, None
    import ctypes

    user32 = ctypes.windll.user32
    active, timeout = ctypes.c_int(), ctypes.c_int()
    got_active = user32.SystemParametersInfoW(SPI_GETSCREENSAVEACTIVE, 0,
                                              ctypes.byref(active), 0)
    got_timeout = user32.SystemParametersInfoW(SPI_GETSCREENSAVETIMEOUT, 0,
                                               ctypes.byref(timeout), 0)
    return (bool(active.value) if got_active else None,
            int(timeout.value) if got_timeout else None)


def _update_hours() -> tuple[int | None, int | None, bool | None]:
    if sys.platform != "win32":
        return None, None, None
    import winreg

    def dword(key: str, name: str) -> int | None:
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as handle:
                value, kind = winreg.QueryValueEx(handle, name)
        except OSError:
            return None
        return int(value) if kind == winreg.REG_DWORD else None

    # A policy (GPO, remote-management tool) wins over what a user set in Settings.
    if dword(UPDATE_POLICY, "SetActiveHours") == 1:
        start = dword(UPDATE_POLICY, "ActiveHoursStart")
        end = dword(UPDATE_POLICY, "ActiveHoursEnd")
    else:
        start = dword(UX_SETTINGS, "ActiveHoursStart")
        end = dword(UX_SETTINGS, "ActiveHoursEnd")
    no_reboot = dword(UPDATE_AU_POLICY, "NoAutoRebootWithLoggedOnUsers")
    return start, end, None if no_reboot is None else no_reboot == 1
