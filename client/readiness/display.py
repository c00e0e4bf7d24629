"""Checks of the screen and the graphics driver, decided from plain measurements.

The measurements come from outside this Qt-free package: the 考前检查 screen measures both
in its own QGuiApplication (client/ui/readiness_probes.py); the command line asks the GPU
probe child process (client.diagnostics.gpu), because creating an OpenGL context is the
step that crashes on a broken driver, and a crash there must not end the check.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from client.i18n import _
from client.readiness.result import CheckResult, Status
from client.render.sentinel import RememberedLevel

# The exam window is laid out for 1280x720; 1024x768 (old 4:3 monitors) still works with
# scrolling. Sizes are logical pixels (after Windows display scaling), what layout sees.
SCREEN_PASS = (1280, 720)
SCREEN_WARN = (1024, 768)
MIN_OPENGL = (2, 0)

# Renderers that mean "no hardware acceleration": the Windows fallback without a
# graphics driver (GDI Generic, OpenGL 1.1), Mesa and Qt's software rasterisers.
_NO_DRIVER = re.compile(r"gdi generic", re.IGNORECASE)
_SOFTWARE = re.compile(r"llvmpipe|softpipe|swiftshader|basic render driver|software",
                       re.IGNORECASE)


@dataclass(frozen=True)
class ScreenInfo:
    width: int            # primary screen, logical pixels
    height: int
    screen_count: int
    scale: float = 1.0    # device pixel ratio (Windows display scaling)


@dataclass(frozen=True)
class OpenGLInfo:
    version: str          # GL_VERSION text, e.g. "4.6.0 NVIDIA 537.13"; "" when no context
    renderer: str
    vendor: str
    major: int
    minor: int
    error: str | None = None   # why no context could be created


ScreenProbe = Callable[[], ScreenInfo | None]
OpenGLProbe = Callable[[], OpenGLInfo | None]


def windows_screen() -> ScreenInfo | None:
    """Primary screen size and monitor count from GetSystemMetrics (no Qt needed)."""
    if sys.platform != "win32":
        return None
    import ctypes

    metrics = ctypes.windll.user32.GetSystemMetrics
    sm_cxscreen, sm_cyscreen, sm_cmonitors = 0, 1, 80
    # This process is not DPI-aware, so Windows reports scaled (logical) pixels: the size
    # the exam window gets.
    return ScreenInfo(width=int(metrics(sm_cxscreen)), height=int(metrics(sm_cyscreen)),
                      screen_count=int(metrics(sm_cmonitors)))


def _version_numbers(version: str) -> tuple[int, int]:
    # "4.5 (Compatibility Profile) Mesa 22.3.6", "OpenGL ES 3.2 ...", "1.1.0"
    match = re.search(r"(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def from_gpu_probe(info: Mapping[str, Any]) -> tuple[ScreenInfo | None, OpenGLInfo]:
    """Screen and OpenGL facts from the GPU probe's JSON (client.diagnostics.gpu)."""
    screen: ScreenInfo | None = None
    size = info.get("screen", {}).get("size") if isinstance(info.get("screen"), dict) else None
    if isinstance(size, list) and len(size) == 2:
        screen = ScreenInfo(width=int(size[0]), height=int(size[1]), screen_count=1,
                            scale=float(info["screen"].get("dpr", 1.0)))
    version = str(info.get("gl_version") or "")
    if not info.get("ok") or not version:
        error = str(info.get("error") or "")
        if not error:
            error = f"GPU probe exited with {info.get('returncode')}"
        return screen, OpenGLInfo(version="", renderer="", vendor="", major=0, minor=0,
                                  error=error)
    major, minor = _version_numbers(version)
    return screen, OpenGLInfo(version=version, renderer=str(info.get("gl_renderer") or ""),
                              vendor=str(info.get("gl_vendor") or ""), major=major,
                              minor=minor)


def subprocess_probes() -> tuple[ScreenProbe, OpenGLProbe]:
    """Probes for the command line: one GPU probe child process answers both (on demand,
    once). On Windows GetSystemMetrics also counts the monitors, which the probe does not."""
    measured: list[tuple[ScreenInfo | None, OpenGLInfo]] = []

    def measure() -> tuple[ScreenInfo | None, OpenGLInfo]:
        if not measured:
            from client.diagnostics.gpu import gpu_info_in_subprocess

            measured.append(from_gpu_probe(gpu_info_in_subprocess()))
        return measured[0]

    def screen() -> ScreenInfo | None:
        return windows_screen() or measure()[0]

    return screen, lambda: measure()[1]


def evaluate_screen(info: ScreenInfo | None) -> CheckResult:
    if info is None:
        return CheckResult("screen", Status.WARN, _(
            "未能测量屏幕分辨率：请在图形界面中运行考前检查"), {})
    detail = {"width": info.width, "height": info.height, "screen_count": info.screen_count,
              "scale": info.scale}
    size = _("{width}×{height}").format(width=info.width, height=info.height)
    if info.width < SCREEN_WARN[0] or info.height < SCREEN_WARN[1]:
        return CheckResult("screen", Status.FAIL, _(
            "屏幕分辨率 {size} 太小，至少需要 1024×768：请调高分辨率或把显示缩放调到 100%"
        ).format(size=size), detail)
    if info.width < SCREEN_PASS[0] or info.height < SCREEN_PASS[1]:
        return CheckResult("screen", Status.WARN, _(
            "屏幕分辨率 {size} 偏小，题目需要滚动查看；建议 1280×720 以上").format(size=size),
            detail)
    if info.screen_count > 1:
        return CheckResult("screen", Status.WARN, _(
            "检测到 {count} 个显示器：考试时只能使用一个，请断开其他显示器").format(
                count=info.screen_count), detail)
    return CheckResult("screen", Status.PASS, _("屏幕分辨率 {size}").format(size=size), detail)


def evaluate_opengl(info: OpenGLInfo | None) -> CheckResult:
    if info is None:
        return CheckResult("opengl", Status.WARN, _(
            "未能检查显卡（OpenGL）：请在图形界面中运行考前检查"), {})
    detail = {"version": info.version, "renderer": info.renderer, "vendor": info.vendor,
              "major": info.major, "minor": info.minor, "error": info.error}
    if info.error is not None or not info.version:
        return CheckResult("opengl", Status.WARN, _(
            "无法使用显卡加速（{error}）：客户端会自动改用软件渲染；如出现白屏或黑屏，"
            "请在 user.ini 中设置 [OpenGL] Level = 0").format(error=info.error or "?"), detail)
    if _NO_DRIVER.search(info.renderer):
        return CheckResult("opengl", Status.WARN, _(
            "未安装显卡驱动（{renderer}，OpenGL {version}）：客户端会改用软件渲染；"
            "建议安装显卡驱动").format(renderer=info.renderer, version=info.version), detail)
    if (info.major, info.minor) < MIN_OPENGL:
        return CheckResult("opengl", Status.WARN, _(
            "显卡只支持 OpenGL {version}（{renderer}）：客户端会改用软件渲染").format(
                version=info.version, renderer=info.renderer), detail)
    if _SOFTWARE.search(info.renderer):
        return CheckResult("opengl", Status.WARN, _(
            "当前为软件渲染（{renderer}）：可以考试，但界面较慢").format(
                renderer=info.renderer), detail)
    return CheckResult("opengl", Status.PASS, _("显卡 {renderer}，OpenGL {version}").format(
        renderer=info.renderer, version=info.version), detail)


def with_remembered_level(result: CheckResult, remembered: RememberedLevel | None, *,
                          configured: str) -> CheckResult:
    """The graphics line also says which rendering level this PC starts with and why:
    what earlier starts left behind (client/render/sentinel.py) or user.ini's fixed level."""
    if configured != "auto":
        note = _("渲染级别 {level}（user.ini 中固定）").format(level=configured)
        facts: dict[str, object] = {"level": configured, "source": "user.ini"}
    elif remembered is None:
        note = _("渲染级别：自动（本机尚无记录，从最高级别开始）")
        facts = {"level": None, "source": "auto"}
    else:
        note = _("本机记住的渲染级别 {level}（{name}）：{reason}").format(
            level=int(remembered.level), name=remembered.level.label, reason=remembered.reason)
        facts = {"level": int(remembered.level), "source": "remembered",
                 "reason": remembered.reason, "updated_at": remembered.updated_at}
    return CheckResult(result.name, result.status, f"{result.message}；{note}",
                       {**result.detail, "render_level": facts})
