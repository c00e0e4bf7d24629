"""Detection rules shipped with the paper: a tool added by the exam server after the
client was built is found on the candidate's PC; a tampered rules file is ignored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ui_support import integrity_file, log_in, open_window

from client.integrity.snapshot import Snapshot
from client.resources import resource_path
from client.ui.checks import replayed_integrity_checks
from server.integrity_rules import set_rules
from server.papers import refresh_package
from server.testing import live_server

pytestmark = pytest.mark.qt


def newer_rules_with_new_tool() -> bytes:
    rules = json.loads(resource_path("integrity", "rules.json").read_text(encoding="utf-8"))
    rules["version"] += 1
    rules["tools"].append({"id": "newremote", "name": {"zh_CN": "新远控", "en": "NewRemote"},
                           "processes": ["NewRemote.exe"], "services": []})
    return json.dumps(rules, ensure_ascii=False).encode("utf-8")


def snapshot_with_process(tmp_path: Path, name: str) -> Path:
    path = integrity_file(tmp_path, "fp_clean_lab_pc")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["processes"].append({"pid": 9100, "name": name, "exe": f"C:\\\\Tools\\\\{name}",
                              "original_filename": name, "signer": "", "service": "",
                              "parent": "explorer.exe", "system": False, "unverified": False})
    path.write_text(Snapshot.from_json(data).dumps(), encoding="utf-8")
    return path


@pytest.mark.parametrize("tamper", [False, True])
def test_rules_from_the_package_are_used_when_validly_signed(
        qtbot: Any, tmp_path: Path, tamper: bool) -> None:
    checks = replayed_integrity_checks(snapshot_with_process(tmp_path, "NewRemote.exe"))
    with live_server(tmp_path / "server", demo=True, start_in_s=600) as server:
        demo = server.demo
        assert demo is not None
        ctx = server.context
        set_rules(server.db, ctx.keys, exam_id=demo.exam_id, data=newer_rules_with_new_tool(),
                  now_ms=server.clock.now_ms())
        if tamper:  # one byte of the stored rules changed after signing
            from server.integrity_rules import exam_rules

            with server.db.write() as conn:
                conn.execute(exam_rules.update().values(
                    rules=newer_rules_with_new_tool().replace(b"NewRemote", b"NewRemotX")))
        refresh_package(settings=ctx.settings, db=server.db, keys=ctx.keys,
                        exam_id=demo.exam_id)
        window = open_window(qtbot, server, tmp_path / "client", integrity=checks)
        log_in(qtbot, window, demo.username, demo.password)
        qtbot.waitUntil(lambda: window._preloaded, timeout=15_000)
        panel = window.integrity_panel
        qtbot.waitUntil(lambda: not panel.busy, timeout=15_000)
        qtbot.wait(500)
        qtbot.waitUntil(lambda: not panel.busy, timeout=15_000)
        texts = [panel._list.item(i).text() for i in range(panel._list.count())]
        if tamper:
            assert panel.allowed and not any("NewRemote" in t for t in texts), texts
        else:
            assert not panel.allowed
            assert any("NewRemote" in text for text in texts), texts
        window.shutdown()
