"""The attempt's life across client and server (docs/lifecycle.md): shared helpers."""

from __future__ import annotations

import sys
from pathlib import Path

# The fault proxy and session builders of tests/offline.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "offline"))
