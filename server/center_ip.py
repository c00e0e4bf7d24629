"""Registered public IPs of an exam center (请在考场范围内进行考试).

A center lists the addresses its candidates reach the server from: single addresses
("203.0.113.9") or networks ("203.0.113.0/28", for centers with several outgoing
addresses). An empty list allows any address (the center has not registered any yet,
or it is a center's own server on its LAN).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)


def ip_allowed(seen_ip: str, allowed: Iterable[str]) -> bool:
    entries = [entry.strip() for entry in allowed if entry.strip()]
    if not entries:
        return True
    try:
        address = ipaddress.ip_address(seen_ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # "::ffff:203.0.113.9" from a dual-stack socket
    for entry in entries:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            log.warning("center allowlist entry %r is not an address or network", entry)
    return False
