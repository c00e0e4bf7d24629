"""Helpers shared by the answer-store tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from keyring.backend import KeyringBackend

from client.store.envelope import KdfParams
from client.store.paths import StorePaths, wal_path
from client.store.reach import reach_path_for
from client.store.redo import redo_path_for

# Cheap argon2id for the many tests that create stores; test_store_keys.py also runs the
# shipped parameters once.
FAST_KDF = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)


class DictKeyring(KeyringBackend):
    """A real keyring backend that keeps entries in a dict: a new instance is a credential
    store wiped by restore software."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


class BrokenKeyring(KeyringBackend):
    """A keyring that fails like a locked/absent Linux Secret Service."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("org.freedesktop.secrets was not provided by any .service files")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("org.freedesktop.secrets was not provided by any .service files")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("no backend")


def crash_image(paths: StorePaths, target: Path) -> StorePaths:
    """Copy a store's files as they are on disk right now: what a process killed now
    leaves (a power cut may lose more of the WAL: see power_cut_image)."""
    target.mkdir(parents=True, exist_ok=True)
    for source in (paths.db, wal_path(paths.db), paths.backup, paths.sidecar,
                   paths.sidecar_copy, reach_path_for(paths.db), redo_path_for(paths.db)):
        if source.exists():
            shutil.copyfile(source, target / source.name)
    return StorePaths(target)
