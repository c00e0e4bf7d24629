"""Collectors that can run here: the Linux collector on a small /sys tree and on this
machine, the pure decoding helpers the Windows adapters use, and the process refresher."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import psutil

from client.integrity.capture_protection import protect_window
from client.integrity.collect_linux import LinuxCollector
from client.integrity.collect_windows.devices import pci_vendor_ids
from client.integrity.collect_windows.hypervisor import parse_hypervisor_detail
from client.integrity.collect_windows.network import read_adapters
from client.integrity.collector import ProcessRefresher
from client.integrity.evaluate import evaluate
from client.integrity.imagepath import executable_name, executable_path
from client.integrity.rules import builtin_rules
from client.integrity.snapshot import ProcessInfo, Snapshot


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def fake_vbox_guest(root: Path) -> None:
    write(root, "sys/class/dmi/id/sys_vendor", "innotek GmbH")
    write(root, "sys/class/dmi/id/product_name", "VirtualBox")
    write(root, "sys/class/dmi/id/bios_vendor", "innotek GmbH")
    write(root, "sys/class/dmi/id/bios_version", "VirtualBox")
    for dev, vendor, device in (("0000:00:02.0", "0x80ee", "0xbeef"),
                                ("0000:00:03.0", "0x8086", "0x100e")):
        write(root, f"sys/bus/pci/devices/{dev}/vendor", vendor)
        write(root, f"sys/bus/pci/devices/{dev}/device", device)
        write(root, f"sys/bus/pci/devices/{dev}/subsystem_vendor", "0x0000")
        write(root, f"sys/bus/pci/devices/{dev}/subsystem_device", "0x0000")
    write(root, "proc/modules", "vboxguest 458752 2 vboxsf, Live 0x0\nvboxsf 94208 0 - Live 0x0")
    write(root, "proc/cpuinfo", "model name\t: Intel(R) Core(TM) i5-8250U\n"
                                "flags\t\t: fpu vme hypervisor lahf_lm")
    write(root, "sys/devices/system/clocksource/clocksource0/current_clocksource", "kvm-clock")
    write(root, "proc/net/route",
          "Iface\tDestination\tGateway\tFlags\nenp0s3\t00000000\t0202000A\t0003\n"
          "enp0s3\t0002000A\t00000000\t0001")
    write(root, "sys/class/net/enp0s3/address", "08:00:27:9d:1c:44")
    write(root, "sys/class/net/lo/address", "00:00:00:00:00:00")
    write(root, "etc/machine-id", "0123456789abcdef0123456789abcdef")
    # One USB camera and one v4l2loopback device, linked the way sysfs links them.
    usb = root / "sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/video4linux/video0"
    loop = root / "sys/devices/virtual/video4linux/video2"
    for dev, name in ((usb, "Integrated Camera: Integrated C"), (loop, "Dummy video device")):
        write(root, f"{dev.relative_to(root).as_posix()}/name", name)
    (root / "sys/class/video4linux").mkdir(parents=True)
    os.symlink(usb, root / "sys/class/video4linux/video0")
    os.symlink(loop, root / "sys/class/video4linux/video2")
    write(root, "sys/class/drm/card0-eDP-1/status", "connected")
    write(root, "sys/class/drm/card0-eDP-1/enabled", "enabled")
    write(root, "sys/class/drm/card0-HDMI-A-1/status", "disconnected")


def test_linux_collector_reads_a_sys_tree(tmp_path: Path) -> None:
    fake_vbox_guest(tmp_path)
    snap = LinuxCollector(root=tmp_path, selected_camera="/dev/video2").snapshot()
    assert snap.smbios.manufacturer == "innotek GmbH"
    assert snap.pci_vendor_ids == ("8086", "80EE")
    assert "PCI\\VEN_80EE&DEV_BEEF&SUBSYS_00000000" in snap.pnp_device_ids
    assert snap.drivers_loaded == ("vboxguest", "vboxsf")
    assert snap.cpu.hypervisor_present and snap.cpu.hypervisor_vendor == "KVMKVMKVM"
    assert snap.default_route_mac == "08:00:27:9d:1c:44"
    assert snap.machine_id == "0123456789abcdef0123456789abcdef"
    cams = {c.name: c for c in snap.cameras}
    assert cams["Dummy video device"].device_path.startswith("/sys/devices/virtual/")
    assert cams["Dummy video device"].is_selected
    assert "/usb1/" in cams["Integrated Camera: Integrated C"].device_path
    assert [(d.name, d.flags, d.is_internal) for d in snap.displays] == [("eDP-1", 1, True)]
    found = {(f.kind, f.subject) for f in evaluate(snap, builtin_rules())}
    assert ("vm", "virtualbox") in found
    assert ("virtual_camera_selected", "/sys/devices/virtual/video4linux/video2") in found
    assert Snapshot.loads(snap.dumps()) == snap


def test_linux_collector_records_missing_sources_instead_of_failing(tmp_path: Path) -> None:
    snap = LinuxCollector(root=tmp_path).snapshot()  # an empty tree: nothing readable
    assert snap.smbios.manufacturer == "" and snap.pci_vendor_ids == ()
    joined = " ".join(snap.errors)
    for source in ("smbios", "pci", "modules", "cpu", "network"):
        assert source in joined


def test_linux_collector_on_this_machine() -> None:
    snap = LinuxCollector().snapshot()
    assert snap.os and any(p.pid == os.getpid() for p in snap.processes)
    assert Snapshot.loads(snap.dumps()) == snap


def test_process_refresher_inspects_only_new_pids_and_once_more_when_young() -> None:
    inspected: list[int] = []
    names = {3: None, 4: "python3", 5: "p5.exe"}

    def inspect(pid: int) -> ProcessInfo | None:
        inspected.append(pid)
        name = names.get(pid)
        return None if name is None else ProcessInfo(pid=pid, name=name)

    refresher = ProcessRefresher(inspect)
    previous = (ProcessInfo(pid=1, name="old1.exe"), ProcessInfo(pid=2, name="old2.exe"))
    first = refresher.refresh(previous, pids=[2, 3, 4])
    assert inspected == [3, 4]  # 2 is known, 1 is gone, 3 exited while being inspected
    assert [(p.pid, p.name) for p in first] == [(2, "old2.exe"), (4, "python3")]
    names[4] = "ToDesk.exe"  # the child called exec after the first look
    inspected.clear()
    second = refresher.refresh(first, pids=[2, 4, 5])
    assert inspected == [5, 4]  # new pids first, young re-reads last (churn, attack A6)
    assert [(p.pid, p.name) for p in second] == [(2, "old2.exe"), (4, "ToDesk.exe"),
                                                 (5, "p5.exe")]
    inspected.clear()
    refresher.refresh(second, pids=[2, 4, 5])
    assert inspected == [5]  # 4 has settled; 5 is looked at once more


def test_hypervisor_detail_decoding() -> None:
    def detail(vendor: bytes, features_ebx: int) -> bytes:
        ebx, ecx, edx = struct.unpack("<3I", vendor.ljust(12, b"\0"))
        words = [0x4000000B, ebx, ecx, edx] + [0] * 24
        words[13] = features_ebx
        return struct.pack("<28I", *words)

    root = parse_hypervisor_detail(detail(b"Microsoft Hv", 0x2BFFF), brand="x")
    assert (root.hypervisor_vendor, root.hyperv_root_partition) == ("Microsoft Hv", True)
    guest = parse_hypervisor_detail(detail(b"Microsoft Hv", 0x2BFFE), brand="x")
    assert guest.hyperv_root_partition is False
    vmware = parse_hypervisor_detail(detail(b"VMwareVMware", 1), brand="x")
    assert (vmware.hypervisor_vendor, vmware.hyperv_root_partition) == ("VMwareVMware", False)
    none = parse_hypervisor_detail(bytes(112), brand="x")
    assert (none.hypervisor_present, none.hypervisor_vendor) == (False, "")


def test_service_image_paths() -> None:
    assert executable_name('"C:\\Program Files (x86)\\TeamViewer\\TeamViewer_Service.exe"') \
        == "TeamViewer_Service.exe"
    assert executable_path("C:\\Program Files\\Splashtop\\SRService.exe -k x") \
        == "C:\\Program Files\\Splashtop\\SRService.exe"
    assert executable_name("C:\\Windows\\system32\\svchost.exe -k netsvcs -p") == "svchost.exe"
    assert executable_name("\\SystemRoot\\System32\\drivers\\vmx86.sys") == "vmx86.sys"


def test_pci_vendor_ids_from_device_ids() -> None:
    ids = ("PCI\\VEN_15ad&DEV_0405\\3&1", "PCI\\VEN_8086&DEV_3E92\\3&2", "USB\\VID_0E0F&PID_3")
    assert pci_vendor_ids(ids) == ("15AD", "8086")


def test_default_route_adapter_is_marked() -> None:
    adapters, default_mac = read_adapters()
    assert all(a.mac == a.mac.lower() for a in adapters)
    assert sum(a.default_route for a in adapters) <= 1
    if default_mac:
        assert any(a.default_route and a.mac == default_mac for a in adapters)
    names = set(psutil.net_if_addrs())
    assert {a.name for a in adapters} <= names


def test_capture_protection_reports_unsupported_off_windows() -> None:
    status = protect_window(0x1234)
    assert status.mode == "unsupported" and not status.protected
