"""Video capture devices with their device paths (cv2_enumerate_cameras, lazily imported).

DirectShow lists software filters (OBS Virtual Camera has no DevicePath) and Media
Foundation lists Frame Server cameras (MIPI laptop cameras); both are merged.
"""

from __future__ import annotations

import sys

from client.integrity.snapshot import CameraInfo

# cv2.CAP_DSHOW and cv2.CAP_MSMF; the numbers avoid importing OpenCV for a device list.
_CAP_DSHOW = 700
_CAP_MSMF = 1400


def read_cameras(*, selected: str | None) -> tuple[CameraInfo, ...]:
    if sys.platform == "win32":
        from cv2_enumerate_cameras import enumerate_cameras

        seen: dict[str, CameraInfo] = {}
        for backend in (_CAP_DSHOW, _CAP_MSMF):
            for cam in enumerate_cameras(backend):
                name = str(cam.name or "")
                path = str(cam.path or "")
                key = path.casefold() or f"name:{name.casefold()}"
                if key in seen:
                    continue
                is_selected = selected is not None and selected.casefold() in (
                    path.casefold(), name.casefold())
                seen[key] = CameraInfo(name=name, device_path=path, is_selected=is_selected)
        return tuple(seen.values())
    raise OSError("this camera list is the Windows one")
