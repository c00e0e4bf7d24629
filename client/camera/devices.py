"""Which cameras exist, which one to use by default, and remembering the candidate's choice.

The deciding logic (``facing``, ``virtual_camera_reason``, ``choose_device``) works on
plain ``CameraDevice`` records, so it is tested on Linux with the device names Windows
reports. Enumeration uses the cv2_enumerate_cameras package (Media Foundation and
DirectShow names and device paths on Windows, /dev/video* on Linux) when it is
installed; without it there is one "default camera" entry and no names.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from client.devices.virtual_camera import (
    virtual_camera_reason as shared_virtual_camera_reason,
)

if TYPE_CHECKING:
    from client.camera.sources import OpenCVCameraSource

log = logging.getLogger(__name__)

# cv2.CAP_* values, repeated here so that choosing a device needs no cv2 import.
CAP_ANY, CAP_V4L2, CAP_DSHOW, CAP_MSMF = 0, 200, 700, 1400


@dataclass(frozen=True)
class CameraDevice:
    index: int                 # for cv2.VideoCapture(index, backend)
    backend: int
    name: str
    path: str | None = None    # MSMF symbolic link / DirectShow DevicePath / /dev/videoN
    vid: int | None = None
    pid: int | None = None

    @property
    def label(self) -> str:
        return self.name or f"#{self.index}"


class Facing(StrEnum):
    FRONT = "front"
    REAR = "rear"
    UNKNOWN = "unknown"


_FRONT_WORDS = ("front", "user facing", "user-facing", "前置")
_REAR_WORDS = ("rear", "back camera", "world facing", "world-facing", "后置")
_INFRARED_WORDS = (" ir ", "infrared", "红外")

def facing(device: CameraDevice) -> Facing:
    """Front/rear from the name Windows reports (Surface: "Microsoft Camera Front/Rear")."""
    name = f" {device.name.lower()} "
    if any(word in name for word in _REAR_WORDS):
        return Facing.REAR
    if any(word in name for word in _FRONT_WORDS):
        return Facing.FRONT
    return Facing.UNKNOWN


def is_infrared(device: CameraDevice) -> bool:
    """Windows Hello IR cameras deliver grey infrared frames: useless for the face match."""
    name = f" {device.name.lower()} "
    return any(word in name for word in _INFRARED_WORDS)


def virtual_camera_reason(device: CameraDevice) -> str | None:
    """Why *device* looks like a virtual (software) camera, or None. The classifier is
    shared with e-02 (client/devices/virtual_camera.py), so both agree."""
    return shared_virtual_camera_reason(name=device.name, path=device.path,
                                        missing_path_is_software=device.backend == CAP_DSHOW)


@dataclass(frozen=True)
class RememberedCamera:
    name: str
    path: str | None


def _matches(device: CameraDevice, remembered: RememberedCamera) -> bool:
    if remembered.path:
        return device.path == remembered.path
    return device.name == remembered.name


def usable_by_default(device: CameraDevice) -> bool:
    return (
        virtual_camera_reason(device) is None
        and not is_infrared(device)
        and facing(device) is not Facing.REAR
    )


def choose_device(
    devices: Sequence[CameraDevice], *, remembered: RememberedCamera | None = None
) -> CameraDevice | None:
    """The camera to open without asking: the remembered one, else a front camera, else
    an ordinary one. Never a rear, infrared or virtual camera (the candidate may still
    pick a rear camera by hand); None when nothing qualifies."""
    if remembered is not None:
        for device in devices:
            if _matches(device, remembered) and virtual_camera_reason(device) is None:
                return device
    candidates = [device for device in devices if usable_by_default(device)]
    for device in candidates:
        if facing(device) is Facing.FRONT:
            return device
    return candidates[0] if candidates else None


def selectable_devices(devices: Iterable[CameraDevice]) -> list[CameraDevice]:
    """Devices the candidate may pick by hand (virtual cameras are not offered)."""
    return [device for device in devices if virtual_camera_reason(device) is None]


class DeviceChoiceStore:
    """The candidate's camera choice in a small JSON file in the client's data directory."""

    FILE_NAME = "camera_choice.json"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / self.FILE_NAME

    def load(self) -> RememberedCamera | None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("camera choice %s unreadable, ignoring it: %s", self.path, exc)
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            return None
        path = raw.get("path")
        return RememberedCamera(name=raw["name"], path=path if isinstance(path, str) else None)

    def save(self, device: CameraDevice) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"name": device.name, "path": device.path}
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        temporary.replace(self.path)


def enumerate_devices() -> list[CameraDevice]:
    """The cameras of this PC (Windows: Media Foundation first, plus DirectShow-only
    devices such as OBS's virtual camera, so that e-02 can see them)."""
    try:
        from cv2_enumerate_cameras import enumerate_cameras
    except ImportError:
        log.info("cv2_enumerate_cameras not installed: using the default camera only")
        return [CameraDevice(index=0, backend=CAP_ANY, name="")]
    if sys.platform == "win32":
        backends: tuple[int, ...] = (CAP_MSMF, CAP_DSHOW)
    elif sys.platform.startswith("linux"):
        backends = (CAP_V4L2,)
    else:
        backends = (CAP_ANY,)
    found: list[CameraDevice] = []
    seen_names: set[str] = set()
    for backend in backends:
        try:
            infos = enumerate_cameras(backend)
        except (OSError, RuntimeError, NotImplementedError) as exc:
            log.warning("camera enumeration with backend %s failed: %s", backend, exc)
            continue
        for info in infos:
            name = str(info.name or "")
            if backend == CAP_DSHOW and name in seen_names:
                continue  # the same device already listed through Media Foundation
            seen_names.add(name)
            found.append(
                CameraDevice(
                    index=int(info.index),
                    backend=int(info.backend),
                    name=name,
                    path=str(info.path) if info.path else None,
                    vid=info.vid,
                    pid=info.pid,
                )
            )
    return found


def describe(devices: Iterable[CameraDevice]) -> list[dict[str, object]]:
    """Plain records for diagnostics and logs."""
    return [
        {**asdict(device), "facing": facing(device).value,
         "virtual": virtual_camera_reason(device), "infrared": is_infrared(device)}
        for device in devices
    ]


class CameraSelection:
    """The device list, the current choice and its persistence, for the camera panel.

    ``current`` starts as the remembered camera or ``choose_device``'s pick; a choice by
    the candidate is saved so that the next start (and the proctor monitor) uses it.
    """

    def __init__(
        self,
        devices: Sequence[CameraDevice],
        *,
        store: DeviceChoiceStore | None = None,
        width: int = 640,
        height: int = 480,
        flip_horizontal: bool = False,
    ) -> None:
        self.devices = list(devices)
        self._store = store
        self._width = width
        self._height = height
        self._flip = flip_horizontal
        remembered = store.load() if store is not None else None
        self.current = choose_device(self.devices, remembered=remembered)

    def select(self, device: CameraDevice) -> None:
        self.current = device
        if self._store is not None:
            self._store.save(device)

    def open_source(self) -> OpenCVCameraSource:
        """A source for the current device; CameraError when there is none to use."""
        from client.camera import diagnose
        from client.camera.sources import OpenCVCameraSource

        if not self.devices:
            raise diagnose.no_camera()
        device = self.current
        if device is None:
            raise diagnose.only_unsuitable_cameras(self.devices)
        virtual = diagnose.virtual_camera_selected(device)
        if virtual is not None:
            raise virtual
        return OpenCVCameraSource(
            index=device.index,
            backend=device.backend,
            name=device.name,
            path=device.path or "",
            width=self._width,
            height=self._height,
            flip_horizontal=self._flip,
        )
