"""Linux collector: psutil, /proc and /sys only, so `exam-client check` gives a real verdict here.

Ids are written in the Windows form ("PCI\\VEN_1AF4&DEV_1000...", "USB\\VID_...") so the
same rules match on both systems. Everything below *root* is read as plain files, which
lets tests point the collector at a small fake /sys tree.
"""

from __future__ import annotations

import getpass
import logging
import os
import platform
from collections.abc import Sequence
from pathlib import Path

import psutil

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
    SessionInfo,
    SmbiosInfo,
    Snapshot,
)
from client.integrity.sources import (
    DEFAULT_SOURCE_TIMEOUT_S,
    Source,
    SourceRunner,
    instance_of,
    pair_of,
    text,
    tuple_of,
)

log = logging.getLogger(__name__)

# /sys/devices/system/clocksource: the kernel picks the hypervisor's clock in a guest, which
# names the hypervisor without executing CPUID ourselves.
_CLOCKSOURCE_VENDOR = {
    "kvm-clock": "KVMKVMKVM",
    "hyperv_clocksource_tsc_page": "Microsoft Hv",
    "hyperv_clocksource_msr": "Microsoft Hv",
    "xen": "XenVMMXenVMM",
}
_INTERNAL_CONNECTORS = ("edp", "lvds", "dsi")


class LinuxCollector:
    def __init__(self, *, selected_camera: SelectedCamera = None, root: Path = Path("/"),
                 timeout_s: float = DEFAULT_SOURCE_TIMEOUT_S) -> None:
        self._selected_camera = selected_camera
        self._root = root
        self._refresher = ProcessRefresher(self._inspect_process)
        self._runner = SourceRunner(timeout_s=timeout_s)

    # ------------------------------------------------------------------ Collector API

    def set_rules(self, rules: Rules) -> None:
        """Nothing here depends on the rules (no signatures on Linux)."""

    def snapshot(self) -> Snapshot:
        # Every source on its own thread behind a deadline (client/integrity/sources.py):
        # one unreadable or hanging source must not hide the others (nor block the exam).
        strings = tuple_of(str)
        got, failures = self._runner.gather({
            "os": Source(platform.platform, text, ""),
            "username": Source(getpass.getuser, text, ""),
            "machine_id": Source(self._machine_id, text, ""),
            "processes": Source(self._all_processes, tuple_of(ProcessInfo), ()),
            "session": Source(self.session, instance_of(SessionInfo), SessionInfo()),
            "smbios": Source(self._smbios, instance_of(SmbiosInfo), SmbiosInfo()),
            "pci": Source(self._pci_ids, strings, ()),
            "usb": Source(self._usb_ids, strings, ()),
            "block": Source(self._block_ids, strings, ()),
            "modules": Source(self._modules, strings, ()),
            "network": Source(self._network, pair_of(tuple_of(NetworkAdapter), text), ((), "")),
            "cameras": Source(self._cameras, tuple_of(CameraInfo), ()),
            "displays": Source(self._displays, tuple_of(DisplayInfo), ()),
            "cpu": Source(self._cpu, instance_of(CpuInfo), CpuInfo()),
        })
        pci: tuple[str, ...] = got["pci"]
        adapters, default_mac = got["network"]
        return Snapshot(
            os=got["os"],
            username=got["username"],
            machine_id=got["machine_id"],
            processes=got["processes"],
            services=(),  # systemd units add nothing here: the process check sees daemons
            session=got["session"],
            smbios=got["smbios"],
            pci_vendor_ids=tuple(sorted({i.split("&")[0].removeprefix("PCI\\VEN_")
                                         for i in pci})),
            pnp_device_ids=pci + got["usb"] + got["block"],
            drivers_loaded=got["modules"],
            default_route_mac=default_mac,
            network_adapters=adapters,
            cameras=got["cameras"],
            displays=got["displays"],
            cpu=got["cpu"],
            loaded_modules_of_interest=(),
            errors=tuple(str(f) for f in failures),
        )

    def processes(self, previous: Sequence[ProcessInfo]) -> tuple[ProcessInfo, ...]:
        return self._refresher.refresh(previous, pids=psutil.pids())

    def _all_processes(self) -> tuple[ProcessInfo, ...]:
        """Every pid afresh (full scans): also repairs reused pids."""
        return self._refresher.inspect_all(psutil.pids())

    def _inspect_process(self, pid: int) -> ProcessInfo | None:
        """One pid's details from /proc (reads that can stall behind a process stuck in
        the kernel, so they run behind a per-pid deadline, client/integrity/pid_reads.py)."""
        return _inspect(pid)

    def session(self) -> SessionInfo:
        ssh = bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_CLIENT"))
        display = os.environ.get("DISPLAY", "")
        forwarded_x = bool(display.split(":")[0]) and not display.startswith("/")
        return SessionInfo(remote_session=ssh or forwarded_x)

    # ------------------------------------------------------------------ sources

    def _path(self, *parts: str) -> Path:
        return self._root.joinpath(*parts)

    def _read(self, path: Path) -> str:
        return path.read_text(encoding="utf-8", errors="replace").strip()

    def _read_or_empty(self, path: Path) -> str:
        try:
            return self._read(path)
        except OSError:
            return ""

    def _machine_id(self) -> str:
        return self._read(self._path("etc", "machine-id"))

    def _smbios(self) -> SmbiosInfo:
        dmi = self._path("sys", "class", "dmi", "id")
        if not dmi.is_dir():
            raise FileNotFoundError(f"{dmi} (no DMI tables exposed)")

        def get(name: str) -> str:
            return self._read_or_empty(dmi / name)

        return SmbiosInfo(
            manufacturer=get("sys_vendor"), product=get("product_name"),
            family=get("product_family"), bios_vendor=get("bios_vendor"),
            bios_version=get("bios_version"), board_manufacturer=get("board_vendor"),
            board_product=get("board_name"),
        )

    def _pci_ids(self) -> tuple[str, ...]:
        ids = []
        for dev in sorted(self._path("sys", "bus", "pci", "devices").iterdir()):
            def hexid(name: str, dev: Path = dev) -> str:
                return self._read_or_empty(dev / name).removeprefix("0x").upper()

            ids.append(f"PCI\\VEN_{hexid('vendor')}&DEV_{hexid('device')}"
                       f"&SUBSYS_{hexid('subsystem_device')}{hexid('subsystem_vendor')}")
        return tuple(ids)

    def _usb_ids(self) -> tuple[str, ...]:
        root = self._path("sys", "bus", "usb", "devices")
        if not root.is_dir():
            return ()
        ids = []
        for dev in sorted(root.iterdir()):
            vid = self._read_or_empty(dev / "idVendor").upper()
            if vid:
                ids.append(f"USB\\VID_{vid}&PID_{self._read_or_empty(dev / 'idProduct').upper()}")
        return tuple(ids)

    def _block_ids(self) -> tuple[str, ...]:
        root = self._path("sys", "block")
        if not root.is_dir():
            return ()
        ids = []
        for dev in sorted(root.iterdir()):
            vendor = self._read_or_empty(dev / "device" / "vendor")
            model = self._read_or_empty(dev / "device" / "model")
            if vendor or model:
                ids.append(f"SCSI\\DISK&VEN_{vendor.replace(' ', '_')}"
                           f"&PROD_{model.replace(' ', '_')}")
        return tuple(ids)

    def _modules(self) -> tuple[str, ...]:
        text = self._read(self._path("proc", "modules"))
        return tuple(line.split()[0] for line in text.splitlines() if line.strip())

    def _network(self) -> tuple[tuple[NetworkAdapter, ...], str]:
        default_iface = ""
        for line in self._read(self._path("proc", "net", "route")).splitlines()[1:]:
            cols = line.split()
            if len(cols) > 2 and cols[1] == "00000000":
                default_iface = cols[0]
                break
        adapters = []
        for iface in sorted(self._path("sys", "class", "net").iterdir()):
            if iface.name == "lo":
                continue
            mac = self._read_or_empty(iface / "address").lower()
            adapters.append(NetworkAdapter(iface.name, mac, iface.name == default_iface))
        default_mac = next((a.mac for a in adapters if a.default_route), "")
        return tuple(adapters), default_mac

    def _cameras(self) -> tuple[CameraInfo, ...]:
        root = self._path("sys", "class", "video4linux")
        if not root.is_dir():
            return ()
        cameras = []
        for entry in sorted(root.iterdir()):
            # The resolved sysfs path tells the bus: .../usbN/... is hardware,
            # /sys/devices/virtual/... (v4l2loopback) is software.
            resolved = os.path.realpath(entry)
            if self._root != Path("/"):
                resolved = "/" + os.path.relpath(resolved, self._root)
            name = self._read_or_empty(entry / "name") or entry.name
            wanted = selected_camera_now(self._selected_camera)
            selected = wanted is not None and wanted in (f"/dev/{entry.name}", name, resolved)
            cameras.append(CameraInfo(name=name, device_path=resolved, is_selected=selected))
        return tuple(cameras)

    def _displays(self) -> tuple[DisplayInfo, ...]:
        root = self._path("sys", "class", "drm")
        if not root.is_dir():
            return ()
        displays = []
        for conn in sorted(root.iterdir()):
            if "-" not in conn.name or self._read_or_empty(conn / "status") != "connected":
                continue
            connector = conn.name.split("-", 1)[1]  # card0-eDP-1 -> eDP-1
            enabled = self._read_or_empty(conn / "enabled") == "enabled"
            displays.append(DisplayInfo(
                device_id=f"DRM\\{conn.name}", name=connector, flags=1 if enabled else 0,
                monitor_id=connector,
                is_internal=connector.casefold().startswith(_INTERNAL_CONNECTORS),
            ))
        return tuple(displays)

    def _cpu(self) -> CpuInfo:
        brand, flags = "", ""
        for line in self._read(self._path("proc", "cpuinfo")).splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not brand:
                brand = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = value
        clock = self._read_or_empty(
            self._path("sys", "devices", "system", "clocksource", "clocksource0",
                       "current_clocksource"))
        vendor = _CLOCKSOURCE_VENDOR.get(clock, "")
        if not vendor and self._read_or_empty(self._path("sys", "hypervisor", "type")) == "xen":
            vendor = "XenVMMXenVMM"
        return CpuInfo(brand=brand, hypervisor_present="hypervisor" in flags.split(),
                       hypervisor_vendor=vendor, hyperv_root_partition=None)


def _inspect(pid: int) -> ProcessInfo | None:
    try:
        proc = psutil.Process(pid)
        name = proc.name()
    except psutil.Error:
        return None
    try:
        exe = proc.exe()
    except psutil.Error:
        exe = ""  # other users' processes: the name is still enough for the rules
    try:
        parent = proc.parent()
        parent_name = parent.name() if parent is not None else ""
        system = proc.uids().real == 0  # root: the candidate cannot end it
    except psutil.Error:
        parent_name, system = "", False
    return ProcessInfo(pid=pid, name=name, exe=exe, parent=parent_name, system=system)
