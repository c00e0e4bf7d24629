"""Turn camera trouble into a diagnosis a candidate or proctor can act on (zh_CN steps).

Pure functions over plain data: the device list, the Windows camera privacy/usage state
(read by the windows_consent adapter), frame statistics. What the center sees most:
antivirus "camera protection" blocking the exam client (black frames while other apps
work), the camera held by QQ/WeChat/a browser, the privacy switch, a lens cover.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from client.camera.devices import CameraDevice, virtual_camera_reason
from client.camera.errors import CameraError
from client.i18n import _


@dataclass(frozen=True)
class ConsentState:
    """Windows camera privacy switches ("Allow"/"Deny"/None when unknown) and the apps
    that the system records as using the camera right now."""

    device_access: str | None = None     # "Camera access for this device" (HKLM)
    user_access: str | None = None       # "Let apps access your camera" (HKCU)
    desktop_apps: str | None = None      # "Let desktop apps access your camera" (HKCU)
    apps_in_use: tuple[str, ...] = ()

    @property
    def denied(self) -> bool:
        return "Deny" in (self.device_access, self.user_access, self.desktop_apps)


def read_consent_state() -> ConsentState | None:
    """The Windows privacy/usage state, or None elsewhere (or if it cannot be read)."""
    if sys.platform == "win32":
        from client.camera.windows_consent import read_camera_consent

        return read_camera_consent()
    return None


def _privacy_steps() -> list[str]:
    return [
        _("Windows 10：设置 > 隐私 > 相机，打开“允许应用访问你的相机”和“允许桌面应用访问你的相机”"),
        _("Windows 11：设置 > 隐私和安全性 > 摄像头，打开“摄像头访问”和“让桌面应用访问你的摄像头”"),
    ]


def _antivirus_step() -> str:
    return _("检查杀毒软件（如360安全卫士、火绒、腾讯电脑管家）的“摄像头防护”，允许考试客户端使用摄像头，或暂时关闭该防护")  # noqa: E501


def _cover_step() -> str:
    return _("检查镜头是否被隐私滑盖、贴纸或胶带遮挡；部分笔记本可用键盘上的摄像头开关（如Fn+F8/F10）打开摄像头")  # noqa: E501


def _close_apps_step(apps: Sequence[str]) -> str:
    if apps:
        return _("关闭正在使用摄像头的程序：{apps}").format(apps="、".join(apps))
    return _("关闭可能正在使用摄像头的程序（QQ、微信、腾讯会议、钉钉、浏览器、相机）")


def no_camera() -> CameraError:
    return CameraError(
        "camera.none",
        _("没有找到摄像头"),
        instructions=[
            _("确认摄像头已连接；USB摄像头请换一个USB接口再试"),
            _("在设备管理器中检查摄像头是否被禁用"),
            _("仍无法解决时请举手联系监考老师"),
        ],
    )


def open_failure(
    *, camera_count: int | None, consent: ConsentState | None, name: str = ""
) -> CameraError:
    """The camera exists (or we do not know) but cv2.VideoCapture could not open it."""
    if camera_count == 0:
        return no_camera()
    if consent is not None and consent.denied:
        return CameraError(
            "camera.privacy_denied",
            _("Windows 隐私设置禁止了程序使用摄像头"),
            instructions=_privacy_steps(),
            device=name,
            consent=str(consent),
        )
    if consent is not None and consent.apps_in_use:
        return CameraError(
            "camera.busy",
            _("摄像头正被其他程序占用"),
            instructions=[_close_apps_step(consent.apps_in_use), _("关闭后点击“重试”")],
            device=name,
            apps=list(consent.apps_in_use),
        )
    return CameraError(
        "camera.open_failed",
        _("无法打开摄像头，可能正被其他程序占用或被系统设置禁止"),
        instructions=[_close_apps_step(()), *_privacy_steps(), _antivirus_step()],
        device=name,
    )


def no_frames(*, consent: ConsentState | None, name: str = "") -> CameraError:
    """Opened, but no frame arrives (another app holds it; DirectShow opens anyway)."""
    apps = consent.apps_in_use if consent is not None else ()
    return CameraError(
        "camera.no_frames",
        _("摄像头已打开但没有画面，可能正被其他程序占用"),
        instructions=[_close_apps_step(apps), _antivirus_step(), _("拔插摄像头后点击“重试”")],
        device=name,
    )


def black_frames(*, name: str = "") -> CameraError:
    return CameraError(
        "camera.black",
        _("摄像头画面全黑"),
        instructions=[_cover_step(), _antivirus_step(), *_privacy_steps()],
        device=name,
    )


def covered_lens(*, name: str = "") -> CameraError:
    return CameraError(
        "camera.covered",
        _("摄像头被遮挡：画面有光但看不到任何东西"),
        instructions=[_("移开挡住镜头的手指、纸张或胶带，并擦拭镜头"),
                      _("让摄像头对着你的脸")],
        device=name,
    )


def virtual_camera_selected(device: CameraDevice) -> CameraError | None:
    reason = virtual_camera_reason(device)
    if reason is None:
        return None
    return CameraError(
        "camera.virtual",
        _("选择的是虚拟摄像头（{name}），考试必须使用真实摄像头").format(name=device.label),
        instructions=[
            _("在摄像头列表中选择真实的摄像头"),
            _("退出虚拟摄像头软件（如OBS、ManyCam）后点击“重试”"),
        ],
        device=device.name,
        reason=reason,
    )


def only_unsuitable_cameras(devices: Sequence[CameraDevice]) -> CameraError:
    """Every camera found is rear-facing, infrared or virtual: the candidate must pick."""
    return CameraError(
        "camera.no_default",
        _("没有找到前置摄像头，请在列表中手动选择要使用的摄像头"),
        devices=[device.label for device in devices],
    )


def scene_detail(gray: Any) -> float:
    """Structure in the picture at a coarse scale: the Laplacian's spread on a 40x30
    float copy (averaging removes sensor noise; float avoids 8-bit rounding noise).
    Measured: a black or covered lens 0.2-0.7, a plain wall 0.4, a dark room 2.2-9.4,
    a lit room ~64."""
    import cv2
    import numpy as np

    small = cv2.resize(np.asarray(gray, dtype=np.float32), (40, 30),
                       interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(small, cv2.CV_32F).std())


class FrameState(StrEnum):
    BLACK = "black"         # no signal: privacy shutter, blocked by software or driver
    COVERED = "covered"     # light but no structure: a finger, paper, tape on the lens
    DARK = "dark"           # a scene, too dim: the room's light
    OK = "ok"


def frame_state(*, brightness: float, contrast: float, detail: float | None,
                black_max_brightness: float, black_max_contrast: float,
                covered_max_detail: float, dark_brightness: float) -> FrameState:
    """Dark vs black vs covered (issue 16: a very dark room read as black with
    lens-cover advice, and a finger on the lens as "no face")."""
    flat = detail is None or detail <= covered_max_detail
    if brightness <= black_max_brightness and contrast <= black_max_contrast and flat:
        return FrameState.BLACK
    if detail is not None and detail <= covered_max_detail:
        return FrameState.COVERED
    if brightness < dark_brightness:
        return FrameState.DARK
    return FrameState.OK


class FrameHealth:
    """Watches a stream for a black or covered picture that lasts ``window_ms``.

    Black is only diagnosed when the stream was black from its first frame (a camera
    that never delivered a picture); a covered lens whenever it stays covered.
    """

    def __init__(
        self, *, window_ms: int, max_brightness: float, max_contrast: float,
        covered_max_detail: float = 1.2, dark_brightness: float = 40.0,
    ) -> None:
        self._window_ms = window_ms
        self._max_brightness = max_brightness
        self._max_contrast = max_contrast
        self._covered_max_detail = covered_max_detail
        self._dark_brightness = dark_brightness
        self._first_ms: int | None = None
        self._covered_since: int | None = None
        self._seen_picture = False

    @staticmethod
    def is_black(brightness: float, contrast: float, *, max_brightness: float,
                 max_contrast: float) -> bool:
        return brightness <= max_brightness and contrast <= max_contrast

    def state(self, *, brightness: float, contrast: float,
              detail: float | None = None) -> FrameState:
        return frame_state(brightness=brightness, contrast=contrast, detail=detail,
                           black_max_brightness=self._max_brightness,
                           black_max_contrast=self._max_contrast,
                           covered_max_detail=self._covered_max_detail,
                           dark_brightness=self._dark_brightness)

    def diagnose(self, *, t_ms: int, brightness: float, contrast: float,
                 detail: float | None = None) -> FrameState | None:
        """BLACK or COVERED once it lasted the window, else None."""
        state = self.state(brightness=brightness, contrast=contrast, detail=detail)
        if state is FrameState.COVERED:
            if self._covered_since is None:
                self._covered_since = t_ms
            if t_ms - self._covered_since >= self._window_ms:
                return FrameState.COVERED
        else:
            self._covered_since = None
        if self._seen_picture:
            return None
        if state is not FrameState.BLACK:
            self._seen_picture = True
            return None
        if self._first_ms is None:
            self._first_ms = t_ms
        return FrameState.BLACK if t_ms - self._first_ms >= self._window_ms else None

    def feed(self, *, t_ms: int, brightness: float, contrast: float) -> bool:
        """True when the stream is diagnosed as black (brightness and contrast only)."""
        return self.diagnose(t_ms=t_ms, brightness=brightness,
                             contrast=contrast) is FrameState.BLACK
