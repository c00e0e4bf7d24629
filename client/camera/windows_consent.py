"""Windows adapter: camera privacy switches and "which app uses the camera now".

Windows records camera use per application under
HKCU/HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\CapabilityAccessManager\\
ConsentStore\\webcam: the key's "Value" ("Allow"/"Deny") is the privacy switch; each app
subkey (desktop apps below NonPackaged, their path with '#' for '\\') holds
LastUsedTimeStart/LastUsedTimeStop, and a Stop of 0 means "in use now". Reading the
registry needs no shell command (cmd.exe may be missing on stripped lab images).
Only imported on Windows (see client.camera.diagnose.read_consent_state).
"""

from __future__ import annotations

import logging
import sys

from client.camera.diagnose import ConsentState

log = logging.getLogger(__name__)

WEBCAM_KEY = (
    r"Software\Microsoft\Windows\CurrentVersion\CapabilityAccessManager\ConsentStore\webcam"
)


def app_label(subkey_name: str) -> str:
    """'C:#Program Files#Tencent#QQ#Bin#QQ.exe' -> 'QQ.exe'; packaged names unchanged."""
    return subkey_name.rsplit("#", 1)[-1]


if sys.platform == "win32":
    import winreg

    def _read_value(root: int, path: str, name: str) -> object | None:
        try:
            with winreg.OpenKey(root, path) as key:
                value, _kind = winreg.QueryValueEx(key, name)
                return value  # type: ignore[no-any-return]
        except OSError:
            return None

    def _subkeys(root: int, path: str) -> list[str]:
        names: list[str] = []
        try:
            with winreg.OpenKey(root, path) as key:
                index = 0
                while True:
                    try:
                        names.append(winreg.EnumKey(key, index))
                    except OSError:
                        break
                    index += 1
        except OSError:
            pass
        return names

    def _in_use(root: int, path: str) -> bool:
        start = _read_value(root, path, "LastUsedTimeStart")
        stop = _read_value(root, path, "LastUsedTimeStop")
        return isinstance(start, int) and start > 0 and stop == 0

    def _apps_in_use(root: int) -> list[str]:
        apps: list[str] = []
        for name in _subkeys(root, WEBCAM_KEY):
            if name == "NonPackaged":
                nonpackaged = WEBCAM_KEY + "\\NonPackaged"
                for app in _subkeys(root, nonpackaged):
                    if _in_use(root, nonpackaged + "\\" + app):
                        apps.append(app_label(app))
            elif _in_use(root, WEBCAM_KEY + "\\" + name):
                apps.append(app_label(name))
        return apps

    def read_camera_consent() -> ConsentState | None:
        def text(value: object | None) -> str | None:
            return value if isinstance(value, str) else None

        try:
            own = app_label(sys.executable.replace("\\", "#"))
            apps = [
                app
                for root in (winreg.HKEY_CURRENT_USER, winreg.HKEY_LOCAL_MACHINE)
                for app in _apps_in_use(root)
                if app.lower() != own.lower()
            ]
            return ConsentState(
                device_access=text(_read_value(winreg.HKEY_LOCAL_MACHINE, WEBCAM_KEY, "Value")),
                user_access=text(_read_value(winreg.HKEY_CURRENT_USER, WEBCAM_KEY, "Value")),
                desktop_apps=text(
                    _read_value(winreg.HKEY_CURRENT_USER, WEBCAM_KEY + "\\NonPackaged", "Value")
                ),
                apps_in_use=tuple(dict.fromkeys(apps)),
            )
        except OSError as exc:
            log.warning("camera consent state unreadable: %s", exc)
            return None
