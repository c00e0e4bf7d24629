"""Rules files: signature, expiry, version floor, kill switches, allow entries, normalising."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from integrity_fixtures import load_case, signature

from client.integrity.evaluate import evaluate
from client.integrity.rules import (
    AllowEntry,
    RulesError,
    builtin_rules,
    choose_rules,
    parse_rules,
    sign_rules,
    vendor_public_key,
    verify_rules,
)
from client.resources import resource_path

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def newer(doc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**doc, "version": doc["version"] + 1, **changes}


def test_builtin_rules_verify_against_the_committed_vendor_key() -> None:
    data = Path(resource_path("integrity", "rules.json")).read_bytes()
    sig = Path(resource_path("integrity", "rules.json.sig")).read_bytes()
    rules = verify_rules(data, sig, trusted_keys=(vendor_public_key(),), now=NOW,
                         source="builtin")
    assert rules.version == builtin_rules().version
    assert rules.source == "builtin"


def test_server_signed_newer_rules_are_used(builtin_document: dict[str, Any],
                                            server_key: Ed25519PrivateKey) -> None:
    data = encode(newer(builtin_document))
    choice = choose_rules(update=(data, sign_rules(data, key=server_key)),
                          server_key=server_key.public_key(), now=NOW)
    assert choice.refused is None
    assert choice.rules.version == builtin_document["version"] + 1
    assert choice.rules.source == "server"


def test_tampered_rules_are_refused_and_builtin_stays(builtin_document: dict[str, Any],
                                                      server_key: Ed25519PrivateKey) -> None:
    data = encode(newer(builtin_document))
    sig = sign_rules(data, key=server_key)
    # Someone removes AnyDesk from the list after signing.
    tampered = data.replace(b'"AnyDesk.exe"', b'"AnyDisk.exe"')
    assert tampered != data
    choice = choose_rules(update=(tampered, sig), server_key=server_key.public_key(), now=NOW)
    assert choice.refused is not None and choice.refused.code == "integrity.rules_signature_invalid"
    assert choice.rules is builtin_rules()
    assert choice.rules.tool_for_process_name("AnyDesk.exe") is not None


def test_rules_signed_by_an_unknown_key_are_refused(builtin_document: dict[str, Any],
                                                    server_key: Ed25519PrivateKey) -> None:
    data = encode(newer(builtin_document))
    stranger = Ed25519PrivateKey.generate()
    choice = choose_rules(update=(data, sign_rules(data, key=stranger)),
                          server_key=server_key.public_key(), now=NOW)
    assert choice.refused is not None and choice.refused.code == "integrity.rules_signature_invalid"
    assert choice.rules is builtin_rules()


@pytest.mark.parametrize("sig", [None, b"", b"  \n", b"not base64 at all!", b"c2hvcnQ="])
def test_unsigned_or_garbled_signature_is_refused(builtin_document: dict[str, Any],
                                                  server_key: Ed25519PrivateKey,
                                                  sig: bytes | None) -> None:
    data = encode(newer(builtin_document))
    choice = choose_rules(update=(data, sig), server_key=server_key.public_key(), now=NOW)
    assert choice.refused is not None
    assert choice.refused.code in ("integrity.rules_unsigned", "integrity.rules_signature_invalid")
    assert choice.rules is builtin_rules()


def test_expired_rules_are_refused(builtin_document: dict[str, Any],
                                   server_key: Ed25519PrivateKey) -> None:
    expired = newer(builtin_document, expires_at=(NOW - timedelta(days=1)).isoformat())
    data = encode(expired)
    choice = choose_rules(update=(data, sign_rules(data, key=server_key)),
                          server_key=server_key.public_key(), now=NOW)
    assert choice.refused is not None and choice.refused.code == "integrity.rules_expired"
    assert choice.rules is builtin_rules()


def test_older_rules_are_refused_even_when_validly_signed(
        builtin_document: dict[str, Any], server_key: Ed25519PrivateKey) -> None:
    data = encode({**builtin_document, "version": builtin_document["version"] - 1})
    choice = choose_rules(update=(data, sign_rules(data, key=server_key)),
                          server_key=server_key.public_key(), now=NOW)
    assert choice.refused is not None and choice.refused.code == "integrity.rules_older"


def test_signature_is_not_a_bare_signature_over_the_bytes(
        builtin_document: dict[str, Any], server_key: Ed25519PrivateKey) -> None:
    # A signature the server made over the raw bytes for another purpose must not pass.
    data = encode(newer(builtin_document))
    raw_sig = base64.b64encode(server_key.sign(data))
    with pytest.raises(RulesError) as err:
        verify_rules(data, raw_sig, trusted_keys=(server_key.public_key(),), now=NOW,
                     source="server")
    assert err.value.code == "integrity.rules_signature_invalid"


def test_malformed_but_signed_rules_are_refused(server_key: Ed25519PrivateKey) -> None:
    for data in (b"{not json", b"[]", encode({"format": 1, "version": 9})):
        with pytest.raises(RulesError) as err:
            verify_rules(data, sign_rules(data, key=server_key),
                         trusted_keys=(server_key.public_key(),), now=NOW, source="server")
        assert err.value.code == "integrity.rules_malformed"


def test_kill_switch_turns_one_check_off(builtin_document: dict[str, Any]) -> None:
    case = load_case("tool_todesk")
    doc = newer(builtin_document, checks={**builtin_document["checks"], "remote_tool": False})
    rules = parse_rules(doc)
    assert not rules.enabled("remote_tool") and rules.enabled("vm")
    assert evaluate(case.snapshot, rules) == []
    vm_case = load_case("vm_vmware_guest")
    assert signature(evaluate(vm_case.snapshot, rules)) == vm_case.expected


def test_missing_check_means_enabled(builtin_document: dict[str, Any]) -> None:
    doc = {k: v for k, v in builtin_document.items() if k != "checks"}
    assert parse_rules(doc).enabled_checks == builtin_rules().enabled_checks


def test_names_are_normalised_once_at_load(builtin_document: dict[str, Any]) -> None:
    rules = parse_rules(builtin_document)
    assert all(p == p.casefold().strip() for t in rules.tools for p in t.processes)
    assert rules.tool_for_process_name("  TODESK.EXE ") is rules.tool_for_process_name("todesk.exe")
    assert rules.tool_for_process_name("WinVNC4.EXE") is not None  # glob, any case
    assert rules.tool_for_process_name("") is None


@pytest.mark.parametrize("entry", [
    {"name": "TeamViewer.exe"},
    {"name": "TeamViewer.exe", "original_filename": "TeamViewer.exe"},
    {"signer": "Google LLC"},
    {"machine_id": "abc", "name": "x.exe", "original_filename": "x.exe", "signer": "y"},
    {"machine_id": "abc", "checks": ["no_such_check"]},
])
def test_incomplete_allow_entries_are_rejected(builtin_document: dict[str, Any],
                                               entry: dict[str, Any]) -> None:
    with pytest.raises(RulesError) as err:
        parse_rules({**builtin_document, "allow": [entry]})
    assert err.value.code == "integrity.rules_malformed"


def test_allow_entry_needs_name_original_and_signer_together() -> None:
    rules = builtin_rules().with_allow([AllowEntry(
        name="AnyDesk.exe", original_filename="AnyDesk.exe", signer="AnyDesk Software GmbH")])
    assert rules.process_allowed(name="anydesk.EXE", original_filename="ANYDESK.exe",
                                 signer="anydesk software gmbh")
    assert not rules.process_allowed(name="AnyDesk.exe", original_filename="AnyDesk.exe",
                                     signer="")
    assert not rules.process_allowed(name="x.exe", original_filename="AnyDesk.exe",
                                     signer="AnyDesk Software GmbH")
