"""A fault-injecting TCP proxy on 127.0.0.1, between the real client and the real server.

    with FaultProxy(("127.0.0.1", server_port)) as proxy:
        url = proxy.url                   # give this to the client instead of the server
        proxy.set_mode("down")            # refuse and cut everything (RST)
        proxy.set_mode("blackhole")       # accept, swallow, never answer
        proxy.set_mode("delay", delay_s=0.5)
        proxy.set_mode("reset_response", after_bytes=40)   # the server acts, the answer dies
        proxy.set_mode("reset_request", after_bytes=40)    # the request dies half-way
        proxy.flap(up_s=0.3, down_s=0.3)  # alternate "pass" and "down" until set_mode()
        proxy.set_mode("pass")

A mode applies to new connections and to open ones at their next chunk, as a real cut
does to a keep-alive connection. Threads, one per connection; every wait has a timeout
and every connection a maximum life, so a test can never hang on the proxy.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

MODES = ("pass", "down", "blackhole", "delay", "reset_response", "reset_request")
POLL_S = 0.02


@dataclass
class ProxyStats:
    connections: int = 0
    resets: int = 0
    bytes_up: int = 0  # client -> server
    bytes_down: int = 0  # server -> client
    modes_seen: set[str] = field(default_factory=set)


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a router or a crashed peer does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    def __init__(self, upstream: tuple[str, int], *, max_connection_s: float = 60.0) -> None:
        self.upstream = upstream
        self.max_connection_s = max_connection_s
        self.stats = ProxyStats()
        self._lock = threading.Lock()
        self._mode = "pass"
        self._params: dict[str, Any] = {}
        self._generation = 0  # bumped at each mode change: open connections re-check
        self._stop = threading.Event()
        self._flap_stop = threading.Event()
        self._flap_thread: threading.Thread | None = None
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(POLL_S * 5)
        self.port = self._listener.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, name="fault-proxy",
                                               daemon=True)
        self._accept_thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- control ------------------------------------------------------------------------

    def set_mode(self, mode: str, **params: Any) -> None:
        """Switch now (and stop flapping)."""
        self._stop_flapping()
        self._set(mode, params)

    def _set(self, mode: str, params: dict[str, Any]) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        with self._lock:
            self._mode, self._params = mode, dict(params)
            self._generation += 1
            self.stats.modes_seen.add(mode)

    def flap(self, *, up_s: float, down_s: float, down_mode: str = "down",
             **params: Any) -> None:
        """Alternate "pass" for *up_s* and *down_mode* for *down_s* until the next set_mode."""
        self._stop_flapping()
        self._flap_stop.clear()

        def run() -> None:
            while not self._flap_stop.is_set() and not self._stop.is_set():
                self._set("pass", {})
                if self._flap_stop.wait(up_s):
                    return
                self._set(down_mode, params)
                if self._flap_stop.wait(down_s):
                    return

        self._flap_thread = threading.Thread(target=run, name="fault-proxy-flap", daemon=True)
        self._flap_thread.start()

    def _stop_flapping(self) -> None:
        self._flap_stop.set()
        thread, self._flap_thread = self._flap_thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def close(self) -> None:
        self._stop_flapping()
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._accept_thread.join(5)
        for thread in list(self._threads):
            thread.join(5)

    # -- plumbing -----------------------------------------------------------------------

    def _current(self) -> tuple[str, dict[str, Any], int]:
        with self._lock:
            return self._mode, self._params, self._generation

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.stats.connections += 1
            thread = threading.Thread(target=self._serve, args=(client,),
                                      name="fault-proxy-conn", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        mode, _params, _generation = self._current()
        if mode == "down":
            self._count_reset()
            _reset(client)
            return
        upstream: socket.socket | None = None
        try:
            if mode != "blackhole":
                upstream = socket.create_connection(self.upstream, timeout=5)
            self._pump(client, upstream)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()

    def _count_reset(self) -> None:
        with self._lock:
            self.stats.resets += 1

    def _pump(self, client: socket.socket, upstream: socket.socket | None) -> None:
        deadline = time.monotonic() + self.max_connection_s
        sent_up = sent_down = 0
        seen_generation = -1
        while not self._stop.is_set() and time.monotonic() < deadline:
            sockets = [client] if upstream is None else [client, upstream]
            readable, _w, _x = select.select(sockets, [], [], POLL_S)
            # The mode is read after the wait, so that nothing passes once it changed.
            mode, params, generation = self._current()
            if generation != seen_generation:  # byte limits count from the mode change
                seen_generation, sent_up, sent_down = generation, 0, 0
            if mode == "down":
                self._count_reset()
                _reset(client)
                if upstream is not None:
                    _reset(upstream)
                return
            if mode == "blackhole":
                if client in readable and not client.recv(65536):
                    return  # the client gave up
                continue  # swallow; an upstream answer (if any) is never delivered
            if upstream is None:  # was black-holed, now passing: connect late
                upstream = socket.create_connection(self.upstream, timeout=5)
                continue
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                upward = source is client
                if mode == "delay":
                    time.sleep(float(params.get("delay_s", 0.2)))
                limit = int(params.get("after_bytes", 0))
                if mode == "reset_request" and upward and sent_up + len(data) > limit:
                    upstream.sendall(data[: max(0, limit - sent_up)])
                    self._count_reset()
                    _reset(upstream)
                    _reset(client)
                    return
                if mode == "reset_response" and not upward and sent_down + len(data) > limit:
                    client.sendall(data[: max(0, limit - sent_down)])
                    self._count_reset()
                    _reset(client)
                    _reset(upstream)
                    return
                (upstream if upward else client).sendall(data)
                with self._lock:
                    if upward:
                        self.stats.bytes_up += len(data)
                    else:
                        self.stats.bytes_down += len(data)
                if upward:
                    sent_up += len(data)
                else:
                    sent_down += len(data)
