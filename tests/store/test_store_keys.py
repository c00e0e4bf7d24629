"""The key envelope: keyring, login and server wraps; wiped credential store; wrong people."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from keyring.backends.fail import Keyring as NoKeyring
from store_helpers import FAST_KDF, BrokenKeyring, DictKeyring

from client.store.database import AnswerStore
from client.store.envelope import DEFAULT_KDF, Envelope, recover_store_key
from client.store.errors import StoreKeyError
from client.store.keys import KEYRING_SERVICE, keyring_entry_name, open_store_key
from client.store.paths import store_paths
from client.store.recovery import open_or_recover

EXAM = "exam-2024-math"
ALICE = {"candidate_id": "c-17", "username": "11010519900101123X", "password": "01123X"}
BOB = {"candidate_id": "c-18", "username": "2024000002", "password": "654321"}


def raw_public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)


def login(data_dir: Path, who: dict[str, str], keyring: object, **extra: object) -> bytes:
    options: dict[str, object] = {"server_box_public_key": None, "kdf": FAST_KDF}
    options.update(extra)
    return open_store_key(data_dir=data_dir, exam_id=EXAM, keyring_backend=keyring,
                          **who, **options)  # type: ignore[arg-type]


def test_first_login_creates_key_and_two_sidecar_copies_without_the_key(
    tmp_path: Path, keyring_backend: DictKeyring
) -> None:
    key = login(tmp_path, ALICE, keyring_backend)
    assert len(key) == 32
    paths = store_paths(tmp_path, exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    sidecar = paths.sidecar.read_bytes()
    assert paths.sidecar_copy.read_bytes() == sidecar
    for encoding in (key, key.hex().encode(), base64.b64encode(key)):
        assert encoding not in sidecar
    for plain in (ALICE["username"], ALICE["password"], ALICE["candidate_id"], EXAM):
        assert plain.encode() not in sidecar and plain not in str(paths.directory)
    envelope = Envelope.from_bytes(sidecar)
    assert envelope.credentials is not None and envelope.keyring is not None
    assert envelope.server is None  # offline at first login: added later
    entry = keyring_entry_name(exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    assert (KEYRING_SERVICE, entry) in keyring_backend.entries
    assert login(tmp_path, ALICE, keyring_backend) == key


def test_restore_software_wiped_the_credential_store_relogin_gets_answers_back(
    tmp_path: Path, keyring_backend: DictKeyring
) -> None:
    key = login(tmp_path, ALICE, keyring_backend)
    paths = store_paths(tmp_path, exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    store, _ = open_or_recover(paths, key=key)
    store.save(question_id="q1", value="B", server_time_ms=None)
    store.save(question_id="q2", value="长答案", server_time_ms=None)
    store.close()

    wiped = DictKeyring()  # reboot: the Windows credential store is back to its image
    again = login(tmp_path, ALICE, wiped)  # no network needed
    assert again == key
    store, report = open_or_recover(paths, key=again)
    assert not report.recovered
    assert {q: r.value for q, r in store.current_answers().items()} == {"q1": "B", "q2": "长答案"}
    store.close()
    assert wiped.entries, "the keyring wrap is re-established for the next login"
    assert login(tmp_path, ALICE, wiped) == key


def test_username_case_does_not_matter_password_does(
    tmp_path: Path, keyring_backend: DictKeyring
) -> None:
    key = login(tmp_path, ALICE, keyring_backend)
    lower = dict(ALICE, username=ALICE["username"].lower() + " ")
    assert login(tmp_path, lower, DictKeyring()) == key
    with pytest.raises(StoreKeyError):
        login(tmp_path, dict(ALICE, password=ALICE["password"].lower()), DictKeyring())


def test_wrong_password_gets_nothing_even_with_the_keyring_entry_present(
    tmp_path: Path, keyring_backend: DictKeyring
) -> None:
    login(tmp_path, ALICE, keyring_backend)
    with pytest.raises(StoreKeyError) as caught:
        login(tmp_path, dict(ALICE, password="000000"), keyring_backend)
    assert caught.value.code == "store.wrong_credentials"
    assert "用户名或密码" in caught.value.message


def test_another_candidates_login_gets_nothing(
    tmp_path: Path, keyring_backend: DictKeyring
) -> None:
    login(tmp_path, ALICE, keyring_backend)
    bob_on_alice = dict(BOB, candidate_id=ALICE["candidate_id"])
    with pytest.raises(StoreKeyError):
        login(tmp_path, bob_on_alice, DictKeyring())
    with pytest.raises(StoreKeyError):
        login(tmp_path, bob_on_alice, keyring_backend)
    # Bob's own login gets Bob's own, separate store.
    assert login(tmp_path, BOB, keyring_backend) != login(tmp_path, ALICE, keyring_backend)


def test_a_copied_store_opens_for_nobody_else(tmp_path: Path,
                                              keyring_backend: DictKeyring) -> None:
    key = login(tmp_path / "pc1", ALICE, keyring_backend)
    alice = store_paths(tmp_path / "pc1", exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    store, _ = open_or_recover(alice, key=key)
    store.save(question_id="q1", value="A", server_time_ms=None)
    store.close()
    # Copied to another PC under Bob's name: Bob's login and the wraps do not match.
    bob = store_paths(tmp_path / "pc2", exam_id=EXAM, candidate_id=BOB["candidate_id"])
    shutil.copytree(alice.directory, bob.directory)
    with pytest.raises(StoreKeyError):
        login(tmp_path / "pc2", BOB, DictKeyring())
    # Copied as it is: without Alice's password (no keyring there) it stays closed.
    shutil.copytree(alice.directory.parent, tmp_path / "pc3" / "stores")
    with pytest.raises(StoreKeyError):
        login(tmp_path / "pc3", dict(ALICE, password="guess1"), DictKeyring())


def test_password_reset_online_rewraps_the_login(
    tmp_path: Path, keyring_backend: DictKeyring
) -> None:
    key = login(tmp_path, ALICE, keyring_backend)
    changed = dict(ALICE, password="N3w-pass")
    with pytest.raises(StoreKeyError):  # offline, the new password proves nothing
        login(tmp_path, changed, keyring_backend)
    assert login(tmp_path, changed, keyring_backend, login_verified_online=True) == key
    assert login(tmp_path, changed, DictKeyring()) == key  # works offline from now on
    with pytest.raises(StoreKeyError):
        login(tmp_path, ALICE, DictKeyring())


@pytest.mark.parametrize("backend", [NoKeyring(), BrokenKeyring(), None],
                         ids=["no-backend", "broken-backend", "default-backend"])
def test_no_usable_keyring_is_never_fatal(tmp_path: Path, backend: object,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if backend is None:  # keyring.get_keyring() picks its default: make that the fail one
        import keyring

        monkeypatch.setattr(keyring, "get_keyring", lambda: NoKeyring())
    key = login(tmp_path, ALICE, backend)
    paths = store_paths(tmp_path, exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    assert Envelope.from_bytes(paths.sidecar.read_bytes()).keyring is None
    assert login(tmp_path, ALICE, backend) == key


def test_the_exam_owner_can_always_recover_the_key(
    tmp_path: Path, keyring_backend: DictKeyring
) -> None:
    server = X25519PrivateKey.generate()
    key = login(tmp_path, ALICE, keyring_backend)  # offline first: no server wrap yet
    paths = store_paths(tmp_path, exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    with pytest.raises(ValueError):
        recover_store_key(paths.sidecar.read_bytes(), server_box_private_key=server,
                          exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    assert login(tmp_path, ALICE, keyring_backend, server_box_public_key=raw_public(server)) == key
    sidecar = paths.sidecar.read_bytes()
    assert recover_store_key(sidecar, server_box_private_key=server, exam_id=EXAM,
                             candidate_id=ALICE["candidate_id"]) == key
    with pytest.raises(InvalidTag):
        recover_store_key(sidecar, server_box_private_key=X25519PrivateKey.generate(),
                          exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    with pytest.raises(InvalidTag):
        recover_store_key(sidecar, server_box_private_key=server, exam_id=EXAM,
                          candidate_id=BOB["candidate_id"])
    rotated = X25519PrivateKey.generate()
    login(tmp_path, ALICE, keyring_backend, server_box_public_key=raw_public(rotated))
    assert recover_store_key(paths.sidecar.read_bytes(), server_box_private_key=rotated,
                             exam_id=EXAM, candidate_id=ALICE["candidate_id"]) == key


def test_a_damaged_sidecar_copy_is_survived(tmp_path: Path,
                                            keyring_backend: DictKeyring) -> None:
    key = login(tmp_path, ALICE, keyring_backend)
    paths = store_paths(tmp_path, exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    paths.sidecar.write_bytes(paths.sidecar.read_bytes()[:40])  # torn write / bad sector
    assert login(tmp_path, ALICE, DictKeyring()) == key
    paths.sidecar.unlink()
    assert login(tmp_path, ALICE, DictKeyring()) == key


def test_both_sidecars_destroyed_gives_a_new_key_and_keeps_the_evidence(
    tmp_path: Path, keyring_backend: DictKeyring
) -> None:
    key = login(tmp_path, ALICE, keyring_backend)
    paths = store_paths(tmp_path, exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    store, _ = open_or_recover(paths, key=key)
    store.save(question_id="q1", value="A", server_time_ms=None)
    store.close()
    for path in (paths.sidecar, paths.sidecar_copy):
        path.write_bytes(b"\x00garbage")
    new_key = login(tmp_path, ALICE, keyring_backend)
    assert new_key != key
    assert len(list(paths.damaged_dir.glob("answers.keys*"))) == 2
    # The old store cannot be read with the new key: recovery says so, loudly.
    store, report = open_or_recover(paths, key=new_key)
    assert report.recovered and report.revisions_total == 0
    assert report.message()
    store.close()


def test_shipped_kdf_parameters(tmp_path: Path, keyring_backend: DictKeyring) -> None:
    assert (DEFAULT_KDF.memory_kib, DEFAULT_KDF.time_cost) == (64 * 1024, 3)
    key = login(tmp_path, ALICE, keyring_backend, kdf=DEFAULT_KDF)
    paths = store_paths(tmp_path, exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    envelope = Envelope.from_bytes(paths.sidecar.read_bytes())
    assert envelope.credentials is not None and envelope.credentials.kdf == DEFAULT_KDF
    assert login(tmp_path, ALICE, DictKeyring()) == key  # parameters come from the file
    store = AnswerStore.open(paths.db, key=key)
    store.close()


def test_password_reset_on_the_server_with_a_wiped_keyring_says_what_happened(
    tmp_path: Path, keyring_backend: DictKeyring
) -> None:
    """The server accepted the new password, but nothing on this PC opens the store with
    it: not "wrong password", which the candidate would retype forever."""
    login(tmp_path, ALICE, keyring_backend)
    changed = dict(ALICE, password="N3w-pass")
    with pytest.raises(StoreKeyError) as caught:
        login(tmp_path, changed, DictKeyring(), login_verified_online=True)
    assert caught.value.code == "store.key_mismatch"
    assert "服务器已确认此密码" in caught.value.message and "更换电脑" in caught.value.message
    paths = store_paths(tmp_path, exam_id=EXAM, candidate_id=ALICE["candidate_id"])
    assert paths.sidecar.exists()  # nothing was destroyed
    with pytest.raises(StoreKeyError) as offline:
        login(tmp_path, changed, DictKeyring())
    assert offline.value.code == "store.wrong_credentials"
