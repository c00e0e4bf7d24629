"""Attack review of e-01/e-02 (tests/integrity/attacks/): what a candidate would try, and
lab PCs that must stay clean. Each fixture cites the public source of its facts.

A fixture with ``gap`` is an attack the collected data cannot tell apart (documented in
docs/integrity.md, "Known gaps (attack review)"): it must stay exactly as it is now, so a
change that closes it shows up here and the docs are updated with it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from attack_runner import DETECT_WITHIN_S, attack_names, load_attack, run
from integrity_fixtures import ATTACKS

from client.integrity.evaluate import evaluate
from client.integrity.rules import RulesError, builtin_rules, parse_rules
from client.integrity.snapshot import ProcessInfo

NAMES = attack_names()


@pytest.mark.parametrize("name", NAMES)
def test_attack_fixture_gives_exactly_the_expected_findings(name: str) -> None:
    case = load_attack(name)
    outcome = run(case, builtin_rules())
    assert outcome.as_expected, (
        f"{name}: {case.description}\n  found    {sorted(outcome.found)}\n"
        f"  expected {sorted(outcome.wanted)}")
    if case.later is not None:
        assert outcome.latency_s is not None and outcome.latency_s <= DETECT_WITHIN_S, name


@pytest.mark.parametrize("name", NAMES)
def test_attack_fixture_is_well_formed(name: str) -> None:
    doc = json.loads((ATTACKS / f"{name}.json").read_text(encoding="utf-8"))
    assert doc["sources"] and all(isinstance(s, str) and s for s in doc["sources"]), name
    assert doc["category"], name
    case = load_attack(name)
    outcome = run(case, builtin_rules())
    if name.startswith("attack_"):
        # Either it is blocked, or it is a documented gap that gets through.
        assert outcome.attack_passes == bool(case.gap), (name, case.gap)
    else:
        assert name.startswith("fp_"), name
        assert not case.gap and not outcome.blocked, name


def test_attack_set_covers_what_the_review_was_asked_for() -> None:
    categories = {load_attack(n).category for n in NAMES}
    for wanted in ("renamed tool (OriginalFilename kept)", "renamed tool (no OriginalFilename)",
                   "portable / USB tool", "service under another name",
                   "tool started after the check", "hardened VM / nested virtualisation",
                   "virtual camera / display / audio with a renamed name",
                   "msrdc / WSL look-alike", "allow-list abuse", "clean lab PC"):
        assert wanted in categories, wanted
    assert sum(n.startswith("fp_") for n in NAMES) >= 10


def test_allow_entry_with_a_folder_needs_the_path() -> None:
    """A centre-allowed tool is allowed only from the centre's folder; an unreadable path
    proves nothing (the candidate's portable copy has the same name, OriginalFilename and
    signer)."""
    doc = json.loads((ATTACKS / "fp_enterprise_rmm_allowed_by_centre.json").read_text(
        encoding="utf-8"))
    case = load_attack("fp_enterprise_rmm_allowed_by_centre")
    rules = case.rules(builtin_rules())
    assert doc["allow"][0]["exe_prefixes"]
    facts = {"name": "TeamViewer.exe", "original_filename": "TeamViewer.exe",
             "signer": "TeamViewer Germany GmbH"}
    assert rules.process_allowed(**facts, exe="c:/program files/teamviewer/TeamViewer.exe")
    assert not rules.process_allowed(**facts, exe="E:\\TeamViewer.exe")
    assert not rules.process_allowed(**facts, exe="")
    unreadable = ProcessInfo(pid=9, name="TeamViewer.exe", original_filename="TeamViewer.exe",
                             signer="TeamViewer Germany GmbH")
    snapshot = case.snapshot.__class__(**{**case.snapshot.__dict__, "processes": (unreadable,),
                                          "services": ()})
    assert [f.subject for f in evaluate(snapshot, rules) if f.blocking] == ["teamviewer"]


def test_machine_allow_entry_cannot_carry_a_folder(builtin_document: dict[str, object]) -> None:
    doc = {**builtin_document, "allow": [{"machine_id": "abc", "exe_prefixes": ["C:\\x\\"]}]}
    with pytest.raises(RulesError):
        parse_rules(doc)


def test_overwritten_binary_cannot_inherit_a_harmless_cached_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cache poisoning without admin rights: run a harmless program padded to the tool's
    size, overwrite the file in place with the (renamed) tool, restore the mtime and run it
    again. The OriginalFilename used to come from a (path, size, mtime) cache, so the tool
    inherited the harmless name. GetFileVersionInfoW is Windows-only; here a stand-in
    reads the marker that plays the version resource from the same file."""
    from client.integrity.collect_windows import processes

    def version_resource(path: str) -> str:
        return "AnyDesk.exe" if Path(path).read_bytes().endswith(b"ANYDESK!") else "helper.exe"

    monkeypatch.setattr(processes, "original_filename", version_resource)
    sleep = shutil.which("sleep")
    assert sleep is not None
    binary = tmp_path / "helper.exe"
    body = Path(sleep).read_bytes()
    binary.write_bytes(body + b"harmless")
    binary.chmod(0o755)
    reader = processes.ProcessReader(rules=builtin_rules())

    def started_and_inspected() -> ProcessInfo | None:
        proc = subprocess.Popen([str(binary), "30"])
        try:
            time.sleep(0.2)
            return reader.inspect(proc.pid)
        finally:
            proc.kill()
            proc.wait(5)

    first = started_and_inspected()
    assert first is not None and first.original_filename == "helper.exe"
    stat = binary.stat()
    with binary.open("r+b") as f:  # in place: same file, same size
        f.write(body + b"ANYDESK!")
    os.utime(binary, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert binary.stat().st_size == stat.st_size
    second = started_and_inspected()
    assert second is not None and second.original_filename == "AnyDesk.exe"
    rules = builtin_rules()
    assert rules.tool_for_process_name(second.original_filename) is not None
