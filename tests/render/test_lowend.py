from client.render import lowend
from client.render.levels import RenderLevel

GIB = 1024**3


def test_normal_pc_keeps_everything():
    profile = lowend.decide_profile(level=RenderLevel.HARDWARE, total_ram_bytes=8 * GIB)
    assert profile == lowend.NORMAL and profile.animations


def test_a_4gb_pc_as_windows_reports_it_is_not_low_end():
    profile = lowend.decide_profile(level=RenderLevel.HARDWARE, total_ram_bytes=int(3.8 * GIB))
    assert not profile.low_end


def test_software_rendering_or_low_ram_means_low_end():
    soft = lowend.decide_profile(level=RenderLevel.SOFTWARE, total_ram_bytes=16 * GIB)
    assert soft.low_end and not soft.animations and not soft.graphics_effects
    assert soft.camera_resolution < lowend.NORMAL.camera_resolution
    assert soft.background_check_interval_s > lowend.NORMAL.background_check_interval_s
    ram = lowend.decide_profile(level=RenderLevel.HARDWARE, total_ram_bytes=2 * GIB)
    assert ram.low_end and ram.reasons == ("2.0 GiB RAM",)


def test_forced_setting_overrides_both_ways():
    assert not lowend.decide_profile(level=RenderLevel.SOFTWARE, total_ram_bytes=GIB,
                                     forced=False).low_end
    forced = lowend.decide_profile(level=RenderLevel.HARDWARE, total_ram_bytes=None, forced=True)
    assert forced.low_end and forced.reasons == ("forced in user.ini",)


def test_total_ram_is_read():
    total = lowend.total_ram_bytes()
    assert total is not None and total > 256 * 1024**2
