"""Candidate and admin passwords (argon2id) and the exam-center default password rule.

The rule (docs: domain.md, 登录): the default password is the last 6 characters of the
ID-card number. IDs ending in a letter (X) are stored upper-case, so the password is
upper-case too; IDs containing parentheses (Hong Kong/Macau, military) default to 123456.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server import hash_threads

PARENTHESES_DEFAULT_PASSWORD = "123456"

# Candidates: argon2id with OWASP's first recommended setting (19 MiB, t=2, p=1), about
# 30 ms of one core. A whole hall logs in within a minute, and the old setting (64 MiB,
# t=3, p=4: ~200 ms of CPU, 2.7 GiB for 1000 at once) made 1000 logins take 200 s on
# two cores. A candidate password is usually the last 6 characters of an ID number, so a
# costlier hash would not make it strong; what protects it is the server (center IPs,
# second-login approval, tokens bound to a PC). Older hashes still verify (argon2 keeps
# its parameters in the hash) and are replaced at the next good login.
_hasher = PasswordHasher(memory_cost=19_456, time_cost=2, parallelism=1)
# Admins: few logins, much more power (every result, imports): the strong setting.
_admin_hasher = PasswordHasher(memory_cost=65_536, time_cost=3, parallelism=4)


# A real hash to verify against when the user is unknown, so that "no such user" costs
# the same time as "wrong password" and response timing does not reveal who exists. Made
# at first use, not at import: the admin one alone is ~0.5 s of CPU, which every CLI
# command and every worker of `serve --workers N` paid at start.
@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-password")


@functools.cache
def _admin_dummy_hash() -> str:
    return hash_admin_password("not-a-password")


def normalize_id_number(id_number: str) -> str:
    """Trim, use ASCII parentheses and upper-case letters, as the platform stores IDs."""
    return id_number.strip().replace("（", "(").replace("）", ")").upper()


def default_password(id_number: str) -> str:
    normalized = normalize_id_number(id_number)
    if "(" in normalized or ")" in normalized:
        return PARENTHESES_DEFAULT_PASSWORD
    return normalized[-6:]


# Every hash and verification runs on the hashing threads (server/hash_threads.py): at
# most a process's share of the CPUs, at a lower priority than the requests, so a login
# storm never takes the CPU from uploads.

def hash_password(password: str) -> str:
    """A candidate's password hash."""
    return hash_threads.run(_hasher.hash, password)


def hash_admin_password(password: str) -> str:
    return hash_threads.run(_admin_hasher.hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True for a candidate hash made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def verify_admin_password(password_hash: str | None, password: str) -> bool:
    """As verify_password; an unknown admin costs as much as a real admin's hash."""
    return verify_password(password_hash, password, dummy=_admin_dummy_hash())


def verify_password(password_hash: str | None, password: str, *, dummy: str = "") -> bool:
    """True when *password* matches; a None hash burns the same time and returns False."""
    matches = hash_threads.run(_verify, password_hash or dummy or _dummy_hash(), password)
    return matches and password_hash is not None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
