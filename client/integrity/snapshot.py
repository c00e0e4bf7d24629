"""What the collectors saw on one PC: plain, JSON-serialisable data and nothing else.

A Snapshot is the only thing the deciding code (evaluate.py, vm_score.py) looks at, so
support can record one on a real PC (`exam-client check --dump-snapshot FILE`) and turn
it into a test fixture unchanged. Empty strings / None mean "not readable here", never
"absent": collectors record why in ``errors`` ("source: reason"), and the evaluation reports
each such source as unavailable.

Reading a file is strict (the schema is the dataclasses below): an unknown key (a typo such
as "proceses") or a missing one is an error, never a silently empty part that would
evaluate as 检测通过. Older files are still read; only the fields added since their format
may be missing there (format 1 lacks ProcessInfo.parent/system, formats 1-2 lack
ProcessInfo.unverified).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

SNAPSHOT_FORMAT = 3
# Fields added in each format (older files may lack them); every other key is required.
_ADDED_IN = {2: {"ProcessInfo": frozenset({"parent", "system"})},
             3: {"ProcessInfo": frozenset({"unverified"})}}


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    name: str  # image name as the OS reports it, e.g. "ToDesk.exe"
    exe: str = ""  # full path when readable
    original_filename: str = ""  # PE version resource; survives renaming the file
    signer: str = ""  # subject of a *verified* Authenticode signature, else ""
    service: str = ""  # service name when this process hosts a Windows service
    parent: str = ""  # image name of the parent process ("wslhost.exe"), "" if gone/unreadable
    # Runs in session 0 / as root: the candidate cannot end it, a proctor or admin must.
    system: bool = False
    # The image file could not be read in time (a stalled network share or USB stick): the
    # name is what the OS reports, original_filename and signer are unknown, so the process
    # is judged by its name and no allow entry or exception applies (collector.py).
    unverified: bool = False


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
        """Strict: unknown or missing keys raise ValueError naming them."""
        if not isinstance(data, Mapping):
            raise ValueError(f"snapshot: expected an object, got {type(data).__name__}")
        version = data.get("format")
        if not isinstance(version, int) or not 1 <= version <= SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {version!r} is not one this client reads "
                             f"(1..{SNAPSHOT_FORMAT})")
        _check_keys("snapshot", data, {f.name for f in fields(cls)}, optional=frozenset())
        return cls(
            os=_text(data, "os"),
            username=_text(data, "username"),
            machine_id=_text(data, "machine_id"),
            processes=_items(ProcessInfo, data["processes"], version),
            services=_items(ServiceInfo, data["services"], version),
            session=_one(SessionInfo, data["session"], version),
            smbios=_one(SmbiosInfo, data["smbios"], version),
            pci_vendor_ids=_texts(data, "pci_vendor_ids"),
            pnp_device_ids=_texts(data, "pnp_device_ids"),
            drivers_loaded=_texts(data, "drivers_loaded"),
            default_route_mac=_text(data, "default_route_mac"),
            network_adapters=_items(NetworkAdapter, data["network_adapters"], version),
            cameras=_items(CameraInfo, data["cameras"], version),
            displays=_items(DisplayInfo, data["displays"], version),
            cpu=_one(CpuInfo, data["cpu"], version),
            loaded_modules_of_interest=_texts(data, "loaded_modules_of_interest"),
            errors=_texts(data, "errors"),
            format=SNAPSHOT_FORMAT,
        )

    @classmethod
    def loads(cls, text: str) -> Snapshot:
        return cls.from_json(json.loads(text))


_T = TypeVar("_T")


def _check_keys(what: str, data: Mapping[str, Any], known: set[str], *,
                optional: frozenset[str]) -> None:
    unknown = set(data) - known
    if unknown:
        # A typo in a hand-written fixture must not silently become "field absent".
        raise ValueError(f"{what}: unknown fields {sorted(unknown)}")
    missing = known - set(data) - optional
    if missing:
        raise ValueError(f"{what}: missing fields {sorted(missing)}")


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise ValueError(f"snapshot.{key}: expected text, got {type(value).__name__}")
    return value


def _texts(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data[key]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"snapshot.{key}: expected a list of text")
    return tuple(value)


def _one(kind: type[_T], data: Any, version: int = SNAPSHOT_FORMAT) -> _T:
    if not isinstance(data, Mapping):
        raise ValueError(f"{kind.__name__}: expected an object, got {type(data).__name__}")
    known = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    optional = frozenset().union(*(added.get(kind.__name__, frozenset())
                                   for since, added in _ADDED_IN.items() if version < since))
    _check_keys(kind.__name__, data, known, optional=optional)
    return kind(**data)


def _items(kind: type[_T], data: Any, version: int = SNAPSHOT_FORMAT) -> tuple[_T, ...]:
    if not isinstance(data, list | tuple):
        raise ValueError(f"{kind.__name__}: expected a list")
    return tuple(_one(kind, item, version) for item in data)
