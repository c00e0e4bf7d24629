"""Plain registry values: SMBIOS strings, CPU brand, machine GUID (winreg, no admin)."""

from __future__ import annotations

import sys

from client.integrity.snapshot import SmbiosInfo

_BIOS_KEY = r"HARDWARE\DESCRIPTION\System\BIOS"
_CPU_KEY = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"
_CRYPTOGRAPHY_KEY = r"SOFTWARE\Microsoft\Cryptography"


def _values(path: str, names: tuple[str, ...]) -> dict[str, str]:
    if sys.platform == "win32":
        import winreg

        found: dict[str, str] = {}
        # KEY_WOW64_64KEY: a 32-bit build must read the real machine values, not the WOW6432
        # view (MachineGuid does not exist there).
        access = winreg.KEY_READ | winreg.KEY_WOW64_64KEY
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, path, 0, access) as key:
            for name in names:
                try:
                    value, _kind = winreg.QueryValueEx(key, name)
                except OSError:
                    continue
                found[name] = str(value).strip()
        return found
    raise OSError("the registry exists on Windows only")


def read_smbios() -> SmbiosInfo:
    v = _values(_BIOS_KEY, ("SystemManufacturer", "SystemProductName", "SystemFamily",
                            "BIOSVendor", "BIOSVersion", "BaseBoardManufacturer",
                            "BaseBoardProduct"))
    return SmbiosInfo(
        manufacturer=v.get("SystemManufacturer", ""), product=v.get("SystemProductName", ""),
        family=v.get("SystemFamily", ""), bios_vendor=v.get("BIOSVendor", ""),
        bios_version=v.get("BIOSVersion", ""),
        board_manufacturer=v.get("BaseBoardManufacturer", ""),
        board_product=v.get("BaseBoardProduct", ""),
    )


def read_cpu_brand() -> str:
    return _values(_CPU_KEY, ("ProcessorNameString",)).get("ProcessorNameString", "")


def read_machine_guid() -> str:
    return _values(_CRYPTOGRAPHY_KEY, ("MachineGuid",)).get("MachineGuid", "")
