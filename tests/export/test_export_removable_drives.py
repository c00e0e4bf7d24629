from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from client.export import removable_drives as rd


def test_windows_removable_first_and_empty_slots_skipped():
    drives = [
        rd.WindowsDrive("C:\\", rd.DRIVE_FIXED, ""),
        rd.WindowsDrive("D:\\", rd.DRIVE_CDROM, "DVD"),
        rd.WindowsDrive("E:\\", rd.DRIVE_REMOVABLE, "KINGSTON"),
        rd.WindowsDrive("F:\\", rd.DRIVE_REMOVABLE, None),   # card reader, no card
        rd.WindowsDrive("G:\\", rd.DRIVE_REMOTE, "share"),
        rd.WindowsDrive("H:\\", rd.DRIVE_REMOVABLE, ""),
    ]
    locations = rd.locations_from_windows_drives(drives)
    assert [str(loc.path) for loc in locations][:2] == [str(Path("E:\\")), str(Path("H:\\"))]
    assert [loc.removable for loc in locations] == [True, True, False, False]
    assert "KINGSTON" in locations[0].label and "可移动磁盘" in locations[0].label
    assert {str(loc.path) for loc in locations} == {str(Path(p)) for p in
                                                    ("E:\\", "H:\\", "C:\\", "G:\\")}


MOUNTS = """\
sysfs /sys sysfs rw,nosuid 0 0
/dev/sda2 / ext4 rw,relatime 0 0
/dev/sda1 /boot/efi vfat rw 0 0
/dev/sdb1 /media/teacher/USB\\040STICK vfat rw,nosuid 0 0
/dev/sdc1 /run/media/admin/BACKUP exfat rw 0 0
/dev/sdd1 /mnt/usb vfat rw 0 0
/dev/sr0 /media/cdrom iso9660 ro 0 0
tmpfs /run tmpfs rw 0 0
"""


def test_linux_mounts_removable_flag_and_media_roots():
    removable = {"/dev/sdb1", "/dev/sdd1"}
    locations = rd.locations_from_linux_mounts(MOUNTS, is_removable=lambda d: d in removable)
    assert [str(loc.path) for loc in locations] == [
        "/media/teacher/USB STICK", "/mnt/usb", "/run/media/admin/BACKUP"]
    assert all(loc.removable for loc in locations)


def test_order_puts_removable_first_and_drops_duplicates(tmp_path):
    fixed = rd.ExportLocation(tmp_path, "home", removable=False)
    stick = rd.ExportLocation(Path("/media/x"), "x", removable=True)
    assert rd.order_locations([fixed, stick, fixed]) == [stick, fixed]


@pytest.mark.skipif(sys.platform == "win32", reason="sysfs layout")
def test_sysfs_removable_reads_the_parent_disk(tmp_path):
    sys_root = tmp_path / "sys"
    disk = sys_root / "devices" / "usb1" / "block" / "sdb"
    (disk / "sdb1").mkdir(parents=True)
    (disk / "sdb1" / "partition").write_text("1\n")
    (sys_root / "class" / "block").mkdir(parents=True)
    os.symlink(disk / "sdb1", sys_root / "class" / "block" / "sdb1")
    os.symlink(disk, sys_root / "class" / "block" / "sdb")
    (sys_root / "block" / "sdb").mkdir(parents=True)
    (sys_root / "block" / "sdb" / "removable").write_text("1\n")
    assert rd.sysfs_removable("/dev/sdb1", sys_root=sys_root)
    assert rd.sysfs_removable("/dev/sdb", sys_root=sys_root)
    (sys_root / "block" / "sdb" / "removable").write_text("0\n")
    assert not rd.sysfs_removable("/dev/sdb1", sys_root=sys_root)
    assert not rd.sysfs_removable("/dev/nvme9n1", sys_root=sys_root)


def test_list_export_locations_runs_on_this_machine(tmp_path):
    extra = rd.ExportLocation(tmp_path, "tmp", removable=False)
    found = rd.list_export_locations(extra=[extra])
    assert extra in found
    removable_flags = [loc.removable for loc in found]
    assert removable_flags == sorted(removable_flags, reverse=True)
