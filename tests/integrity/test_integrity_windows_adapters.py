"""The Windows adapters import everywhere and refuse to run off Windows (never pretend)."""

from __future__ import annotations

import sys

import pytest

from client.integrity.collect_windows import (
    WindowsCollector,
    authenticode,
    cameras,
    devices,
    displays,
    hypervisor,
    pe_version,
    processes,
    registry,
    services,
    session,
)
from client.integrity.rules import builtin_rules

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows path")


@pytest.mark.parametrize("call", [
    lambda: pe_version.original_filename("C:\\x.exe"),
    lambda: authenticode.verified_signer("C:\\x.exe"),
    lambda: cameras.read_cameras(selected=None),
    devices.present_device_ids,
    devices.loaded_drivers,
    displays.read_displays,
    lambda: hypervisor.read_cpu(brand=""),
    lambda: processes.sandbox_modules_loaded(("SbieDll.dll",)),
    registry.read_smbios,
    services.read_services,
    session.read_session,
])
def test_windows_adapters_raise_off_windows(call: object) -> None:
    with pytest.raises(OSError):
        call()  # type: ignore[operator]


def test_windows_collector_degrades_to_recorded_errors_off_windows() -> None:
    snapshot = WindowsCollector(rules=builtin_rules()).snapshot()
    sources = {e.split(":")[0] for e in snapshot.errors}
    assert {"services", "pnp_devices", "smbios", "drivers", "displays", "cpu"} <= sources
    assert snapshot.processes  # psutil works everywhere
