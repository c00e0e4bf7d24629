"""Candidate and admin passwords (argon2id) and the exam-center default password rule.

The rule (docs: domain.md, 登录): the default password is the last 6 characters of the
ID-card number. IDs ending in a letter (X) are stored upper-case, so the password is
upper-case too; IDs containing parentheses (Hong Kong/Macau, military) default to 123456.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PARENTHESES_DEFAULT_PASSWORD = "123456"

_hasher = PasswordHasher()
# A real hash to verify against when the user is unknown, so that "no such user" costs
# the same time as "wrong password" and response timing does not reveal who exists.
_DUMMY_HASH = _hasher.hash("not-a-password")


def normalize_id_number(id_number: str) -> str:
    """Trim, use ASCII parentheses and upper-case letters, as the platform stores IDs."""
    return id_number.strip().replace("（", "(").replace("）", ")").upper()


def default_password(id_number: str) -> str:
    normalized = normalize_id_number(id_number)
    if "(" in normalized or ")" in normalized:
        return PARENTHESES_DEFAULT_PASSWORD
    return normalized[-6:]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when *password* matches; a None hash burns the same time and returns False."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
