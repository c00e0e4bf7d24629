"""Short codes that people read aloud and type: authorization codes, start codes, secrets.

Crockford's base32 alphabet (digits and upper-case letters without I, L, O, U): a typed
code is upper-cased, spaces and hyphens are ignored, and the letters people confuse with
digits (O, I, L) are read as 0, 1, 1, so "abcd-efgh", "ABCDEFGH" and "ABCD EFGH" are one
code. Codes are shown in groups of four ("ABCD-EFGH").
"""

from __future__ import annotations

import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CodeFormatError(ValueError):
    """The text contains characters that cannot be part of a code."""


def normalize_code(text: str) -> str:
    """The canonical form of a typed code; raises CodeFormatError for foreign characters."""
    # NFKC first: a full-width "ＡＢ１２" from a Chinese input method is the same code.
    cleaned = unicodedata.normalize("NFKC", text).upper()
    cleaned = "".join(ch for ch in cleaned if ch not in " -_\t").translate(_CONFUSABLE)
    if not cleaned or any(ch not in ALPHABET for ch in cleaned):
        raise CodeFormatError(text)
    return cleaned


def format_code(code: str, *, group: int = 4) -> str:
    """'ABCDEFGH' -> 'ABCD-EFGH' (display only; normalize_code undoes it)."""
    return "-".join(code[i:i + group] for i in range(0, len(code), group))


def random_code(length: int) -> str:
    """A fresh random code of *length* characters (5 bits each)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def encode_bits(data: bytes, length: int) -> str:
    """The first ``5 * length`` bits of *data* as a code of *length* characters."""
    if len(data) * 8 < 5 * length:
        raise ValueError("not enough bits for a code of that length")
    number = int.from_bytes(data, "big") >> (len(data) * 8 - 5 * length)
    chars = []
    for _ in range(length):
        chars.append(ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))
