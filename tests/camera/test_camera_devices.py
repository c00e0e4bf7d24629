"""Device choice (front/rear/virtual, remembered) and diagnoses, on the names Windows reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from client.camera import diagnose
from client.camera.devices import (
    CAP_DSHOW,
    CAP_MSMF,
    CameraDevice,
    CameraSelection,
    DeviceChoiceStore,
    Facing,
    RememberedCamera,
    choose_device,
    describe,
    enumerate_devices,
    facing,
    is_infrared,
    selectable_devices,
    virtual_camera_reason,
)
from client.camera.errors import CameraError
from client.camera.windows_consent import app_label

USB = "\\\\?\\usb#vid_046d&pid_0825&mi_00#7&1a2b&0&0000#{e5323777-f976}\\global"
SURFACE_FRONT = CameraDevice(0, CAP_MSMF, "Microsoft Camera Front", "\\\\?\\display#int3470#front")
SURFACE_REAR = CameraDevice(1, CAP_MSMF, "Microsoft Camera Rear", "\\\\?\\display#int3470#rear")
SURFACE_IR = CameraDevice(2, CAP_MSMF, "Microsoft IR Camera Front", "\\\\?\\display#int3470#ir")
LOGITECH = CameraDevice(0, CAP_MSMF, "Logitech HD Webcam C270", USB, 0x046D, 0x0825)
OBS = CameraDevice(3, CAP_DSHOW, "OBS Virtual Camera", None)
WIN11_VIRTUAL = CameraDevice(4, CAP_MSMF, "Studio Effects", "\\\\?\\SWD#VCAMDEVAPI#{abc}")


def test_facing_from_windows_names() -> None:
    assert facing(SURFACE_FRONT) is Facing.FRONT
    assert facing(SURFACE_REAR) is Facing.REAR
    assert facing(LOGITECH) is Facing.UNKNOWN
    assert facing(CameraDevice(0, 0, "前置摄像头")) is Facing.FRONT
    assert is_infrared(SURFACE_IR) and not is_infrared(SURFACE_FRONT)


def test_virtual_cameras_are_recognised() -> None:
    assert virtual_camera_reason(OBS)
    assert virtual_camera_reason(WIN11_VIRTUAL)
    assert virtual_camera_reason(CameraDevice(0, CAP_MSMF, "e2eSoft VCam", USB))
    assert virtual_camera_reason(CameraDevice(0, CAP_DSHOW, "Some Capture Filter", None))
    assert virtual_camera_reason(LOGITECH) is None
    assert virtual_camera_reason(SURFACE_FRONT) is None
    assert virtual_camera_reason(CameraDevice(0, CAP_MSMF, "Integrated Webcam", USB)) is None


def test_surface_never_opens_the_rear_camera_by_default() -> None:
    # Windows lists the rear camera first on some Surface models.
    assert choose_device([SURFACE_REAR, SURFACE_IR, SURFACE_FRONT]) == SURFACE_FRONT
    assert choose_device([SURFACE_REAR]) is None
    assert choose_device([OBS, SURFACE_REAR, LOGITECH]) == LOGITECH
    assert choose_device([]) is None


def test_remembered_choice_wins_but_not_for_a_virtual_camera() -> None:
    remembered = RememberedCamera(name=SURFACE_REAR.name, path=SURFACE_REAR.path)
    # The candidate picked the rear camera by hand once: respect it.
    assert choose_device([SURFACE_FRONT, SURFACE_REAR], remembered=remembered) == SURFACE_REAR
    virtual = RememberedCamera(name=OBS.name, path=None)
    assert choose_device([OBS, LOGITECH], remembered=virtual) == LOGITECH
    gone = RememberedCamera(name="Unplugged cam", path="\\\\?\\usb#gone")
    assert choose_device([LOGITECH], remembered=gone) == LOGITECH
    assert selectable_devices([OBS, LOGITECH, SURFACE_REAR]) == [LOGITECH, SURFACE_REAR]


def test_choice_store_round_trip_and_damage(tmp_path: Path) -> None:
    store = DeviceChoiceStore(tmp_path / "data")
    assert store.load() is None
    store.save(SURFACE_FRONT)
    assert store.load() == RememberedCamera(name=SURFACE_FRONT.name, path=SURFACE_FRONT.path)
    store.path.write_text("{broken", encoding="utf-8")
    assert store.load() is None
    store.path.write_text(json.dumps(["not", "a", "dict"]), encoding="utf-8")
    assert store.load() is None


def test_selection_remembers_and_explains(tmp_path: Path) -> None:
    store = DeviceChoiceStore(tmp_path)
    selection = CameraSelection([SURFACE_REAR, SURFACE_FRONT], store=store)
    assert selection.current == SURFACE_FRONT
    selection.select(SURFACE_REAR)
    assert CameraSelection([SURFACE_FRONT, SURFACE_REAR], store=store).current == SURFACE_REAR
    source = selection.open_source()
    assert source.index == SURFACE_REAR.index and source.backend == CAP_MSMF

    with pytest.raises(CameraError) as none:
        CameraSelection([]).open_source()
    assert none.value.code == "camera.none"
    with pytest.raises(CameraError) as rear_only:
        CameraSelection([SURFACE_REAR]).open_source()
    assert rear_only.value.code == "camera.no_default"
    virtual = CameraSelection([OBS, LOGITECH])
    virtual.select(OBS)
    with pytest.raises(CameraError) as chosen_virtual:
        virtual.open_source()
    assert chosen_virtual.value.code == "camera.virtual"
    assert "OBS" in chosen_virtual.value.message


def test_enumeration_runs_here() -> None:
    devices = enumerate_devices()
    assert isinstance(devices, list)
    for record in describe(devices):
        assert {"name", "facing", "virtual"} <= set(record)


# -- diagnoses ------------------------------------------------------------------------------------
def test_open_failure_diagnoses() -> None:
    assert diagnose.open_failure(camera_count=0, consent=None).code == "camera.none"
    denied = diagnose.open_failure(
        camera_count=1, consent=diagnose.ConsentState(user_access="Allow", desktop_apps="Deny")
    )
    assert denied.code == "camera.privacy_denied"
    assert any("隐私" in step for step in denied.instructions)
    busy = diagnose.open_failure(
        camera_count=1, consent=diagnose.ConsentState(apps_in_use=("WeChat.exe", "QQ.exe"))
    )
    assert busy.code == "camera.busy"
    assert "WeChat.exe、QQ.exe" in busy.instructions[0]
    unknown = diagnose.open_failure(camera_count=None, consent=None)
    assert unknown.code == "camera.open_failed"
    assert len(unknown.instructions) >= 3


def test_black_stream_detection_needs_the_whole_window() -> None:
    health = diagnose.FrameHealth(window_ms=1000, max_brightness=12, max_contrast=6)
    assert not any(health.feed(t_ms=t, brightness=1.0, contrast=0.5) for t in range(0, 960, 40))
    assert health.feed(t_ms=1000, brightness=1.0, contrast=0.5)
    # A stream that showed a picture once is not "black" (a hand over the lens later is
    # the proctor monitor's business).
    later = diagnose.FrameHealth(window_ms=1000, max_brightness=12, max_contrast=6)
    later.feed(t_ms=0, brightness=120.0, contrast=50.0)
    assert not any(later.feed(t_ms=t, brightness=0.0, contrast=0.0) for t in range(40, 3000, 40))


def test_windows_app_labels() -> None:
    assert app_label("C:#Program Files#Tencent#QQ#Bin#QQ.exe") == "QQ.exe"
    packaged = "Microsoft.WindowsCamera_8wekyb3d8bbwe"
    assert app_label(packaged) == packaged
    assert diagnose.read_consent_state() is None or sys.platform == "win32"
