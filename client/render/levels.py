"""The three rendering levels and exactly what each one sets before Qt starts.

`[OpenGL] Level` in user.ini is ``auto`` (default), 2, 1 or 0. A level is a set of Qt
application attributes plus environment variables; both must be in place before the
QApplication is constructed (Qt reads them once, when the platform plugin loads).

Qt facts this mapping relies on (Qt 6 documentation, "Qt for Windows - Graphics
Acceleration", doc.qt.io/qt-6/windows-graphics.html, and the Qt::ApplicationAttribute
reference):

* Qt Widgets paint with the raster engine. The GPU is only used by QOpenGLWidget,
  QQuickWidget/QRhiWidget (RHI), QtWebEngine and whatever the platform plugin creates an
  OpenGL context for. So "no GPU widgets" keeps the driver out of the picture entirely.
* Qt 6 on Windows loads OpenGL dynamically: desktop ``opengl32.dll`` (the vendor driver)
  or ``opengl32sw.dll`` (Mesa llvmpipe, shipped in the PySide6 Windows wheel). It is
  chosen by Qt::AA_UseDesktopOpenGL / Qt::AA_UseSoftwareOpenGL or QT_OPENGL=desktop /
  software. These only matter "on platforms that use dynamic loading of the OpenGL
  implementation" (Windows); on Linux/xcb they are ignored and Mesa's
  LIBGL_ALWAYS_SOFTWARE=1 is the software switch.
* Qt 6 dropped ANGLE: no libEGL.dll/libGLESv2.dll ships with Qt 6 or the PySide6 wheel,
  so Qt::AA_UseOpenGLES / QT_OPENGL=angle have nothing to load and are never set here.
  The Qt 5 "compatibility" path (OpenGL translated to Direct3D by ANGLE, away from weak
  vendor OpenGL drivers) becomes: Direct3D 11 for anything that renders through the RHI
  (Qt Quick's default on Windows, QSG_RHI_BACKEND=d3d11) and no vendor OpenGL at all.
* QSG_RHI_PREFER_SOFTWARE_RENDERER=1 makes the RHI pick a software adapter where the API
  can enumerate adapters (Direct3D: WARP, part of Windows). QT_QUICK_BACKEND=software
  selects Qt Quick's software adaptation, which draws with QPainter and needs no 3D API.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Literal

from client.errors import UserFacingError
from client.i18n import _

LevelSetting = Literal["auto"] | int


class RenderLevel(enum.IntEnum):
    SOFTWARE = 0
    COMPATIBILITY = 1
    HARDWARE = 2

    @property
    def label(self) -> str:
        return {0: "software", 1: "compatibility", 2: "hardware"}[int(self)]

    def lower(self) -> RenderLevel:
        """One level down; software is the floor."""
        return RenderLevel(max(int(self) - 1, 0))


HIGHEST = RenderLevel.HARDWARE

# Every variable a level may set. Variables a level does not list are removed from the
# environment, so a restart at a lower level never inherits a higher level's choice.
MANAGED_VARIABLES: tuple[str, ...] = (
    "QT_OPENGL",
    "QSG_RHI_BACKEND",
    "QSG_RHI_PREFER_SOFTWARE_RENDERER",
    "QT_QUICK_BACKEND",
    "LIBGL_ALWAYS_SOFTWARE",
)


def parse_level_setting(value: str | int | None) -> LevelSetting:
    """Read `[OpenGL] Level`: ``auto`` or 0/1/2. Anything else is a clear error."""
    if value is None:
        return "auto"
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().lower()
    else:
        text = repr(value)
    if text in ("", "auto"):
        return "auto"
    if text in ("0", "1", "2"):
        return int(text)
    raise UserFacingError(
        "render.level_invalid",
        _("user.ini 中 [OpenGL] Level 的值无效：应为 auto、0、1 或 2"),
        value=value,
    )


def qt_attributes_for(level: RenderLevel) -> list[str]:
    """Names of the Qt::ApplicationAttribute values to set before QApplication."""
    if level is RenderLevel.HARDWARE:
        # Vendor opengl32.dll; Qt itself falls back to opengl32sw.dll if that fails.
        return ["AA_UseDesktopOpenGL"]
    # Levels 1 and 0 never load the vendor OpenGL driver: if anything asks for an OpenGL
    # context anyway, it gets Mesa llvmpipe (opengl32sw.dll) instead of a crash.
    return ["AA_UseSoftwareOpenGL"]


def environment_for(level: RenderLevel, *, platform: str | None = None) -> dict[str, str]:
    """The environment variables *level* sets on *platform* (``sys.platform`` values)."""
    platform = sys.platform if platform is None else platform
    windows = platform == "win32"
    env: dict[str, str] = {}
    if level is RenderLevel.HARDWARE:
        if windows:
            env["QT_OPENGL"] = "desktop"
        # QSG_RHI_BACKEND stays unset: Qt Quick's own default (d3d11 on Windows, opengl
        # on Linux) is the best-tested path on working hardware.
        return env
    if level is RenderLevel.COMPATIBILITY:
        if windows:
            env["QT_OPENGL"] = "software"
            # Direct3D 11 drivers on old lab PCs are far more robust than their OpenGL
            # drivers; this is what ANGLE used to buy in Qt 5.
            env["QSG_RHI_BACKEND"] = "d3d11"
        else:
            env["QSG_RHI_BACKEND"] = "opengl"
        return env
    # SOFTWARE: no GPU driver is touched at all.
    env["QT_QUICK_BACKEND"] = "software"
    env["QSG_RHI_PREFER_SOFTWARE_RENDERER"] = "1"
    if windows:
        env["QT_OPENGL"] = "software"
        env["QSG_RHI_BACKEND"] = "d3d11"  # with the preference above: WARP
    else:
        env["LIBGL_ALWAYS_SOFTWARE"] = "1"  # Mesa llvmpipe
    return env


def gpu_widgets_allowed(level: RenderLevel) -> bool:
    """Whether the UI may create QOpenGLWidget/QQuickWidget/QRhiWidget surfaces."""
    return level is RenderLevel.HARDWARE


@dataclass(frozen=True)
class RenderProfile:
    """Everything the UI needs to know about one level (for logs and diagnostics too)."""

    level: RenderLevel
    qt_attributes: tuple[str, ...]
    environment: Mapping[str, str]
    gpu_widgets: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "level": int(self.level),
            "name": self.level.label,
            "qt_attributes": list(self.qt_attributes),
            "environment": dict(self.environment),
            "gpu_widgets": self.gpu_widgets,
        }


def profile_for(level: RenderLevel, *, platform: str | None = None) -> RenderProfile:
    return RenderProfile(
        level=level,
        qt_attributes=tuple(qt_attributes_for(level)),
        environment=environment_for(level, platform=platform),
        gpu_widgets=gpu_widgets_allowed(level),
    )


def apply_environment(
    level: RenderLevel,
    *,
    environ: MutableMapping[str, str] | None = None,
    platform: str | None = None,
) -> dict[str, str]:
    """Set *level*'s variables in *environ* (default os.environ) and drop the others."""
    target = os.environ if environ is None else environ
    wanted = environment_for(level, platform=platform)
    for name in MANAGED_VARIABLES:
        if name in wanted:
            target[name] = wanted[name]
        else:
            target.pop(name, None)
    return wanted
