"""Every acknowledged answer survives SIGKILL at random instants (see tests/torture/run.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.torture.run import torture


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_every_acknowledged_revision_survives_sigkill(tmp_path: Path, kills: int) -> None:
    seed = int(time.time())
    result = torture(kills=kills, workdir=tmp_path, seed=seed)
    print(f"torture seed {seed}: {result.summary()}")
    assert result.kills == kills
    # The kills must land while answers are being written, not only during start-up.
    assert result.acked > kills
    assert result.kills - result.killed_before_ready >= kills // 2
