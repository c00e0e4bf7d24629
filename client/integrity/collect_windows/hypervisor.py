"""Hypervisor vendor and Hyper-V root-partition bit, read WITHOUT executing CPUID ourselves.

Running raw machine code from Python (VirtualAlloc + PAGE_EXECUTE) trips antivirus
heuristics on lab PCs, so we ask the kernel instead: NtQuerySystemInformation with
SystemHypervisorDetailInformation (class 159, Windows 10+, no privilege needed; layout from
System Informer's phnt headers) returns the CPUID leaves 0x40000000.. the kernel read at
boot. HvVendorAndMaxFunction = CPUID 0x40000000 (EAX, EBX, ECX, EDX), HvFeatures =
CPUID 0x40000003: EBX bit 0 (CreatePartitions) is set only in the Hyper-V ROOT partition,
i.e. on a bare-metal host with VBS/HVCI/WSL2 (Safe Exam Browser #1390, #1510, #1517).
If the call fails the fields stay unknown (None / ""), and vm_score treats "Microsoft Hv"
with an unknown root bit as a weak signal only.
"""

from __future__ import annotations

import struct
import sys

from client.integrity.snapshot import CpuInfo

_SYSTEM_HYPERVISOR_DETAIL_INFORMATION = 159
_DETAIL_SIZE = 7 * 4 * 4  # seven HV_DETAILS of four ULONGs


def parse_hypervisor_detail(raw: bytes, *, brand: str) -> CpuInfo:
    """Decode SYSTEM_HYPERVISOR_DETAIL_INFORMATION (pure; unit-tested on any OS)."""
    words = struct.unpack("<28I", raw[:_DETAIL_SIZE])
    _max_leaf, ebx, ecx, edx = words[0:4]
    vendor = struct.pack("<3I", ebx, ecx, edx).rstrip(b"\x00").decode("ascii", "replace")
    present = any(words[0:4])
    features_ebx = words[13]  # HvFeatures = words[12:16]; [1] is EBX
    # The root-partition bit is a Hyper-V concept: other vendors' guests are never roots.
    root = bool(features_ebx & 1) if vendor.strip() == "Microsoft Hv" else False
    return CpuInfo(brand=brand, hypervisor_present=present, hypervisor_vendor=vendor.strip(),
                   hyperv_root_partition=root)


def read_cpu(*, brand: str) -> CpuInfo:
    if sys.platform == "win32":
        import ctypes

        ntdll = ctypes.WinDLL("ntdll")
        ntdll.NtQuerySystemInformation.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_ulong,
                                                   ctypes.POINTER(ctypes.c_ulong)]
        ntdll.NtQuerySystemInformation.restype = ctypes.c_long
        buffer = ctypes.create_string_buffer(_DETAIL_SIZE)
        returned = ctypes.c_ulong()
        status = ntdll.NtQuerySystemInformation(_SYSTEM_HYPERVISOR_DETAIL_INFORMATION, buffer,
                                                _DETAIL_SIZE, ctypes.byref(returned))
        if status != 0:
            # Older builds: the vendor stays unknown; the other VM signals still count.
            return CpuInfo(brand=brand)
        return parse_hypervisor_detail(buffer.raw, brand=brand)
    raise OSError("hypervisor details are read with the Windows API only")
