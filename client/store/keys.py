"""open_store_key: get (or create on first use) the data key of a candidate's store.

Order at login:
1. the keyring wrap (fast; missing after restore software reset the system drive);
2. the credentials wrap (argon2id of the login), which is also checked when the keyring
   worked: it is what proves, offline, that the person typing is this candidate;
3. wraps that are missing or stale are (re)made: a fresh keyring entry after a wiped
   credential store, the server wrap once the server's box key is known.

The keyring is optional everywhere: no backend (Linux CI), a locked or broken one, all
just mean "no keyring wrap" (logged), never a failed exam.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag

from client.i18n import _
from client.store import envelope as env
from client.store.envelope import DEFAULT_KDF, Envelope, KdfParams
from client.store.errors import StoreKeyError
from client.store.fsutil import atomic_write_bytes, move_aside
from client.store.paths import StorePaths, store_paths

log = logging.getLogger(__name__)

KEYRING_SERVICE = "ExamClient"


def keyring_entry_name(*, exam_id: str, candidate_id: str) -> str:
    return f"store-key:{exam_id}:{candidate_id}"


def open_store_key(
    *,
    data_dir: Path,
    exam_id: str,
    candidate_id: str,
    username: str,
    password: str,
    server_box_public_key: bytes | None,
    keyring_backend: Any = None,
    kdf: KdfParams = DEFAULT_KDF,
    login_verified_online: bool = False,
) -> bytes:
    """The 32-byte data key of this candidate's store, creating it on first use.

    Raises StoreKeyError ``store.wrong_credentials`` when the login does not open this
    store. *login_verified_online*: the server just accepted this password, so when the
    keyring opens the store but the credentials wrap does not (the password was reset),
    the credentials wrap is remade instead of refusing. *keyring_backend*: a
    keyring.backend.KeyringBackend; default ``keyring.get_keyring()``.
    """
    paths = store_paths(data_dir, exam_id=exam_id, candidate_id=candidate_id)
    paths.directory.mkdir(parents=True, exist_ok=True)
    backend = _default_backend() if keyring_backend is None else keyring_backend
    entry = keyring_entry_name(exam_id=exam_id, candidate_id=candidate_id)
    ids = {"exam_id": exam_id, "candidate_id": candidate_id}

    envelope = load_envelope(paths)
    if envelope is None:
        return _create(paths, backend=backend, entry=entry, ids=ids, username=username,
                       password=password, server_key=server_box_public_key, kdf=kdf)

    updated = envelope
    key = _from_keyring(envelope, backend=backend, entry=entry, ids=ids)
    from_credentials = _from_credentials(envelope, ids=ids, username=username,
                                         password=password)
    if from_credentials is None and key is None and login_verified_online:
        # The server knows this password but the store was wrapped under another one
        # (reset on the server) and the keyring entry that would open it is gone.
        raise StoreKeyError(
            "store.key_mismatch",
            _("服务器已确认此密码，但本机保存的答案是用之前的密码加密的（密码可能已在服务器上"
              "重置，且本机的系统钥匙串已被清除），因此无法在本机打开。本机答案文件没有被删除。"
              "请监考老师为考生更换电脑继续考试，已上传到服务器的答案会自动恢复；"
              "或使用之前的密码在本机登录。"),
            exam_id=exam_id,
        )
    if from_credentials is None and not (key is not None and login_verified_online):
        raise StoreKeyError(
            "store.wrong_credentials",
            _("用户名或密码与本机保存的答案不符，无法打开本机答案。请核对后重新登录。"),
            exam_id=exam_id,
        )
    if key is None:
        assert from_credentials is not None  # guaranteed by the check above
        key = from_credentials
        log.warning("store key of %s opened with the login (keyring entry missing)", entry)
        updated = replace(updated, keyring=_new_keyring_wrap(
            key, backend=backend, entry=entry, store_id=envelope.store_id, ids=ids))
    elif from_credentials is None:
        log.warning("password of %s changed since the store was made: rewrapping", entry)
        updated = replace(updated, credentials=_credential_wrap(
            key, username=username, password=password, store_id=envelope.store_id,
            ids=ids, kdf=kdf))
    if server_box_public_key is not None and (
        updated.server is None or updated.server.recipient != server_box_public_key
    ):
        updated = replace(updated, server=env.wrap_for_server(
            key, server_public_key=server_box_public_key,
            aad=env.associated_data("server", store_id=envelope.store_id, **ids)))
    if updated != envelope:
        save_envelope(paths, updated)
    return key


def _create(
    paths: StorePaths,
    *,
    backend: Any,
    entry: str,
    ids: dict[str, str],
    username: str,
    password: str,
    server_key: bytes | None,
    kdf: KdfParams,
) -> bytes:
    if paths.db.exists() or paths.backup.exists():
        # The old store cannot be decrypted without its key file; recovery will move it
        # aside and restore from the server. Logged loudly: this should never happen.
        log.error("key file of %s is missing or unreadable: making a new key", paths.directory)
    key = env.new_data_key()
    store_id = env.new_store_id()
    server = None
    if server_key is not None:
        server = env.wrap_for_server(
            key, server_public_key=server_key,
            aad=env.associated_data("server", store_id=store_id, **ids))
    envelope = Envelope(
        store_id=store_id,
        credentials=_credential_wrap(key, username=username, password=password,
                                     store_id=store_id, ids=ids, kdf=kdf),
        keyring=_new_keyring_wrap(key, backend=backend, entry=entry, store_id=store_id,
                                  ids=ids),
        server=server,
    )
    save_envelope(paths, envelope)
    return key


def load_envelope(paths: StorePaths) -> Envelope | None:
    """The sidecar, from either copy; None when neither exists or both are unreadable."""
    damaged: list[Path] = []
    for path in (paths.sidecar, paths.sidecar_copy):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        try:
            return Envelope.from_bytes(data)
        except ValueError as exc:
            log.error("key file %s is damaged: %s", path, exc)
            damaged.append(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for path in damaged:  # keep the evidence; a new key file will take their place
        with contextlib.suppress(OSError):
            move_aside(path, paths.damaged_dir / f"{path.name}-{stamp}")
    return None


def store_was_made(paths: StorePaths) -> bool:
    """The key file says a store file was created for it (a read only: damaged copies
    are left where they are for load_envelope to deal with at the next login)."""
    for path in (paths.sidecar, paths.sidecar_copy):
        try:
            if Envelope.from_bytes(path.read_bytes()).store_made:
                return True
        except (OSError, ValueError):
            continue
    return False


def mark_store_made(paths: StorePaths) -> None:
    """Note in the key file (when there is one) that its store now exists."""
    for path in (paths.sidecar, paths.sidecar_copy):
        try:
            envelope = Envelope.from_bytes(path.read_bytes())
        except (OSError, ValueError):
            continue
        if not envelope.store_made:
            save_envelope(paths, replace(envelope, store_made=True))
        return


def save_envelope(paths: StorePaths, envelope: Envelope) -> None:
    """Write both copies, each atomically: a crash leaves at least one complete copy."""
    data = envelope.to_bytes()
    atomic_write_bytes(paths.sidecar, data)
    atomic_write_bytes(paths.sidecar_copy, data)


def _from_keyring(envelope: Envelope, *, backend: Any, entry: str,
                  ids: dict[str, str]) -> bytes | None:
    if envelope.keyring is None or backend is None:
        return None
    try:
        stored = backend.get_password(KEYRING_SERVICE, entry)
    except Exception as exc:  # any backend failure just means "no keyring wrap"
        log.warning("keyring unavailable (%s): %s", type(exc).__name__, exc)
        return None
    if not stored:
        return None
    try:
        kek = base64.b64decode(stored, validate=True)
        return env.unseal(kek, envelope.keyring, env.associated_data(
            "keyring", store_id=envelope.store_id, **ids))
    except (InvalidTag, ValueError, binascii.Error):
        log.warning("keyring entry %s does not open this store", entry)
        return None


def _from_credentials(envelope: Envelope, *, ids: dict[str, str], username: str,
                      password: str) -> bytes | None:
    wrap = envelope.credentials
    if wrap is None:
        return None
    kek = env.credential_kek(username=username, password=password, salt=wrap.salt,
                             kdf=wrap.kdf)
    try:
        return env.unseal(kek, wrap.wrap, env.associated_data(
            "credentials", store_id=envelope.store_id, **ids))
    except InvalidTag:
        return None


def _credential_wrap(key: bytes, *, username: str, password: str, store_id: bytes,
                     ids: dict[str, str], kdf: KdfParams) -> env.CredentialWrap:
    salt = os.urandom(env.SALT_BYTES)
    kek = env.credential_kek(username=username, password=password, salt=salt, kdf=kdf)
    aad = env.associated_data("credentials", store_id=store_id, **ids)
    return env.CredentialWrap(salt, kdf, env.seal(kek, key, aad))


def _new_keyring_wrap(key: bytes, *, backend: Any, entry: str, store_id: bytes,
                      ids: dict[str, str]) -> env.Wrap | None:
    if backend is None:
        return None
    kek = os.urandom(32)
    try:
        backend.set_password(KEYRING_SERVICE, entry, base64.b64encode(kek).decode("ascii"))
    except Exception as exc:  # no backend / locked / broken: just no keyring wrap
        log.warning("cannot store the key in the keyring (%s): %s", type(exc).__name__, exc)
        return None
    return env.seal(kek, key, env.associated_data("keyring", store_id=store_id, **ids))


def _default_backend() -> Any:
    try:
        import keyring  # imported here: it loads backends and is slow (~60 ms)

        return keyring.get_keyring()
    except Exception as exc:
        log.warning("no keyring backend: %s", exc)
        return None
