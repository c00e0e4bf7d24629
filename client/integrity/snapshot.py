"""What the collectors saw on one PC: plain, JSON-serialisable data and nothing else.

A Snapshot is the only thing the deciding code (evaluate.py, vm_score.py) looks at, so
support can record one on a real PC (`exam-client check --dump-snapshot FILE`) and turn
it into a test fixture unchanged. Empty strings / None mean "not readable here", never
"absent": collectors record why in ``errors``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    name: str  # image name as the OS reports it, e.g. "ToDesk.exe"
    exe: str = ""  # full path when readable
    original_filename: str = ""  # PE version resource; survives renaming the file
    signer: str = ""  # subject of a *verified* Authenticode signature, else ""
    service: str = ""  # service name when this process hosts a Windows service


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    display_name: str = ""
    state: str = ""  # "running", "stopped", ... as psutil reports it
    binary_path: str = ""


@dataclass(frozen=True)
class SessionInfo:
    remote_session: bool = False  # GetSystemMetrics(SM_REMOTESESSION) / SSH on Linux
    remote_control_shadowed: bool = False  # GetSystemMetrics(SM_REMOTECONTROL)
    wts_protocol: int | None = None  # WTSClientProtocolType: 0 console, 1 ICA, 2 RDP
    session_id: int | None = None
    glass_session_id: int | None = None  # console session per the registry (RemoteFX case)


@dataclass(frozen=True)
class SmbiosInfo:
    manufacturer: str = ""
    product: str = ""
    family: str = ""
    bios_vendor: str = ""
    bios_version: str = ""
    board_manufacturer: str = ""
    board_product: str = ""


@dataclass(frozen=True)
class CameraInfo:
    name: str
    device_path: str = ""  # "" for DirectShow software filters (no DevicePath)
    is_selected: bool = False  # the camera the proctoring module will open


@dataclass(frozen=True)
class DisplayInfo:
    device_id: str  # PnP id of the adapter, e.g. "PCI\\VEN_8086&..." or "ROOT\\PARSEC\\VDA"
    name: str = ""
    flags: int = 0  # EnumDisplayDevices StateFlags (0x1 attached, 0x8 mirroring driver)
    monitor_id: str = ""  # e.g. "MONITOR\\DEL4083\\..." or a DRM connector name
    is_internal: bool | None = None  # None: not known on this platform


@dataclass(frozen=True)
class NetworkAdapter:
    name: str
    mac: str  # "aa:bb:cc:dd:ee:ff", lower case
    default_route: bool = False


@dataclass(frozen=True)
class CpuInfo:
    brand: str = ""
    hypervisor_present: bool | None = None
    hypervisor_vendor: str = ""  # CPUID 0x40000000 vendor, e.g. "VMwareVMware", "Microsoft Hv"
    hyperv_root_partition: bool | None = None  # CPUID 0x40000003 EBX bit 0 (CreatePartitions)


@dataclass(frozen=True)
class Snapshot:
    os: str = ""
    username: str = ""
    machine_id: str = ""
    processes: tuple[ProcessInfo, ...] = ()
    services: tuple[ServiceInfo, ...] = ()
    session: SessionInfo = field(default_factory=SessionInfo)
    smbios: SmbiosInfo = field(default_factory=SmbiosInfo)
    pci_vendor_ids: tuple[str, ...] = ()  # 4 hex digits, upper case: "8086", "15AD"
    pnp_device_ids: tuple[str, ...] = ()  # present device instance ids (all buses)
    drivers_loaded: tuple[str, ...] = ()  # kernel driver/module base names, no extension
    default_route_mac: str = ""
    network_adapters: tuple[NetworkAdapter, ...] = ()
    cameras: tuple[CameraInfo, ...] = ()
    displays: tuple[DisplayInfo, ...] = ()
    cpu: CpuInfo = field(default_factory=CpuInfo)
    loaded_modules_of_interest: tuple[str, ...] = ()  # e.g. "SbieDll.dll" in our process
    errors: tuple[str, ...] = ()  # collector failures, for support
    format: int = SNAPSHOT_FORMAT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        version = int(data.get("format", SNAPSHOT_FORMAT))
        if version > SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {version} is newer than {SNAPSHOT_FORMAT}")
        return cls(
            os=str(data.get("os", "")),
            username=str(data.get("username", "")),
            machine_id=str(data.get("machine_id", "")),
            processes=_items(ProcessInfo, data.get("processes", ())),
            services=_items(ServiceInfo, data.get("services", ())),
            session=_one(SessionInfo, data.get("session", {})),
            smbios=_one(SmbiosInfo, data.get("smbios", {})),
            pci_vendor_ids=tuple(str(v) for v in data.get("pci_vendor_ids", ())),
            pnp_device_ids=tuple(str(v) for v in data.get("pnp_device_ids", ())),
            drivers_loaded=tuple(str(v) for v in data.get("drivers_loaded", ())),
            default_route_mac=str(data.get("default_route_mac", "")),
            network_adapters=_items(NetworkAdapter, data.get("network_adapters", ())),
            cameras=_items(CameraInfo, data.get("cameras", ())),
            displays=_items(DisplayInfo, data.get("displays", ())),
            cpu=_one(CpuInfo, data.get("cpu", {})),
            loaded_modules_of_interest=tuple(
                str(v) for v in data.get("loaded_modules_of_interest", ())
            ),
            errors=tuple(str(v) for v in data.get("errors", ())),
            format=SNAPSHOT_FORMAT,
        )

    @classmethod
    def loads(cls, text: str) -> Snapshot:
        return cls.from_json(json.loads(text))


_T = TypeVar("_T")


def _one(kind: type[_T], data: Any) -> _T:
    if not isinstance(data, Mapping):
        raise ValueError(f"{kind.__name__}: expected an object, got {type(data).__name__}")
    known = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    unknown = set(data) - known
    if unknown:
        # A typo in a hand-written fixture must not silently become "field absent".
        raise ValueError(f"{kind.__name__}: unknown fields {sorted(unknown)}")
    return kind(**data)


def _items(kind: type[_T], data: Any) -> tuple[_T, ...]:
    if isinstance(data, str | bytes) or not hasattr(data, "__iter__"):
        raise ValueError(f"{kind.__name__}: expected a list")
    return tuple(_one(kind, item) for item in data)
