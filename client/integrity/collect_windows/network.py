"""The NIC that carries the default route, and every adapter's MAC (for the dump).

Only the default-route NIC is evidence: a host running VMware Workstation or VirtualBox
has virtual adapters with VM vendor MACs (Safe Exam Browser #8). The route is found by
"connecting" a UDP socket, which sends nothing, and reading the local address it chose.
"""

from __future__ import annotations

import socket

import psutil

from client.integrity.rules import normalise_mac
from client.integrity.snapshot import NetworkAdapter

_ROUTE_PROBE = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737): routed by the default route


def default_route_ip() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(_ROUTE_PROBE)
        except OSError:
            return ""  # no default route (offline lab network): no MAC evidence
        return str(probe.getsockname()[0])


def read_adapters() -> tuple[tuple[NetworkAdapter, ...], str]:
    route_ip = default_route_ip()
    adapters: list[NetworkAdapter] = []
    for name, addresses in sorted(psutil.net_if_addrs().items()):
        mac = next((a.address for a in addresses if a.family == psutil.AF_LINK), "")
        if not mac:
            continue
        ips = {a.address for a in addresses if a.family == socket.AF_INET}
        adapters.append(NetworkAdapter(name=name, mac=normalise_mac(mac),
                                       default_route=bool(route_ip) and route_ip in ips))
    default_mac = next((a.mac for a in adapters if a.default_route), "")
    return tuple(adapters), default_mac
