"""Golden suite: snapshot fixtures in, findings out. Zero false positives, zero misses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from integrity_fixtures import ATTACKS, FIXTURES, fixture_names, load_case, signature

from client.integrity.evaluate import evaluate
from client.integrity.rules import builtin_rules
from client.integrity.snapshot import Snapshot

NAMES = fixture_names()


@pytest.mark.parametrize("name", NAMES)
def test_fixture_produces_exactly_the_expected_findings(name: str) -> None:
    case = load_case(name)
    found = signature(evaluate(case.snapshot, case.rules(builtin_rules())))
    false_positives = found - case.expected
    misses = case.expected - found
    assert not false_positives and not misses, (
        f"{name}: {case.description}\n  false positives: {sorted(false_positives)}\n"
        f"  misses: {sorted(misses)}")


def test_suite_totals_and_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    rules = builtin_rules()
    expected_total = clean_fixtures = 0
    # Per category (the finding kind): how many expected, false positives, misses.
    table: dict[str, list[int]] = {}
    for name in NAMES:
        case = load_case(name)
        found = signature(evaluate(case.snapshot, case.rules(rules)))
        expected_total += len(case.expected)
        clean_fixtures += not case.expected
        for (_c, kind, _s, _sev) in case.expected:
            table.setdefault(kind, [0, 0, 0])[0] += 1
        for (_c, kind, _s, _sev) in found - case.expected:
            table.setdefault(kind, [0, 0, 0])[1] += 1
        for (_c, kind, _s, _sev) in case.expected - found:
            table.setdefault(kind, [0, 0, 0])[2] += 1
    false_positives = sum(row[1] for row in table.values())
    misses = sum(row[2] for row in table.values())
    with capsys.disabled():
        print(f"\ngolden suite: {len(NAMES)} fixtures, {expected_total} findings expected, "
              f"{clean_fixtures} must-stay-clean fixtures, false positives {false_positives}, "
              f"misses {misses}")
        for kind, (count, fps, missed) in sorted(table.items()):
            print(f"  {kind:32} expected {count:3}  false positives {fps}  misses {missed}")
    assert all(row[1:] == [0, 0] for row in table.values()), table
    # Every remote-control tool in the built-in rules has at least one fixture (golden or
    # attack set: tests/integrity/attacks/).
    covered = {subject for n in NAMES for (_c, _k, subject, _s) in load_case(n).expected}
    for name in fixture_names(ATTACKS):
        attack = load_case(name, ATTACKS)
        covered |= {subject for (_c, _k, subject, _s) in attack.expected | attack.later_expected}
    untested = {t.id for t in rules.tools} - covered
    assert not untested, f"tools without a golden fixture: {sorted(untested)}"
    assert {"vmware", "virtualbox", "qemu", "hyperv"} <= covered
    assert {"windows_sandbox", "sandboxie"} <= covered
    kinds = {kind for n in NAMES for (_c, kind, _s, _sev) in load_case(n).expected}
    assert {"lab_software_process", "virtual_audio", "source_unavailable"} <= kinds


def test_every_cited_fixture_names_its_sources() -> None:
    """Fixtures written from public facts carry where each fact comes from (issue 17:
    every fixture added since must cite)."""
    cited = 0
    for name in NAMES:
        doc = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        if "sources" in doc:
            assert doc["sources"] and all(isinstance(s, str) and s for s in doc["sources"]), name
            cited += 1
    assert cited >= 20


def test_fixtures_round_trip_through_json() -> None:
    for name in NAMES:
        snapshot = load_case(name).snapshot
        assert Snapshot.loads(snapshot.dumps()) == snapshot


VM_OUIS = ("00:50:56", "00:0c:29", "08:00:27", "0a:00:27", "00:15:5d", "52:54:00")


def naive_flags(snapshot: Snapshot) -> set[str]:
    """What a substring-and-bit detector (Safe Exam Browser before its fixes) would flag."""
    flags = set()
    if any(a.mac.startswith(VM_OUIS) for a in snapshot.network_adapters):
        flags.add("any adapter has a VM MAC")
    if any(w in i.casefold() for i in snapshot.pnp_device_ids
           for w in ("vmware", "vbox", "virtual", "vmbus", "hyper")):
        flags.add("pnp id mentions virtualisation")
    if snapshot.cpu.hypervisor_present:
        flags.add("hypervisor bit")
    if any(d.casefold().startswith(("vm", "vbox", "hv", "vid")) for d in snapshot.drivers_loaded):
        flags.add("vm-ish driver")
    if any(w in p.name.casefold() for p in snapshot.processes
           for w in ("vmware", "vbox", "virtualbox", "qq", "anydesk", "mstsc", "obs", "tim")):
        flags.add("process name contains a tool or VM word")
    if "microsoft corporation" in snapshot.smbios.manufacturer.casefold():
        flags.add("Microsoft manufacturer")
    if any("usb#vid_" not in c.device_path.casefold() for c in snapshot.cameras):
        flags.add("camera without usb#vid")
    if len(snapshot.displays) > 1:
        flags.add("more than one display device")
    return flags


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("fp_")])
def test_false_positive_fixtures_contain_the_trap(name: str) -> None:
    """Negative control: each must-stay-clean fixture really carries what once fooled a
    naive detector, so its passing means something."""
    assert naive_flags(load_case(name).snapshot), f"{name} would not fool a naive detector"


def test_docs_list_every_signal_with_its_weight() -> None:
    """docs/integrity.md has one table row naming each VM signal id (grouped rows list the
    ids after the first as '/ name'), so a new signal cannot go undocumented."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "integrity.md").read_text(
        encoding="utf-8")
    rows = [line.casefold() for line in doc.splitlines() if line.startswith("| ")]
    missing = []
    for signal in builtin_rules().vm.signals:
        group, _, name = signal.id.partition(".")
        if not any(f"{group}." in row and name in row and str(signal.weight) in row
                   for row in rows):
            missing.append(signal.id)
    assert not missing, f"signals not in docs/integrity.md with their weight: {missing}"
