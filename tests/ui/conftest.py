from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring
from ui_support import integrity_file

from client.ui.checks import IntegrityChecks, replayed_integrity_checks


@pytest.fixture
def clean_integrity(tmp_path: Path) -> IntegrityChecks:
    return replayed_integrity_checks(integrity_file(tmp_path, "fp_clean_lab_pc"))


@pytest.fixture
def pc_keyring(tmp_path: Path) -> Iterator[Path]:
    """This PC's credential store (the resume ticket's secret): a real keyring backend
    kept in one file."""
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "credential-store" / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield Path(backend.file_path)
    finally:
        keyring.set_keyring(previous)
