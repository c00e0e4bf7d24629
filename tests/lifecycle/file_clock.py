"""A server clock the test and a server process share: system time plus an offset kept in
a file (tests/lifecycle/server_child.py, the stateful test's real server kill).

The test moves time with :meth:`FileOffsetClock.set_now`; every ``now_ms()``, in the test
and in the server process, reads the file, so both see the same server time without a
control channel. Test-only: the product's server runs on ``SystemClock``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def _system_ms() -> int:
    return time.time_ns() // 1_000_000


class FileOffsetClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            self._write_offset(0)

    def now_ms(self) -> int:
        return _system_ms() + int(self.path.read_text(encoding="ascii"))

    def set_now(self, epoch_ms: int) -> None:
        """Make ``now_ms()`` return *epoch_ms* at this moment (time keeps running)."""
        self._write_offset(epoch_ms - _system_ms())

    def _write_offset(self, offset_ms: int) -> None:
        # Replaced, never rewritten in place: a reader sees the old offset or the new one.
        staging = self.path.with_name(self.path.name + ".new")
        staging.write_text(str(offset_ms), encoding="ascii")
        os.replace(staging, self.path)
