"""The per-user desktop policies (HKEY_CURRENT_USER) as a PolicyStore, through winreg."""

from __future__ import annotations

import sys


class RegistryPolicyStore:
    """DWORD values under HKEY_CURRENT_USER; only usable on Windows."""

    def read(self, key: str, name: str) -> int | None:
        if sys.platform != "win32":
            raise OSError("the registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:
                value, kind = winreg.QueryValueEx(handle, name)
        except FileNotFoundError:
            return None
        return int(value) if kind == winreg.REG_DWORD else None

    def write(self, key: str, name: str, value: int) -> None:
        if sys.platform != "win32":
            raise OSError("the registry exists only on Windows")
        import winreg

        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
            winreg.SetValueEx(handle, name, 0, winreg.REG_DWORD, value)

    def delete(self, key: str, name: str) -> None:
        if sys.platform != "win32":
            raise OSError("the registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
                winreg.DeleteValue(handle, name)
        except FileNotFoundError:
            pass
