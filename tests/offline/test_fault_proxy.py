"""The fault proxy itself: each fault happens as described, and nothing waits forever."""

from __future__ import annotations

import time

import pytest
import requests
from fault_proxy import FaultProxy

from server.testing import LiveServer


def get_time(proxy: FaultProxy, *, timeout: float = 1.0) -> requests.Response:
    return requests.get(f"{proxy.url}/api/v1/time", timeout=timeout)


def test_each_mode(server: LiveServer, proxy: FaultProxy) -> None:
    assert get_time(proxy).status_code == 200
    proxy.set_mode("down")
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        get_time(proxy)
    assert time.monotonic() - started < 0.5  # refused at once, not timed out
    proxy.set_mode("blackhole")
    with pytest.raises(requests.Timeout):
        get_time(proxy, timeout=0.3)
    proxy.set_mode("delay", delay_s=0.3)
    started = time.monotonic()
    assert get_time(proxy).status_code == 200
    assert time.monotonic() - started >= 0.3
    proxy.set_mode("reset_response", after_bytes=20)  # the server answered; the answer dies
    with pytest.raises(requests.ConnectionError):
        get_time(proxy)
    proxy.set_mode("reset_request", after_bytes=10)  # the request dies half-way
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{proxy.url}/api/v1/login", json={"username": "x" * 200},
                      timeout=1.0)
    proxy.set_mode("pass")
    assert get_time(proxy).status_code == 200
    assert {"down", "blackhole", "delay", "reset_response", "reset_request"} \
        <= proxy.stats.modes_seen


def test_a_cut_reaches_open_keep_alive_connections(server: LiveServer,
                                                   proxy: FaultProxy) -> None:
    with requests.Session() as session:
        assert session.get(f"{proxy.url}/api/v1/time", timeout=1).status_code == 200
        proxy.set_mode("down")
        with pytest.raises(requests.ConnectionError):
            session.get(f"{proxy.url}/api/v1/time", timeout=1)
        proxy.set_mode("pass")
        assert session.get(f"{proxy.url}/api/v1/time", timeout=1).status_code == 200


def test_flapping_alternates_until_told_otherwise(server: LiveServer,
                                                  proxy: FaultProxy) -> None:
    proxy.flap(up_s=0.15, down_s=0.15)
    outcomes = set()
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        try:
            outcomes.add(get_time(proxy, timeout=0.5).status_code)
        except requests.ConnectionError:
            outcomes.add("cut")
        time.sleep(0.03)
    assert outcomes == {200, "cut"}
    proxy.set_mode("pass")
    assert all(get_time(proxy).status_code == 200 for _ in range(5))
