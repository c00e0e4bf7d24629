import pytest

from client.errors import UserFacingError
from client.render import levels
from client.render.levels import RenderLevel


@pytest.mark.parametrize(
    ("level", "platform", "expected"),
    [
        (RenderLevel.HARDWARE, "win32", {"QT_OPENGL": "desktop"}),
        (RenderLevel.HARDWARE, "linux", {}),
        (RenderLevel.COMPATIBILITY, "win32", {"QT_OPENGL": "software", "QSG_RHI_BACKEND": "d3d11"}),
        (RenderLevel.COMPATIBILITY, "linux", {"QSG_RHI_BACKEND": "opengl"}),
        (RenderLevel.SOFTWARE, "win32", {
            "QT_OPENGL": "software", "QSG_RHI_BACKEND": "d3d11",
            "QSG_RHI_PREFER_SOFTWARE_RENDERER": "1", "QT_QUICK_BACKEND": "software"}),
        (RenderLevel.SOFTWARE, "linux", {
            "LIBGL_ALWAYS_SOFTWARE": "1", "QSG_RHI_PREFER_SOFTWARE_RENDERER": "1",
            "QT_QUICK_BACKEND": "software"}),
    ],
)
def test_environment_for_each_level(level, platform, expected):
    assert levels.environment_for(level, platform=platform) == expected
    assert set(expected) <= set(levels.MANAGED_VARIABLES)


def test_qt_attributes_and_gpu_widgets():
    assert levels.qt_attributes_for(RenderLevel.HARDWARE) == ["AA_UseDesktopOpenGL"]
    assert levels.qt_attributes_for(RenderLevel.COMPATIBILITY) == ["AA_UseSoftwareOpenGL"]
    assert levels.qt_attributes_for(RenderLevel.SOFTWARE) == ["AA_UseSoftwareOpenGL"]
    assert [levels.gpu_widgets_allowed(lv) for lv in RenderLevel] == [False, False, True]
    # Qt 6 ships no ANGLE: the ES attribute must never be requested.
    assert all("AA_UseOpenGLES" not in levels.qt_attributes_for(lv) for lv in RenderLevel)


@pytest.mark.qt
def test_attribute_names_exist_in_qt():
    from PySide6.QtCore import Qt

    for level in RenderLevel:
        for name in levels.qt_attributes_for(level):
            assert isinstance(getattr(Qt.ApplicationAttribute, name), Qt.ApplicationAttribute)


def test_apply_environment_drops_a_higher_levels_variables():
    environ = {"QT_OPENGL": "desktop", "PATH": "/bin", "QT_QUICK_BACKEND": "rhi"}
    levels.apply_environment(RenderLevel.COMPATIBILITY, environ=environ, platform="win32")
    assert environ == {"QT_OPENGL": "software", "QSG_RHI_BACKEND": "d3d11", "PATH": "/bin"}
    levels.apply_environment(RenderLevel.HARDWARE, environ=environ, platform="linux")
    assert environ == {"PATH": "/bin"}


@pytest.mark.parametrize(("raw", "parsed"), [
    (None, "auto"), ("", "auto"), ("auto", "auto"), (" AUTO ", "auto"), ("0", 0), ("1", 1),
    (" 2", 2), (2, 2),
])
def test_parse_level_setting(raw, parsed):
    assert levels.parse_level_setting(raw) == parsed


@pytest.mark.parametrize("raw", ["3", "-1", "high", "1.5", True])
def test_parse_level_setting_rejects_with_a_code(raw):
    with pytest.raises(UserFacingError) as info:
        levels.parse_level_setting(raw)
    assert info.value.code == "render.level_invalid"
    assert info.value.detail["value"] == raw


def test_lower_has_a_floor_and_profile_is_serialisable():
    assert RenderLevel.HARDWARE.lower() is RenderLevel.COMPATIBILITY
    assert RenderLevel.SOFTWARE.lower() is RenderLevel.SOFTWARE
    profile = levels.profile_for(RenderLevel.SOFTWARE, platform="win32").as_dict()
    assert profile["name"] == "software" and profile["gpu_widgets"] is False
    assert profile["qt_attributes"] == ["AA_UseSoftwareOpenGL"]
