"""The one virtual-camera classifier: the camera module (which camera to open) and e-02
(is the selected camera a software one) both ask here, so they cannot disagree.

Structure first, names second: a software device's path gives it away however it is
named (Windows 11 virtual cameras made with MFCreateVirtualCamera are ``\\\\?\\swd#vcamdevapi``
devices; root-enumerated ones are ``\\\\?\\root#``; a DirectShow filter has no device path at
all), while a name catches the filters that copy a real camera's path layout. Plain data
in (name, path), so it is tested on Linux with the strings Windows reports.
"""

from __future__ import annotations

from collections.abc import Iterable

# Software cameras that can feed any video (a recording, another person, a screen).
# Sources: the vendors' own product names (OBS Studio, ManyCam, XSplit, e2eSoft, Snap,
# DroidCam, Iriun, EpocCam/Camo by Reincubate, NVIDIA Broadcast, mmhmm, Webcamoid...).
VIRTUAL_CAMERA_WORDS: tuple[str, ...] = (
    "virtual", "虚拟", "obs-camera", "obs camera", "vcam", "manycam", "xsplit",
    "snap camera", "splitcam", "e2esoft", "droidcam", "iriun", "epoccam", "ivcam",
    "camtwist", "youcam", "altercam", "fakewebcam", "nvidia broadcast", "mmhmm",
    "chromacam", "webcamoid", "sparkocam", "vmix", "ndi webcam", "newtek ndi", "streamlabs",
    "reincubate", "unity video capture", "v4l2loopback", "dummy video device",
    "camo ", "logi capture", "screen capture", "屏幕",
)

# Device paths of software devices (case-insensitive prefixes).
SOFTWARE_PATH_PREFIXES: tuple[str, ...] = (
    "\\\\?\\swd#vcamdevapi",  # Windows 11 Media Foundation virtual camera
    "\\\\?\\root#",           # root-enumerated (software) device
    "@device:sw:",            # DirectShow software filter moniker
    "@device_sw_",
    "/sys/devices/virtual/",  # Linux v4l2loopback
)


def virtual_camera_reason(
    *,
    name: str,
    path: str | None,
    missing_path_is_software: bool,
    extra_names: Iterable[str] = (),
    extra_path_prefixes: Iterable[str] = (),
) -> str | None:
    """Why this camera is virtual (software), or None when it looks like hardware.

    *missing_path_is_software*: the caller knows the device came from DirectShow, where a
    capture filter without a DevicePath is software (a MIPI laptop camera still has one).
    *extra_names* / *extra_path_prefixes* come from the signed integrity rules.
    """
    lowered = (path or "").strip().casefold()
    for prefix in (*SOFTWARE_PATH_PREFIXES, *extra_path_prefixes):
        folded = prefix.strip().casefold()
        if folded and lowered.startswith(folded):
            if folded.startswith("\\\\?\\swd#vcamdevapi"):
                return "device path is a Windows virtual camera (swd#vcamdevapi)"
            return f"software device path {path}"
    if missing_path_is_software and not lowered:
        return "DirectShow filter without a hardware device path"
    padded = f" {name.casefold()} "
    for word in (*VIRTUAL_CAMERA_WORDS, *extra_names):
        folded = word.casefold()
        if folded and folded in padded:
            return f"name contains {folded.strip()!r}"
    return None
