"""The lab-PC story end to end: answering, the process dies mid-save, restore software
wipes the system drive (and the credential store on it), the candidate logs in again on
the same PC with no network, and every answer the UI had shown as saved is back."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from keyrings.alt.file import PlaintextKeyring

from client.store.keys import open_store_key
from client.store.model import encode_value
from client.store.paths import store_paths
from client.store.recovery import open_or_recover

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAM_ID, CANDIDATE_ID = "torture-exam", "c-0001"  # as in tests/torture/writer_process.py
USERNAME, PASSWORD = "11010519900101123X", "01123X"


def file_keyring(path: Path) -> PlaintextKeyring:
    backend = PlaintextKeyring()
    backend.file_path = str(path)  # the credential store lives on the system drive
    return backend


def test_relogin_after_power_cut_and_reset_system_drive(tmp_path: Path) -> None:
    system_drive = tmp_path / "C"
    data_drive = tmp_path / "D" / "ExamData"
    system_drive.mkdir()
    keyring_file = system_drive / "keyring_pass.cfg"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    output = tmp_path / "writer.txt"
    with open(output, "wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.torture.writer_process", "--data-dir", str(data_drive),
             "--username", USERNAME, "--password", PASSWORD, "--keyring-file", str(keyring_file)],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while output.read_bytes().count(b"\nACK") < 200:
        assert child.poll() is None and time.monotonic() < deadline, child.stderr
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)  # the power cut, as far as the process can tell
    child.communicate()
    acked = {}
    for line in output.read_text(encoding="utf-8").split("\n")[:-1]:
        parts = line.split()
        if parts and parts[0] == "ACK":
            acked[(parts[1], int(parts[2]))] = parts[3]
    assert len(acked) >= 100  # coalesced essay saves share a revision
    assert keyring_file.exists()

    keyring_file.unlink()  # reboot: restore software puts C: back as it was

    key = open_store_key(data_dir=data_drive, exam_id=EXAM_ID, candidate_id=CANDIDATE_ID,
                         username=USERNAME, password=PASSWORD, server_box_public_key=None,
                         keyring_backend=file_keyring(keyring_file))
    store, report = open_or_recover(
        store_paths(data_drive, exam_id=EXAM_ID, candidate_id=CANDIDATE_ID), key=key)
    try:
        assert not report.recovered
        stored = {(r.question_id, r.revision):
                  hashlib.sha256(encode_value(r.value).encode()).hexdigest()[:16]
                  for r in store.revisions()}
    finally:
        store.close()
    assert {k: stored.get(k) for k in acked} == acked
    assert keyring_file.exists()  # the keyring wrap is back for the next login
