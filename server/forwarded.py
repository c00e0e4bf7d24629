"""Who sent a request: the TCP peer, or behind a trusted proxy the address it forwards.

With ``trust_proxy`` on, the client is the last ``X-Forwarded-For`` entry, the one the
proxy wrote (earlier entries are whatever the client chose to send). That header is only
believed from the proxies named in ``proxy_addresses`` (default: this host, where the
documented nginx runs): a worker that also listens on the LAN (``serve`` binds 0.0.0.0 by
default) would otherwise take any address a PC writes into the header, and a forged one
passes the center IP rule and gives a flood a new address per request at the login gate
(tests/server/test_login_attacks.py).
"""

from __future__ import annotations

import functools
import ipaddress

DEFAULT_PROXIES = "127.0.0.1, ::1"

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=16)
def networks(proxies: str) -> tuple[_Network, ...]:
    """The parsed ``proxy_addresses`` (ValueError for an entry that is no address)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False)
                 for entry in proxies.split(",") if entry.strip())


def is_proxy(peer: str, *, proxies: str) -> bool:
    """True when *peer* is one of *proxies* (addresses or networks, comma-separated)."""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks(proxies))


def sender(peer: str, forwarded_for: str, *, trust_proxy: bool, proxies: str) -> str:
    """The address the request came from, as the admin should register it."""
    if trust_proxy and is_proxy(peer, proxies=proxies):
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return peer
