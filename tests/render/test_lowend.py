"""Low-end mode follows the PC's capability (RAM, CPUs), never the render level
(issue 14: two kills after the first frame used to switch a capable PC to low-end mode)."""

from client.render import lowend

GIB = 1024**3


def test_normal_pc_keeps_everything():
    profile = lowend.decide_profile(total_ram_bytes=8 * GIB, logical_cpus=4)
    assert profile == lowend.NORMAL and profile.animations


def test_a_4gb_pc_as_windows_reports_it_is_not_low_end():
    profile = lowend.decide_profile(total_ram_bytes=int(3.8 * GIB), logical_cpus=4)
    assert not profile.low_end


def test_low_ram_or_a_dual_core_cpu_means_low_end():
    ram = lowend.decide_profile(total_ram_bytes=2 * GIB, logical_cpus=8)
    assert ram.low_end and ram.reasons == ("2.0 GiB RAM",)
    assert not ram.animations and not ram.graphics_effects
    assert ram.camera_resolution < lowend.NORMAL.camera_resolution
    assert ram.background_check_interval_s > lowend.NORMAL.background_check_interval_s
    cpu = lowend.decide_profile(total_ram_bytes=8 * GIB, logical_cpus=2)
    assert cpu.low_end and cpu.reasons == ("2 logical CPUs",)


def test_the_render_level_is_not_an_input():
    import inspect

    assert "level" not in inspect.signature(lowend.decide_profile).parameters


def test_forced_setting_overrides_both_ways():
    assert not lowend.decide_profile(total_ram_bytes=GIB, logical_cpus=1, forced=False).low_end
    forced = lowend.decide_profile(total_ram_bytes=None, logical_cpus=None, forced=True)
    assert forced.low_end and forced.reasons == ("forced in user.ini",)


def test_capability_is_read():
    total = lowend.total_ram_bytes()
    assert total is not None and total > 256 * 1024**2
    cpus = lowend.logical_cpus()
    assert cpus is not None and cpus >= 1
