"""Where one candidate's store lives inside the data directory.

<data_dir>/stores/<digest>/
    answers.db, answers.db-wal      the SQLCipher store and its write-ahead log
    answers.keys, answers.keys.bak  the key envelope (wrapped data key), two copies
    answers.backup.db               rolling encrypted snapshot (same data key)
    damaged/                        damaged files moved aside by recovery, never deleted

The folder name is a digest of exam id and candidate id so that student numbers and ID
numbers do not appear in plain sight on a shared lab PC.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "answers.db"
BACKUP_NAME = "answers.backup.db"
SIDECAR_NAME = "answers.keys"
SIDECAR_COPY_NAME = "answers.keys.bak"
DAMAGED_DIR_NAME = "damaged"


@dataclass(frozen=True)
class StorePaths:
    directory: Path

    @property
    def db(self) -> Path:
        return self.directory / DB_NAME

    @property
    def backup(self) -> Path:
        return self.directory / BACKUP_NAME

    @property
    def sidecar(self) -> Path:
        return self.directory / SIDECAR_NAME

    @property
    def sidecar_copy(self) -> Path:
        return self.directory / SIDECAR_COPY_NAME

    @property
    def damaged_dir(self) -> Path:
        return self.directory / DAMAGED_DIR_NAME


def store_paths(data_dir: Path, *, exam_id: str, candidate_id: str) -> StorePaths:
    digest = hashlib.sha256(f"{exam_id}\0{candidate_id}".encode()).hexdigest()[:24]
    return StorePaths(data_dir / "stores" / digest)


def wal_path(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


def shm_path(db: Path) -> Path:
    return db.with_name(db.name + "-shm")


def backup_path_for(db: Path) -> Path:
    """The snapshot beside a store file (answers.db -> answers.backup.db)."""
    return db.with_name(f"{db.stem}.backup{db.suffix}")
