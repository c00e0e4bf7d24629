"""Admission for logins: argon2 work bounded by the CPUs, a queue, and 429 Retry-After.

Every login verifies an argon2id hash, the one expensive thing the server does. At the
start of an exam a whole hall logs in within a minute; unbounded, those hashes share the
CPUs with the uploads of candidates already answering (100 logins once stalled uploads
for 16 s) and all finish late together, past the client's timeout. So each worker lets
at most ``slots`` logins run at once (twice its hashing threads, server/hash_threads.py,
which bound and de-prioritize the hashes themselves: one login's database work overlaps
another's hash), the rest wait in an asyncio queue that holds no thread, and a login that
would wait longer than ``max_wait_s`` (less than the client's timeout) is answered at
once with ``429 busy`` and a ``Retry-After`` that says when the queue will have room; one
that has waited ``max_wait_s`` in the queue all the same gets that answer then.
The client waits that long and tells the candidate calmly that the server is letting
logins in one after another.
"""

from __future__ import annotations

import asyncio
import math
import os
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# Every form that verifies a password: candidates, the admin API and pages, the console.
LOGIN_PATHS = frozenset({"/api/v1/login", "/api/v1/admin/login", "/admin/login",
                         "/console/login"})
WORKERS_ENV = "EXAM_SERVER_WORKERS"  # set by `exam-server serve --workers N` for each worker


def default_slots() -> int:
    """This worker's share of the CPUs (at least one)."""
    workers = max(1, int(os.environ.get(WORKERS_ENV, "1") or 1))
    return max(1, (os.cpu_count() or 1) // workers)


class LoginGate:
    def __init__(self, app: ASGIApp, *, slots: int, max_wait_s: float) -> None:
        self.app = app
        self.slots = slots
        self.max_wait_s = max_wait_s
        self._semaphore: asyncio.Semaphore | None = None
        self._waiting = 0
        self._service_s = 0.1  # moving average of one login's time in the gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST"
                or scope["path"] not in LOGIN_PATHS):
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:  # created on the server's event loop
            self._semaphore = asyncio.Semaphore(self.slots)
        expected_wait = (self._waiting + 1) * self._service_s / self.slots
        if self._semaphore.locked() and expected_wait > self.max_wait_s:
            await self._busy(expected_wait, scope, receive, send)
            return
        self._waiting += 1
        try:
            # The estimate can be wrong (logins slowed down by uploads that take the CPU
            # first): a login that has queued max_wait_s is refused too, still well within
            # the client's timeout, instead of waiting on until the client gives up.
            await asyncio.wait_for(self._semaphore.acquire(), timeout=self.max_wait_s)
        except TimeoutError:
            await self._busy(self._waiting * self._service_s / self.slots, scope, receive,
                             send)
            return
        finally:
            self._waiting -= 1
        started = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self._semaphore.release()
            self._service_s = 0.8 * self._service_s + 0.2 * (time.monotonic() - started)

    async def _busy(self, expected_wait: float, scope: Scope, receive: Receive,
                    send: Send) -> None:
        retry_after = max(1, math.ceil(expected_wait - self.max_wait_s / 2))
        response = JSONResponse(
            {"error": "busy", "detail": {"retry_after_s": retry_after}},
            status_code=429, headers={"Retry-After": str(retry_after)})
        await response(scope, receive, send)
