"""Virtual-machine verdict by weighted signals (the VMAware approach), as a pure function.

Why weights and not an OR of checks: every single VM signal has a false-positive story
on real lab PCs (Safe Exam Browser #8, #669, #604, #1390...). A verdict therefore needs
a total score at or above the threshold AND at least one strong signal. Two rules keep
hosts safe:
- On a Hyper-V root partition (a bare-metal PC with VBS/HVCI/WSL2/Sandbox enabled) every
  Hyper-V signal is dropped: the "hypervisor present" bit is set there for the host
  itself. Other vendors' signals still count (a VMware guest with VBS on is a VMware VM).
  Unless the root bit is contradicted: guest-only Hyper-V evidence (rules mark it
  ``guest_only``) never exists on a host, so a Hyper-V guest running VBS/WSL2 inside
  (nested virtualisation sets the bit) keeps its Hyper-V signals plus a contradiction one.
- Host-side virtualisation software (VMware Workstation, VirtualBox installed on the PC)
  never appears in the signal lists: only guest drivers, guest tools, guest PCI devices
  and the default-route NIC are evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from client.integrity.rules import VmRules, VmSignalRule, norm, normalise_mac
from client.integrity.snapshot import Snapshot


@dataclass(frozen=True)
class VmSignal:
    id: str
    family: str
    weight: int
    strong: bool
    evidence: str  # what matched, e.g. "pci_vendor=15AD"


@dataclass(frozen=True)
class VmVerdict:
    is_vm: bool
    family: str  # the family with the highest score ("" when no signal)
    score: int
    signals: tuple[VmSignal, ...]


def score_vm(snapshot: Snapshot, rules: VmRules) -> VmVerdict:
    root = snapshot.cpu.hyperv_root_partition
    # A Hyper-V host never has SMBIOS "Virtual Machine" or VMBus children; a guest that
    # runs VBS/WSL2 (nested virtualisation) reports the root bit too. Believe the hardware.
    root_contradicted = root is True and _guest_only_evidence(snapshot, rules)
    signals: list[VmSignal] = []
    for rule in rules.signals:
        if rule.not_on_root_partition and root is True and not root_contradicted:
            continue
        evidence = _match(rule, snapshot)
        if evidence is None:
            continue
        weight, strong = rule.weight, rule.strong
        if root is None and rule.weight_if_root_unknown is not None:
            weight = rule.weight_if_root_unknown
            strong = bool(rule.strong_if_root_unknown)
        if root_contradicted and rule.source in ("cpu_vendor", "hypervisor_present"):
            continue  # the hypervisor bit of a nested guest proves nothing more
        signals.append(VmSignal(rule.id, rule.family, weight, strong, evidence))
    if root_contradicted:
        signals.append(VmSignal("hyperv.root_bit_contradicted", "hyperv",
                                rules.root_contradiction_weight, True,
                                "root-partition bit set, but guest-only Hyper-V devices present"))
    score = sum(s.weight for s in signals)
    is_vm = score >= rules.threshold and any(s.strong for s in signals)
    return VmVerdict(is_vm=is_vm, family=_leading_family(signals), score=score,
                     signals=tuple(signals))


def _guest_only_evidence(snapshot: Snapshot, rules: VmRules) -> bool:
    return any(rule.guest_only and _match(rule, snapshot) is not None for rule in rules.signals)


def _leading_family(signals: Iterable[VmSignal]) -> str:
    totals: dict[str, int] = {}
    for s in signals:
        # "generic" (a bare hypervisor bit) only names the VM when nothing else does.
        bonus = 0 if s.family == "generic" else 1000 * s.strong
        totals[s.family] = totals.get(s.family, 0) + s.weight + bonus
    return max(totals, key=lambda f: totals[f]) if totals else ""


def _match(rule: VmSignalRule, snap: Snapshot) -> str | None:
    """Evidence text when *rule* matches *snap*, else None."""
    source = rule.source
    if source == "cpu_vendor":
        vendor = norm(snap.cpu.hypervisor_vendor)
        return f"cpu_vendor={snap.cpu.hypervisor_vendor}" if vendor in rule.equals else None
    if source == "cpu_brand":
        return _first_contains(rule, [snap.cpu.brand], "cpu_brand")
    if source == "hypervisor_present":
        return "hypervisor_present=true" if snap.cpu.hypervisor_present else None
    if source == "smbios":
        return _smbios(rule, snap)
    if source == "pci_vendor":
        for vendor in snap.pci_vendor_ids:
            if norm(vendor) in rule.equals:
                return f"pci_vendor={vendor}"
        return None
    if source == "pnp_id":
        return _first_contains(rule, snap.pnp_device_ids, "pnp_id")
    if source == "driver":
        return _first_equal(rule, snap.drivers_loaded, "driver")
    if source == "process":
        return _first_equal(rule, (p.name for p in snap.processes), "process")
    if source == "service":
        running = (s.name for s in snap.services if norm(s.state) == "running")
        return _first_equal(rule, running, "service")
    if source == "mac":
        mac = normalise_mac(snap.default_route_mac)
        hit = mac and any(mac.startswith(p) for p in rule.prefix)
        return f"default_route_mac={snap.default_route_mac}" if hit else None
    raise ValueError(f"unknown vm signal source {source!r}")  # parse_rules rejects these


def _first_equal(rule: VmSignalRule, values: Iterable[str], label: str) -> str | None:
    for value in values:
        if norm(value) in rule.equals:
            return f"{label}={value}"
    return None


def _first_contains(rule: VmSignalRule, values: Iterable[str], label: str) -> str | None:
    for value in values:
        text = norm(value)
        if any(x in text for x in rule.except_contains):
            continue
        if any(x in text for x in rule.contains) or any(text.startswith(p) for p in rule.prefix):
            return f"{label}={value}"
    return None


def _smbios(rule: VmSignalRule, snap: Snapshot) -> str | None:
    bios = snap.smbios
    values = {
        "manufacturer": bios.manufacturer,
        "product": bios.product,
        "family": bios.family,
        "bios_vendor": bios.bios_vendor,
        "bios_version": bios.bios_version,
        "board_manufacturer": bios.board_manufacturer,
        "board_product": bios.board_product,
    }
    matched: list[str] = []
    for field_name, needle in rule.smbios_fields:
        if field_name == "any":
            hits = [f"{k}={v}" for k, v in values.items() if needle in norm(v)]
            if not hits:
                return None
            matched.append(hits[0])
        else:
            value = values.get(field_name, "")
            if needle not in norm(value):
                return None
            matched.append(f"{field_name}={value}")
    return "smbios " + ", ".join(matched) if matched else None
