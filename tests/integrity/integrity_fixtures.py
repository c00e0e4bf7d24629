"""Loading golden fixtures: a snapshot (optionally built from a base + changes) and the
findings it must produce. Format: docs/integrity.md, "Turning a report into a fixture"."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.integrity.findings import Finding
from client.integrity.rules import AllowEntry, Rules
from client.integrity.snapshot import Snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_MERGED_OBJECTS = {"session", "smbios", "cpu"}


@dataclass(frozen=True)
class GoldenCase:
    name: str
    description: str
    snapshot: Snapshot
    allow: tuple[AllowEntry, ...]
    expected: frozenset[tuple[str, str, str, str]]  # (code, kind, subject, severity)

    def rules(self, base: Rules) -> Rules:
        return base.with_allow(self.allow) if self.allow else base


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json"))


def load_case(name: str) -> GoldenCase:
    doc = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    if doc.get("base"):
        data: dict[str, Any] = json.loads(
            (FIXTURES / "bases" / f"{doc['base']}.json").read_text(encoding="utf-8"))
    else:
        data = {}
    for key, value in doc.get("snapshot", {}).items():
        if key in _MERGED_OBJECTS and key in data:
            data[key] = {**data[key], **value}
        else:
            data[key] = copy.deepcopy(value)
    for key, items in doc.get("append", {}).items():
        data[key] = [*data.get(key, []), *items]
    allow = tuple(
        AllowEntry(name=a.get("name", ""), original_filename=a.get("original_filename", ""),
                   signer=a.get("signer", ""), machine_id=a.get("machine_id", ""),
                   checks=frozenset(a.get("checks", ())), comment=a.get("comment", ""))
        for a in doc.get("allow", ())
    )
    expected = frozenset(
        (e["code"], e["kind"], e["subject"], e["severity"]) for e in doc["expected"])
    return GoldenCase(name, doc["description"], Snapshot.from_json(data), allow, expected)


def signature(findings: list[Finding]) -> frozenset[tuple[str, str, str, str]]:
    return frozenset((f.code, f.kind, f.subject, f.severity) for f in findings)
