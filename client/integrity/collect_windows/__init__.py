"""Windows collector: small API adapters (ctypes, winreg, psutil), no shell, no WMI.

The old client shelled out to cmd.exe and broke on PCs where cmd.exe was missing; every
adapter here calls an API directly and can be read line by line. Each adapter that fails
is recorded in Snapshot.errors and leaves its part empty, so one broken source (a
driver that hangs WMI-like queries, a locked registry key) never blocks a candidate.
"""

from __future__ import annotations

import getpass
import logging
import platform
from collections.abc import Callable, Sequence
from typing import TypeVar

import psutil

from client.integrity.collect_windows import (
    cameras,
    devices,
    displays,
    hypervisor,
    network,
    registry,
    services,
    session,
)
from client.integrity.collect_windows.processes import ProcessReader, sandbox_modules_loaded
from client.integrity.collector import ProcessRefresher
from client.integrity.rules import Rules
from client.integrity.snapshot import (
    CameraInfo,
    CpuInfo,
    DisplayInfo,
    NetworkAdapter,
    ProcessInfo,
    ServiceInfo,
    SessionInfo,
    SmbiosInfo,
    Snapshot,
)

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class WindowsCollector:
    def __init__(self, *, rules: Rules, selected_camera: str | None = None) -> None:
        self._rules = rules
        self._selected_camera = selected_camera
        self._reader = ProcessReader(rules=rules)
        self._refresher = ProcessRefresher(self._reader.inspect)

    def snapshot(self) -> Snapshot:
        errors: list[str] = []

        def guard(label: str, fn: Callable[[], _T], default: _T) -> _T:
            try:
                return fn()
            except (OSError, ValueError, psutil.Error, ImportError) as exc:
                errors.append(f"{label}: {type(exc).__name__}: {exc}")
                log.info("integrity collector: %s unavailable: %s", label, exc)
                return default

        none: tuple[str, ...] = ()
        no_services: tuple[tuple[ServiceInfo, ...], dict[int, ServiceInfo]] = ((), {})
        no_network: tuple[tuple[NetworkAdapter, ...], str] = ((), "")
        service_list, by_pid = guard("services", services.read_services, no_services)
        self._reader.services_by_pid = by_pid
        device_ids = guard("pnp_devices", devices.present_device_ids, none)
        adapters, default_mac = guard("network", network.read_adapters, no_network)
        brand = guard("cpu_brand", registry.read_cpu_brand, "")
        modules = tuple(sorted({m for box in self._rules.sandboxes for m in box.modules}))
        return Snapshot(
            os=platform.platform(),
            username=guard("username", getpass.getuser, ""),
            machine_id=guard("machine_id", registry.read_machine_guid, ""),
            # A full snapshot re-inspects every pid: it also repairs reused pids.
            processes=guard("processes", lambda: self.processes(()), tuple[ProcessInfo, ...]()),
            services=service_list,
            session=guard("session", session.read_session, SessionInfo()),
            smbios=guard("smbios", registry.read_smbios, SmbiosInfo()),
            pci_vendor_ids=devices.pci_vendor_ids(device_ids),
            pnp_device_ids=device_ids,
            drivers_loaded=guard("drivers", devices.loaded_drivers, none),
            default_route_mac=default_mac,
            network_adapters=adapters,
            cameras=guard("cameras",
                          lambda: cameras.read_cameras(selected=self._selected_camera),
                          tuple[CameraInfo, ...]()),
            displays=guard("displays", displays.read_displays, tuple[DisplayInfo, ...]()),
            cpu=guard("cpu", lambda: hypervisor.read_cpu(brand=brand), CpuInfo(brand=brand)),
            loaded_modules_of_interest=guard(
                "modules", lambda: sandbox_modules_loaded(modules), none),
            errors=tuple(errors),
        )

    def processes(self, previous: Sequence[ProcessInfo]) -> tuple[ProcessInfo, ...]:
        return self._refresher.refresh(previous, pids=psutil.pids())

    def session(self) -> SessionInfo:
        try:
            return session.read_session()
        except OSError as exc:
            log.info("integrity collector: session unavailable: %s", exc)
            return SessionInfo()
