"""Loading golden fixtures: a snapshot (optionally built from a base + changes) and the
findings it must produce. Format: docs/integrity.md, "Turning a report into a fixture".

The attack set (tests/integrity/attacks/) uses the same format plus: ``category`` (what
kind of attack or clean PC), ``policies`` (the centre's signed policy per tool category),
``gap`` (why the collected data cannot tell this attack apart: it must then stay
undetected, so a fix shows up as a failing test to update) and ``later`` (the PC a few
seconds after the first check: ``{"at_s": 1.0, "append": {...}, "snapshot": {...}}``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from client.integrity.findings import Finding
from client.integrity.rules import AllowEntry, Policy, Rules
from client.integrity.snapshot import Snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ATTACKS = Path(__file__).resolve().parent / "attacks"
_MERGED_OBJECTS = {"session", "smbios", "cpu"}


@dataclass(frozen=True)
class GoldenCase:
    name: str
    description: str
    snapshot: Snapshot
    allow: tuple[AllowEntry, ...]
    expected: frozenset[tuple[str, str, str, str]]  # (code, kind, subject, severity)
    category: str = ""
    policies: dict[str, Policy] = field(default_factory=dict)
    gap: str = ""
    later: Snapshot | None = None
    later_at_s: float = 0.0
    later_device_change: bool = False  # the change posts WM_DEVICECHANGE (full scan now)
    later_expected: frozenset[tuple[str, str, str, str]] = frozenset()

    def rules(self, base: Rules) -> Rules:
        rules = base.with_allow(self.allow) if self.allow else base
        if self.policies:
            # Stands in for the centre's signed rules (test_integrity_centre_policy signs
            # real ones); the deciding code reads only Rules.policies.
            rules = replace(rules, policies={**rules.policies, **self.policies})
        return rules


def fixture_names(directory: Path = FIXTURES) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.json"))


def _build(data: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for key, value in doc.get("snapshot", {}).items():
        if key in _MERGED_OBJECTS and key in data:
            data[key] = {**data[key], **value}
        else:
            data[key] = copy.deepcopy(value)
    for key, items in doc.get("append", {}).items():
        data[key] = [*data.get(key, []), *items]
    return data


def load_case(name: str, directory: Path = FIXTURES) -> GoldenCase:
    doc = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
    if doc.get("base"):
        base: dict[str, Any] = json.loads(
            (FIXTURES / "bases" / f"{doc['base']}.json").read_text(encoding="utf-8"))
    else:
        base = {}
    data = _build(base, doc)
    allow = tuple(
        AllowEntry(name=a.get("name", ""), original_filename=a.get("original_filename", ""),
                   signer=a.get("signer", ""), machine_id=a.get("machine_id", ""),
                   checks=frozenset(a.get("checks", ())), comment=a.get("comment", ""),
                   exe_prefixes=tuple(a.get("exe_prefixes", ())))
        for a in doc.get("allow", ())
    )
    expected = frozenset(
        (e["code"], e["kind"], e["subject"], e["severity"]) for e in doc["expected"])
    later_doc = doc.get("later")
    later = Snapshot.from_json(_build(data, later_doc)) if later_doc else None
    return GoldenCase(name, doc["description"], Snapshot.from_json(data), allow, expected,
                      category=doc.get("category", ""), policies=dict(doc.get("policies", {})),
                      gap=doc.get("gap", ""), later=later,
                      later_at_s=float(later_doc["at_s"]) if later_doc else 0.0,
                      later_device_change=bool(later_doc.get("device_change")) if later_doc
                      else False,
                      later_expected=_signatures(later_doc["expected"]) if later_doc
                      else frozenset())


def _signatures(items: list[dict[str, str]]) -> frozenset[tuple[str, str, str, str]]:
    return frozenset((e["code"], e["kind"], e["subject"], e["severity"]) for e in items)


def signature(findings: list[Finding]) -> frozenset[tuple[str, str, str, str]]:
    return frozenset((f.code, f.kind, f.subject, f.severity) for f in findings)
