"""Rules shipped in a paper package header (server/integrity_rules.py puts them there)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from client.integrity.rules import RulesChoice, choose_rules

EXTRA_KEY = "integrity_rules"


def rules_from_package(extra: Mapping[str, object], *, server_key: Ed25519PublicKey,
                       now_ms: int | None) -> RulesChoice | None:
    """None when the package ships no rules; else the choice (built-in rules if refused).

    *now_ms* is the server-clock estimate: expiry must not depend on a wrong PC clock.
    """
    shipped = extra.get(EXTRA_KEY)
    if not isinstance(shipped, Mapping):
        return None
    try:
        data = base64.b64decode(str(shipped.get("rules", "")), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    signature = str(shipped.get("signature", "")).encode("ascii", "replace")
    now = (datetime.now(UTC) if now_ms is None
           else datetime.fromtimestamp(now_ms / 1000, tz=UTC))
    return choose_rules(update=(data, signature), server_key=server_key, now=now)
