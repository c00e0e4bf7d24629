from __future__ import annotations

from pathlib import Path

import pytest
from ui_support import integrity_file

from client.ui.checks import IntegrityChecks, replayed_integrity_checks


@pytest.fixture
def clean_integrity(tmp_path: Path) -> IntegrityChecks:
    return replayed_integrity_checks(integrity_file(tmp_path, "fp_clean_lab_pc"))
