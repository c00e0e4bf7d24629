"""``--kills N`` (or TORTURE_KILLS=N) sets how many SIGKILLs the torture test deals.

The option is registered here, so it is available when pytest is started on this folder
(``pytest tests/torture --kills 2000``); TORTURE_KILLS works from anywhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# run.py imports tests.torture.*; make the repository importable however pytest started.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

DEFAULT_KILLS = 200


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--kills", type=int, default=None,
                     help=f"SIGKILLs in the store torture test (default {DEFAULT_KILLS})")


@pytest.fixture
def kills(request: pytest.FixtureRequest) -> int:
    option = request.config.getoption("--kills", default=None)
    if option is not None:
        return int(option)
    return int(os.environ.get("TORTURE_KILLS", DEFAULT_KILLS))
