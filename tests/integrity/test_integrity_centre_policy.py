"""Centre policy for classroom management software (block / warn / allow), signed like
the rest of the rules; rules in force reach the collector; the selected camera reaches
e-02."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from integrity_fixtures import load_case, signature

from client.integrity.evaluate import evaluate
from client.integrity.messages import describe
from client.integrity.rules import RulesError, choose_rules, parse_rules, sign_rules

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def centre_rules(doc: dict[str, Any], key: Ed25519PrivateKey, **changes: Any) -> Any:
    data = json.dumps({**doc, "version": doc["version"] + 1, **changes}).encode("utf-8")
    choice = choose_rules(update=(data, sign_rules(data, key=key)),
                          server_key=key.public_key(), now=NOW)
    assert choice.refused is None, choice.refused
    return choice.rules


@pytest.mark.parametrize(("policy", "expected"), [
    ("block", {("e-01", "lab_software_process", "jiyu", "block")}),
    ("warn", {("e-01", "lab_software_process", "jiyu", "warn")}),
    ("allow", set()),
])
def test_centre_policy_decides_for_classroom_software(
        builtin_document: dict[str, Any], server_key: Ed25519PrivateKey,
        policy: str, expected: set[tuple[str, str, str, str]]) -> None:
    rules = centre_rules(builtin_document, server_key, policies={"lab_management": policy})
    findings = evaluate(load_case("lab_jiyu_default_warn").snapshot, rules)
    assert signature(findings) == expected
    if policy == "block":
        assert "本考点要求考试时关闭" in describe(findings[0])


def test_a_policy_cannot_be_slipped_in_unsigned(builtin_document: dict[str, Any],
                                                server_key: Ed25519PrivateKey) -> None:
    data = json.dumps({**builtin_document, "version": builtin_document["version"] + 1,
                       "policies": {"lab_management": "allow"}}).encode("utf-8")
    signed = sign_rules(data, key=server_key)
    tampered = data.replace(b'"allow"', b'"block"')
    choice = choose_rules(update=(tampered, signed), server_key=server_key.public_key(),
                          now=NOW)
    assert choice.refused is not None and choice.rules.source == "builtin"


@pytest.mark.parametrize("policies", [{"lab_management": "ignore"}, {"remote_control": "allow"},
                                      {}])
def test_bad_or_missing_policies_are_refused(builtin_document: dict[str, Any],
                                             policies: dict[str, str]) -> None:
    with pytest.raises(RulesError):
        parse_rules({**builtin_document, "policies": policies})


def test_an_excuse_needs_a_path_and_a_parent(builtin_document: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(builtin_document))
    mstsc = next(t for t in doc["tools"] if t["id"] == "mstsc")
    mstsc["except"] = [{"parents": ["wslhost.exe"]}]  # name-and-parent only: too weak
    with pytest.raises(RulesError):
        parse_rules(doc)


def test_the_collector_reads_with_the_rules_in_force(builtin_document: dict[str, Any],
                                                     server_key: Ed25519PrivateKey,
                                                     tmp_path: Path) -> None:
    """Before: the collector chose whose details to read (signer, parent) from the built-in
    rules, so a server-shipped tool could not be allow-listed by signer."""
    from client.integrity.collect_windows.processes import ProcessReader
    from client.integrity.rules import builtin_rules

    binary = tmp_path / "NewRemote.exe"
    sleep = shutil.which("sleep")
    assert sleep is not None
    shutil.copy(sleep, binary)
    proc = subprocess.Popen([str(binary), "30"])
    try:
        reader = ProcessReader(rules=builtin_rules())
        import time

        time.sleep(0.2)
        assert reader.inspect(proc.pid) is not None
        assert reader.inspect(proc.pid).parent == ""  # type: ignore[union-attr]
        tools = [*builtin_document["tools"],
                 {"id": "newremote", "name": {"zh_CN": "新远控", "en": "NewRemote"},
                  "processes": ["NewRemote.exe"]}]
        reader.set_rules(centre_rules(builtin_document, server_key, tools=tools))
        info = reader.inspect(proc.pid)
        assert info is not None and info.parent != ""  # now inspected as a tool
    finally:
        proc.kill()
        proc.wait(5)


def test_the_remembered_camera_is_the_selected_one_for_e02(tmp_path: Path) -> None:
    from client.camera.devices import CameraDevice, DeviceChoiceStore
    from client.cli import selected_camera_of
    from client.config import load_settings

    ini = tmp_path / "user.ini"
    ini.write_text(f"[data]\ndirectory = {tmp_path / 'data'}\n[camera]\nenabled = true\n",
                   encoding="utf-8")
    settings = load_settings([ini])
    current = selected_camera_of(settings, camera_source=None)
    assert current() is None  # nothing chosen yet: the camera module never picks a virtual one
    path = "\\\\?\\SWD#VCAMDEVAPI#{6E1C3A2B}#{e5323777}\\global"
    DeviceChoiceStore(settings.data_dir).save(CameraDevice(0, 1400, "Integrated Camera", path))
    assert current() == path  # read at scan time: a later choice counts
    assert selected_camera_of(settings, camera_source=tmp_path / "video.mp4")() is None
