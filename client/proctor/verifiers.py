"""Proctor credentials checked with no network.

The server creates one argon2id verifier (salted hash) per proctor and ships the list in
the signed paper package header (``extra["proctor_verifiers"]``). The client checks a
typed name + password against it offline. The package header is readable by anyone who
has the package file, so the verifiers must resist offline guessing: argon2id with 64 MiB
and 3 passes costs an attacker ~0.1-0.3 s per guess per core, which protects a
server-generated random password (10+ characters) but not "123456" - the server must
generate proctor passwords, never let people choose them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from client.errors import UserFacingError
from client.i18n import _

VERIFIERS_EXTRA_KEY = "proctor_verifiers"

# 64 MiB / t=3 / p=1: fits a 4 GB lab PC next to the exam, ~0.2 s on its 2 cores.
_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1,
                         hash_len=32, salt_len=16)


@dataclass(frozen=True)
class ProctorIdentity:
    proctor_id: str
    name: str


@dataclass(frozen=True)
class ProctorVerifier:
    proctor_id: str
    name: str
    encoded_hash: str  # "$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>"

    def to_json(self) -> dict[str, str]:
        return {"proctor_id": self.proctor_id, "name": self.name, "hash": self.encoded_hash}


def normalize_name(name: str) -> str:
    """Full-width letters, stray spaces and case must not lock a proctor out."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def create_verifier(*, proctor_id: str, name: str, password: str,
                    hasher: PasswordHasher = _HASHER) -> ProctorVerifier:
    """Server side: hash a proctor's password into a verifier for the package header."""
    if not password:
        raise ValueError("a proctor password must not be empty")
    return ProctorVerifier(proctor_id=proctor_id, name=name.strip(),
                           encoded_hash=hasher.hash(password))


def verifiers_to_extra(verifiers: Iterable[ProctorVerifier]) -> dict[str, object]:
    """The fragment the server merges into the package's ``extra_header``."""
    return {VERIFIERS_EXTRA_KEY: [v.to_json() for v in verifiers]}


class ProctorVerifierSet:
    """The proctors allowed for this paper, checkable offline."""

    def __init__(self, verifiers: Iterable[ProctorVerifier],
                 *, hasher: PasswordHasher = _HASHER) -> None:
        self._hasher = hasher
        self._by_name: dict[str, ProctorVerifier] = {}
        for verifier in verifiers:
            if not verifier.encoded_hash.startswith("$argon2id$"):
                raise _invalid(reason="not_argon2id", proctor_id=verifier.proctor_id)
            self._by_name[normalize_name(verifier.name)] = verifier
        # Checked when the name is unknown, so that a wrong name costs the same time as
        # a wrong password and does not reveal which names exist.
        self._decoy = hasher.hash("decoy-password-never-matches")

    def __len__(self) -> int:
        return len(self._by_name)

    def check(self, *, name: str, password: str) -> ProctorIdentity | None:
        verifier = self._by_name.get(normalize_name(name))
        encoded = verifier.encoded_hash if verifier is not None else self._decoy
        try:
            self._hasher.verify(encoded, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if verifier is None:
            return None
        return ProctorIdentity(proctor_id=verifier.proctor_id, name=verifier.name)


def verifiers_from_extra(extra: Mapping[str, object]) -> ProctorVerifierSet:
    """Read the verifiers from a verified package header's ``extra`` dict."""
    raw = extra.get(VERIFIERS_EXTRA_KEY)
    if not isinstance(raw, list) or not raw:
        raise _invalid(reason="missing")
    verifiers: list[ProctorVerifier] = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise _invalid(reason="not_an_object")
        proctor_id, name, encoded = entry.get("proctor_id"), entry.get("name"), entry.get("hash")
        if not (isinstance(proctor_id, str) and isinstance(name, str)
                and isinstance(encoded, str)):
            raise _invalid(reason="missing_field")
        verifiers.append(ProctorVerifier(proctor_id=proctor_id, name=name, encoded_hash=encoded))
    return ProctorVerifierSet(verifiers)


def _invalid(**detail: object) -> UserFacingError:
    return UserFacingError(
        "proctor.verifiers_invalid",
        _("试卷包中没有可用的监考教师凭据，监考模式无法离线解锁，请联系考点管理员"),
        **detail,
    )
