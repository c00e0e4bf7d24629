"""Admission for logins: argon2 work bounded by the CPUs, a fair queue, and 429 Retry-After.

Every login verifies an argon2id hash, the one expensive thing the server does. At the
start of an exam a whole hall logs in within a minute; unbounded, those hashes share the
CPUs with the uploads of candidates already answering (100 logins once stalled uploads
for 16 s) and all finish late together, past the client's timeout. So each worker lets
at most ``slots`` logins run at once (twice its hashing threads, server/hash_threads.py,
which bound and de-prioritize the hashes themselves: one login's database work overlaps
another's hash), the rest wait in a queue that holds no thread, and a login that would
wait longer than ``max_wait_s`` (less than the client's timeout) is answered at once
with ``429 busy`` and a ``Retry-After`` that says when the queue will have room; one
that has waited ``max_wait_s`` in the queue all the same gets that answer then.
The client waits that long and tells the candidate calmly that the server is letting
logins in one after another.

Two things keep one sender from taking the gate from everybody else (the login attack
set, tests/server/test_login_attacks.py):

- The body is read before the login takes a place, within ``body_timeout_s``: a client
  that sends its body a byte at a time holds a connection, never a place (four such
  connections used to block every login of a worker for as long as they trickled).
- The queue is served round-robin by source address, and a login's expected wait is
  counted as such: a flood of wrong passwords or unknown usernames from one address
  waits behind itself and gets the 429s, while a candidate from another address waits
  for one login of each address ahead. Logins from one address (a hall behind one NAT,
  a load generator) are served in order, as before.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections import deque

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import request_limits
from server.forwarded import DEFAULT_PROXIES, sender
from server.request_limits import LOGIN_LIMIT

# Every form that verifies a password: candidates, the admin API and pages, the console.
LOGIN_PATHS = frozenset(request_limits.LOGIN_PATHS)
WORKERS_ENV = "EXAM_SERVER_WORKERS"  # set by `exam-server serve --workers N` for each worker
# A login body is a few hundred bytes sent at once; a client still sending after this
# long is not a candidate's PC.
BODY_TIMEOUT_S = 5.0


def default_slots() -> int:
    """This worker's share of the CPUs (at least one)."""
    workers = max(1, int(os.environ.get(WORKERS_ENV, "1") or 1))
    return max(1, (os.cpu_count() or 1) // workers)


def source_address(scope: Scope, *, trust_proxy: bool, proxies: str) -> str:
    """The sender, as server/auth.py's client_ip sees it (server/forwarded.py)."""
    forwarded_for = ",".join(value.decode("latin-1") for name, value in scope.get("headers", [])
                             if name == b"x-forwarded-for")
    client = scope.get("client")
    return sender(str(client[0]) if client else "", forwarded_for, trust_proxy=trust_proxy,
                  proxies=proxies)


class LoginGate:
    def __init__(self, app: ASGIApp, *, slots: int, max_wait_s: float,
                 trust_proxy: bool = False, proxies: str = DEFAULT_PROXIES,
                 body_timeout_s: float = BODY_TIMEOUT_S) -> None:
        self.app = app
        self.slots = slots
        self.max_wait_s = max_wait_s
        self.trust_proxy = trust_proxy
        self.proxies = proxies
        self.body_timeout_s = body_timeout_s
        self._running = 0
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._turns: deque[str] = deque()  # addresses with waiters, in serving order
        self._service_s = 0.1  # moving average of one login's time in the gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST"
                or scope["path"] not in LOGIN_PATHS):
            await self.app(scope, receive, send)
            return
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        address = source_address(scope, trust_proxy=self.trust_proxy,
                                 proxies=self.proxies)
        expected_wait = (self._ahead_of(address) + 1) * self._service_s / self.slots
        if self._running >= self.slots and expected_wait > self.max_wait_s:
            await self._busy(expected_wait, scope, receive, send)
            return
        if not await self._enter(address):
            # The estimate can be wrong (logins slowed down by uploads that take the CPU
            # first): a login that has queued max_wait_s is refused too, still well within
            # the client's timeout, instead of waiting on until the client gives up.
            waiting = sum(len(queue) for queue in self._waiting.values())
            await self._busy(waiting * self._service_s / self.slots, scope, receive, send)
            return
        started = time.monotonic()
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            self._service_s = 0.8 * self._service_s + 0.2 * (time.monotonic() - started)
            self._leave()

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once the client was answered (too slow, too large)."""
        chunks: list[bytes] = []
        size = 0

        async def read_all() -> bool:
            nonlocal size
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return False
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > LOGIN_LIMIT:
                    return False
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return True

        try:
            complete = await asyncio.wait_for(read_all(), timeout=self.body_timeout_s)
        except TimeoutError:
            await _refuse(scope, receive, send, 408, "body_timeout")
            return None
        if not complete:
            if size > LOGIN_LIMIT:
                await _refuse(scope, receive, send, 413, "too_large", max_bytes=LOGIN_LIMIT)
            return None
        return b"".join(chunks)

    def _ahead_of(self, address: str) -> int:
        """Logins served before a new one from *address* (round-robin by address)."""
        own = len(self._waiting.get(address, ()))
        return own + sum(min(len(queue), own + 1) for other, queue in self._waiting.items()
                         if other != address)

    async def _enter(self, address: str) -> bool:
        """Take a place (True), or False after max_wait_s in the queue."""
        if self._running < self.slots and not self._turns:
            self._running += 1
            return True
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting.get(address)
        if queue is None:
            queue = self._waiting[address] = deque()
            self._turns.append(address)
        queue.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), timeout=self.max_wait_s)
            return True
        except TimeoutError:
            if turn.done() and not turn.cancelled():
                return True  # given its place just as the wait ended
            turn.cancel()  # skipped when its turn comes
            return False
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._leave()  # given its place just as it was cancelled: pass it on
            else:
                turn.cancel()
            raise

    def _leave(self) -> None:
        self._running -= 1
        while self._running < self.slots and self._turns:
            address = self._turns.popleft()
            queue = self._waiting[address]
            turn = queue.popleft()
            if queue:
                self._turns.append(address)
            else:
                del self._waiting[address]
            if not turn.cancelled():
                self._running += 1
                turn.set_result(None)


    async def _busy(self, expected_wait: float, scope: Scope, receive: Receive,
                    send: Send) -> None:
        retry_after = max(1, math.ceil(expected_wait - self.max_wait_s / 2))
        response = JSONResponse(
            {"error": "busy", "detail": {"retry_after_s": retry_after}},
            status_code=429, headers={"Retry-After": str(retry_after)})
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the connection's own messages (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str,
                  **detail: object) -> None:
    # Connection: close, since the unread rest of the body cannot be skipped.
    response = JSONResponse({"error": code, "detail": detail}, status_code=status,
                            headers={"Connection": "close"})
    await response(scope, receive, send)
