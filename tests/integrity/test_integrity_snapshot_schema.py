"""Snapshot files are validated against the schema: a typo or a missing key is an error,
never a silently empty part that evaluates as 检测通过 (issue 17)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from integrity_fixtures import load_case

from client.integrity.evaluate import evaluate
from client.integrity.rules import builtin_rules
from client.integrity.snapshot import SNAPSHOT_FORMAT, Snapshot


def anydesk_dump() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(load_case("tool_anydesk").snapshot.dumps())
    return data


def test_a_dump_with_a_tool_blocks() -> None:
    snapshot = Snapshot.from_json(anydesk_dump())
    assert any(f.subject == "anydesk" for f in evaluate(snapshot, builtin_rules()))


def test_misspelled_top_level_key_is_an_error_not_a_pass() -> None:
    data = anydesk_dump()
    data["proceses"] = data.pop("processes")
    with pytest.raises(ValueError, match=r"unknown fields \['proceses'\]"):
        Snapshot.from_json(data)


def test_missing_top_level_key_is_an_error() -> None:
    data = anydesk_dump()
    del data["services"]
    with pytest.raises(ValueError, match=r"missing fields \['services'\]"):
        Snapshot.from_json(data)


def test_nested_unknown_and_missing_keys_are_errors() -> None:
    data = anydesk_dump()
    data["session"]["remote_sesion"] = True
    with pytest.raises(ValueError, match="SessionInfo: unknown fields"):
        Snapshot.from_json(data)
    data = anydesk_dump()
    del data["processes"][0]["signer"]
    with pytest.raises(ValueError, match=r"ProcessInfo: missing fields \['signer'\]"):
        Snapshot.from_json(data)


def test_wrong_types_are_errors() -> None:
    data = anydesk_dump()
    data["processes"] = {"pid": 1}
    with pytest.raises(ValueError, match="expected a list"):
        Snapshot.from_json(data)
    data = anydesk_dump()
    data["errors"] = "smbios: gone"
    with pytest.raises(ValueError, match="list of text"):
        Snapshot.from_json(data)


def test_format_1_dumps_are_read_without_the_fields_added_since() -> None:
    data = anydesk_dump()
    data["format"] = 1
    for process in data["processes"]:
        del process["parent"], process["system"], process["unverified"]
    snapshot = Snapshot.from_json(data)
    assert snapshot.format == SNAPSHOT_FORMAT
    assert all(p.parent == "" and p.system is False for p in snapshot.processes)


def test_format_2_dumps_are_read_without_unverified_but_format_3_needs_it() -> None:
    data = anydesk_dump()
    for process in data["processes"]:
        del process["unverified"]
    with pytest.raises(ValueError, match=r"ProcessInfo: missing fields \['unverified'\]"):
        Snapshot.from_json(data)
    data["format"] = 2
    assert all(not p.unverified for p in Snapshot.from_json(data).processes)
    with pytest.raises(ValueError, match=r"ProcessInfo: missing fields \['system'\]"):
        del data["processes"][0]["system"]
        Snapshot.from_json(data)


@pytest.mark.parametrize("version", [None, 0, SNAPSHOT_FORMAT + 1, "2"])
def test_unknown_formats_are_refused(version: object) -> None:
    data = anydesk_dump()
    data["format"] = version
    with pytest.raises(ValueError, match="format"):
        Snapshot.from_json(data)
