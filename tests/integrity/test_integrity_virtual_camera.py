"""One virtual-camera classifier for the camera module and e-02 (issue 17: a Windows 11
Media Foundation virtual camera was caught by the camera module and missed by e-02)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from client.camera.devices import CAP_DSHOW, CAP_MSMF, CameraDevice, virtual_camera_reason
from client.integrity.evaluate import camera_is_virtual
from client.integrity.rules import builtin_rules
from client.integrity.snapshot import CameraInfo

CAMERAS = [
    ("Integrated Camera", "\\\\?\\SWD#VCAMDEVAPI#{6E1C3A2B}#{e5323777}\\global", True),
    ("OBS Virtual Camera", "", True),
    ("Logi Capture", "\\\\?\\usb#vid_046d&pid_0893&mi_00#7&1b3c", True),
    ("e2eSoft VCam", "\\\\?\\root#image#0000#{65e8773d}\\global", True),
    ("Logitech HD Webcam C270", "\\\\?\\usb#vid_046d&pid_0825&mi_00#6&2a3f1b2c", False),
    ("Microsoft Camera Front", "\\\\?\\DISPLAY#INTC1234#4&2f4c#{e5323777}\\front", False),
    ("Integrated Webcam", "\\\\?\\ACPI#OVTI5693#1#{e5323777}\\global", False),
]


def test_both_users_classify_the_same_cameras_the_same_way() -> None:
    rules = builtin_rules()
    for name, path, virtual in CAMERAS:
        backend = CAP_DSHOW if not path else CAP_MSMF
        module = virtual_camera_reason(CameraDevice(0, backend, name, path or None))
        e02 = camera_is_virtual(CameraInfo(name=name, device_path=path), rules)
        assert (module is not None) == virtual, (name, module)
        assert (e02 is not None) == virtual, (name, e02)


@given(st.text(max_size=30), st.sampled_from(
    ["", "\\\\?\\usb#vid_1234&pid_5678", "\\\\?\\swd#vcamdevapi#x", "\\\\?\\root#image#1",
     "\\\\?\\acpi#ovti#1", "@device:sw:{860bb310}"]))
def test_e02_flags_every_camera_the_camera_module_refuses(name: str, path: str) -> None:
    """The signed rules may add names for e-02, never take the shared ones away."""
    module = virtual_camera_reason(CameraDevice(0, CAP_DSHOW, name, path or None))
    e02 = camera_is_virtual(CameraInfo(name=name, device_path=path), builtin_rules())
    if module is not None:
        assert e02 is not None
