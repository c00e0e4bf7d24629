"""Windows collector: small API adapters (ctypes, winreg, psutil), no shell, no WMI.

The old client shelled out to cmd.exe and broke on PCs where cmd.exe was missing; every
adapter here calls an API directly and can be read line by line. Every adapter runs on its
own worker thread behind a deadline (client/integrity/sources.py): one that raises
anything, returns None or the wrong shape, or hangs is recorded in Snapshot.errors, leaves
its part empty and is reported as "source unavailable"; it never stalls the scan, hides the
other sources or blocks a candidate.
"""

from __future__ import annotations

import getpass
import logging
import sys
from collections.abc import Sequence
from typing import Any

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
from client.integrity.collector import (
    ProcessRefresher,
    SelectedCamera,
    selected_camera_now,
)
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
from client.integrity.sources import (
    DEFAULT_SOURCE_TIMEOUT_S,
    Source,
    SourceRunner,
    instance_of,
    mapping_of,
    pair_of,
    text,
    tuple_of,
)

log = logging.getLogger(__name__)


def windows_version() -> str:
    """"Windows-10.0.22631" without platform.platform(), which on Python 3.12 asks WMI
    (and WMI hangs on some lab PCs)."""
    if sys.platform == "win32":
        v = sys.getwindowsversion()
        return f"Windows-{v.major}.{v.minor}.{v.build}"
    raise OSError("Windows only")


class WindowsCollector:
    def __init__(self, *, rules: Rules, selected_camera: SelectedCamera = None,
                 timeout_s: float = DEFAULT_SOURCE_TIMEOUT_S) -> None:
        self._rules = rules
        self._selected_camera = selected_camera
        self._reader = ProcessReader(rules=rules)
        self._refresher = ProcessRefresher(self._reader.inspect, quick=self._reader.quick)
        # One runner for the collector's life: it remembers which source still hangs.
        self._runner = SourceRunner(timeout_s=timeout_s)

    def set_rules(self, rules: Rules) -> None:
        """Rules decide whose signature is read: server-shipped tools and allow entries
        must be read with the rules in force, not the built-in ones."""
        self._rules = rules
        self._reader.set_rules(rules)

    def snapshot(self) -> Snapshot:
        """Every source on its own thread within one deadline; the process list, which
        needs the services (to name service hosts), within a second one."""
        strings = tuple_of(str)
        modules = tuple(sorted({m for box in self._rules.sandboxes for m in box.modules}))
        first: dict[str, Source[Any]] = {
            "os": Source(windows_version, text, ""),
            "username": Source(getpass.getuser, text, ""),
            "machine_id": Source(registry.read_machine_guid, text, ""),
            "services": Source(services.read_services,
                               pair_of(tuple_of(ServiceInfo), mapping_of(int, ServiceInfo)),
                               ((), {})),
            "session": Source(session.read_session, instance_of(SessionInfo), SessionInfo()),
            "smbios": Source(registry.read_smbios, instance_of(SmbiosInfo), SmbiosInfo()),
            "pnp_devices": Source(devices.present_device_ids, strings, ()),
            "drivers": Source(devices.loaded_drivers, strings, ()),
            "network": Source(network.read_adapters,
                              pair_of(tuple_of(NetworkAdapter), text), ((), "")),
            "cameras": Source(lambda: cameras.read_cameras(
                selected=selected_camera_now(self._selected_camera)),
                              tuple_of(CameraInfo), ()),
            "displays": Source(displays.read_displays, tuple_of(DisplayInfo), ()),
            "cpu": Source(lambda: hypervisor.read_cpu(brand=registry.read_cpu_brand()),
                          instance_of(CpuInfo), CpuInfo()),
            "modules": Source(lambda: sandbox_modules_loaded(modules), strings, ()),
        }
        got, failures = self._runner.gather(first)
        service_list, by_pid = got["services"]
        self._reader.services_by_pid = by_pid
        # A full snapshot re-inspects every pid: it also repairs reused pids.
        procs, more = self._runner.gather(
            {"processes": Source(lambda: self._refresher.inspect_all(psutil.pids()),
                                tuple_of(ProcessInfo), ())})
        adapters, default_mac = got["network"]
        device_ids: tuple[str, ...] = got["pnp_devices"]
        return Snapshot(
            os=got["os"],
            username=got["username"],
            machine_id=got["machine_id"],
            processes=procs["processes"],
            services=service_list,
            session=got["session"],
            smbios=got["smbios"],
            pci_vendor_ids=devices.pci_vendor_ids(device_ids),
            pnp_device_ids=device_ids,
            drivers_loaded=got["drivers"],
            default_route_mac=default_mac,
            network_adapters=adapters,
            cameras=got["cameras"],
            displays=got["displays"],
            cpu=got["cpu"],
            loaded_modules_of_interest=got["modules"],
            errors=tuple(str(f) for f in (*failures, *more)),
        )

    def processes(self, previous: Sequence[ProcessInfo]) -> tuple[ProcessInfo, ...]:
        return self._refresher.refresh(previous, pids=psutil.pids())

    def session(self) -> SessionInfo:
        return session.read_session()
