"""Password hashing on a few threads of its own, at a lower CPU priority than requests.

Every login verifies an argon2id hash (~20-30 ms of one core), the one expensive thing
the server does. At the start of an exam a hall logs in while the candidates already in
the exam upload their answers; on a server short of cores, hashes that run on the
request threads at the same priority take the CPU the uploads need, and every upload
waits behind them (issue 18: 1000 logins made uploads take 3-5 s on 2 cores).

So each process hashes on at most ``threads`` threads of its own (its share of the
CPUs), and those threads run with a nice value 10 higher than the process: when the
CPUs are short, the kernel gives them to uploads, heartbeats and submissions first
(CFS gives a nice-10 thread about a tenth of a nice-0 one's share) and the logins take
what is left. A login waiting for a hashing thread holds no CPU; the login gate
(server/login_gate.py) keeps the number of waiting logins bounded and answers the rest
with ``429`` and ``Retry-After``.

argon2-cffi releases the GIL while it hashes, so these threads run in parallel with the
request threads. On Linux the nice value is per thread (setpriority(2) on a thread id);
where that does not work the threads keep the process's priority and only the bound
holds.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

NICE_INCREMENT = 10  # CFS weight 110 against 1024: ~10 % of a core under contention
_MAX_NICE = 19


def default_threads() -> int:
    """This process's share of the CPUs (at least one), as the login gate counts it."""
    from server.login_gate import default_slots

    return default_slots()


def _lower_priority() -> None:
    """Pool thread initializer: this thread only (Linux: the nice value is per thread)."""
    # Windows has no nice value (os.getpriority/setpriority do not exist there): its
    # threads keep the process's priority and only the bound on threads holds.
    if sys.platform == "win32" or not hasattr(os, "setpriority"):
        return
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(_MAX_NICE, now + NICE_INCREMENT))
    except OSError:  # a sandbox that forbids it: the bound on threads still holds
        pass


class HashThreads:
    """A bounded pool of low-priority threads; :meth:`run` blocks its caller until done."""

    def __init__(self, *, threads: int) -> None:
        self.threads = max(1, threads)
        self._executor = ThreadPoolExecutor(max_workers=self.threads,
                                            thread_name_prefix="argon2",
                                            initializer=_lower_priority)
        self._count_lock = threading.Lock()
        self._in_use = 0

    def run(self, work: Callable[..., T], *args: object) -> T:
        with self._count_lock:
            self._in_use += 1
        try:
            return self._executor.submit(work, *args).result()
        finally:
            with self._count_lock:
                self._in_use -= 1

    def in_use(self) -> int:
        """Hashes running or waiting for a thread."""
        return self._in_use


_lock = threading.Lock()
_pool: HashThreads | None = None


def configure(*, threads: int) -> None:
    """Size this process's pool (the server at start, from ``login_slots``). One pool per
    process: several apps in one process (tests) share the CPUs, so they share it too."""
    global _pool
    with _lock:
        if _pool is not None and _pool.threads == max(1, threads):
            return
        # The old pool's threads finish what they run and exit once it is collected.
        _pool = HashThreads(threads=threads)


def run(work: Callable[..., T], *args: object) -> T:
    """Run *work* (an argon2 call) on this process's hashing threads and return its result."""
    global _pool
    pool = _pool
    if pool is None:
        with _lock:
            if _pool is None:
                _pool = HashThreads(threads=default_threads())
            pool = _pool
    return pool.run(work, *args)


def in_use() -> int:
    """Hashes running or waiting on this process's threads (tests: a full login gate)."""
    pool = _pool
    return pool.in_use() if pool is not None else 0
