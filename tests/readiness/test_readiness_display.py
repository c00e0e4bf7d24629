"""Screen and graphics lines, decided from what Qt or Windows measured."""

from __future__ import annotations

import pytest

from client.readiness.display import (
    OpenGLInfo,
    ScreenInfo,
    evaluate_opengl,
    evaluate_screen,
    from_gpu_probe,
    subprocess_probes,
)
from client.readiness.result import Status


@pytest.mark.parametrize(("size", "count", "status"), [
    ((800, 600), 1, Status.FAIL),
    ((1024, 768), 1, Status.WARN),    # old 4:3 monitors
    ((1366, 768), 1, Status.PASS),    # the most common lab resolution
    ((1920, 1080), 2, Status.WARN),   # a second monitor
])
def test_screen(size: tuple[int, int], count: int, status: Status) -> None:
    result = evaluate_screen(ScreenInfo(width=size[0], height=size[1], screen_count=count))
    assert result.status is status
    assert f"{size[0]}×{size[1]}" in result.message or str(count) in result.message


def test_an_unmeasured_screen_is_a_warning_not_a_pass() -> None:
    assert evaluate_screen(None).status is Status.WARN


def gl(version: str, renderer: str, major: int, minor: int,
       error: str | None = None) -> OpenGLInfo:
    return OpenGLInfo(version=version, renderer=renderer, vendor="v", major=major,
                      minor=minor, error=error)


@pytest.mark.parametrize(("info", "status", "words"), [
    (gl("4.6.0 NVIDIA 537.13", "NVIDIA GeForce GT 730/PCIe/SSE2", 4, 6), Status.PASS, "GT 730"),
    (gl("1.1.0", "GDI Generic", 1, 1), Status.WARN, "显卡驱动"),
    (gl("1.4", "Intel 845G", 1, 4), Status.WARN, "软件渲染"),
    (gl("4.5 (Compatibility Profile) Mesa 22.3.6", "llvmpipe (LLVM 15.0.6, 256 bits)", 4, 5),
     Status.WARN, "llvmpipe"),
    (gl("", "", 0, 0, error="QOpenGLContext.create() failed"), Status.WARN, "Level = 0"),
])
def test_opengl(info: OpenGLInfo, status: Status, words: str) -> None:
    result = evaluate_opengl(info)
    assert result.status is status
    assert words in result.message


def test_gpu_probe_answers_are_understood() -> None:
    # Answers of client.diagnostics.gpu's child process, on Xvfb and on Qt's offscreen platform.
    screen, opengl = from_gpu_probe({
        "returncode": 0, "platform": "xcb", "screen": {"size": [1280, 1024], "dpr": 1.0},
        "ok": True, "gl_vendor": "Mesa/X.org", "gl_renderer": "llvmpipe (LLVM 15.0.6, 256 bits)",
        "gl_version": "4.5 (Compatibility Profile) Mesa 22.3.6"})
    assert screen == ScreenInfo(width=1280, height=1024, screen_count=1)
    assert (opengl.major, opengl.minor, opengl.error) == (4, 5, None)
    _screen, failed = from_gpu_probe({"returncode": 0, "platform": "offscreen", "ok": False,
                                      "error": "QOpenGLContext.create() failed"})
    assert failed.error == "QOpenGLContext.create() failed"
    _screen, crashed = from_gpu_probe({"returncode": -11, "stderr": "", "ok": False})
    assert crashed.error is not None and "-11" in crashed.error
    assert evaluate_opengl(crashed).status is Status.WARN


def test_the_command_line_measures_in_a_child_process() -> None:
    screen_probe, opengl_probe = subprocess_probes()
    opengl = opengl_probe()  # the tests run Qt offscreen: a screen, but no OpenGL
    screen = screen_probe()
    assert screen is not None and screen.width > 0
    assert opengl.error or opengl.version


def test_the_graphics_line_names_the_rendering_level_this_pc_starts_with() -> None:
    """Issue 14: the readiness check shows the remembered level and why."""
    from client.readiness.display import with_remembered_level
    from client.readiness.result import CheckResult, Status
    from client.render.levels import RenderLevel
    from client.render.sentinel import RememberedLevel

    base = CheckResult("opengl", Status.PASS, "显卡 X，OpenGL 4.6", {"major": 4})
    remembered = RememberedLevel(RenderLevel.SOFTWARE, "white screen at level 1", 0.0)
    line = with_remembered_level(base, remembered, configured="auto")
    assert line.status is Status.PASS and line.message.startswith("显卡 X")
    assert "本机记住的渲染级别 0" in line.message and "white screen at level 1" in line.message
    assert line.detail["render_level"] == {"level": 0, "source": "remembered",
                                           "reason": "white screen at level 1",
                                           "updated_at": 0.0}
    assert line.detail["major"] == 4
    fixed = with_remembered_level(base, remembered, configured="1")
    assert "user.ini 中固定" in fixed.message
    fresh = with_remembered_level(base, None, configured="auto")
    assert "尚无记录" in fresh.message
