"""Remove secrets and personal identifiers from configuration and log text.

Written by hand (no library does "remove what looks secret from an INI dict and a log
line" for this client's key names); the patterns are deliberately broad: removing a
harmless value costs support little, leaking a password or paper key costs the exam.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

REMOVED = "<removed>"

# A setting whose name contains one of these words has its value removed.
SECRET_NAME_WORDS: tuple[str, ...] = (
    "password", "passwd", "passphrase", "secret", "token", "key", "credential", "cookie",
    "auth", "private", "salt", "signature", "license",
)

_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys, whole block
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
                re.DOTALL), "<removed private key>"),
    # Authorization headers and bearer tokens
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer\s+)?[^\s\"',}]+"),
     r"\1" + REMOVED),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{6,}"), "Bearer " + REMOVED),
    # name=value / "name": "value" pairs with a secret-looking name
    (re.compile(r"(?i)([\"']?[\w.-]*(?:password|passwd|passphrase|secret|token|api_?key|"
                r"paper_?key|private_?key|store_?key)[\w.-]*[\"']?\s*[:=]\s*)"
                r"(\"[^\"]*\"|'[^']*'|[^\s,;}]+)"), r"\1" + REMOVED),
    # user:password@ in URLs
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1" + REMOVED + "@"),
    # mainland ID card numbers (身份证号): keep region and last digit for support, mask the rest
    (re.compile(r"(?<![0-9])(\d{6})\d{11}([\dXx])(?![0-9])"), r"\1***********\2"),
)


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_NAME_WORDS)


def scrub_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of *config* (nested mappings/lists) with secret values replaced."""
    return {str(k): (REMOVED if is_secret_name(str(k)) else _scrub_value(v))
            for k, v in config.items()}


def _scrub_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return scrub_config(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_scrub_value(v) for v in value]
    if isinstance(value, bytes):
        return REMOVED  # raw bytes in a config are keys or blobs, never needed by support
    if isinstance(value, str):
        return scrub_text(value)
    return value


def scrub_text(text: str) -> str:
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text
