"""A login the server queued out (``429 busy`` from its login gate, server/login_gate.py):
how long the login page waits before it sends the same login again by itself."""

from __future__ import annotations

import random

from client.errors import UserFacingError
from client.sync.pusher import retry_after_s

BUSY = "busy"
DEFAULT_WAIT_S = 5.0  # a 429 without Retry-After (a proxy's): a few seconds, not at once
MAX_WAIT_S = 60.0  # a broken header must not leave the candidate waiting for minutes
JITTER = 0.3  # up to 30 % later: a room told the same Retry-After must not return in step


def busy_login_wait_s(error: BaseException, *, rng: random.Random) -> float | None:
    """Seconds to wait (at least the server's Retry-After, never sooner; not rounded, so
    the jitter survives) when *error* is the server's ``busy``; None for any other error."""
    if not isinstance(error, UserFacingError) or error.code != BUSY:
        return None
    asked = min(retry_after_s(error) or DEFAULT_WAIT_S, MAX_WAIT_S)
    return asked * rng.uniform(1.0, 1.0 + JITTER)
