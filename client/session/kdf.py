"""Memory-hard key derivation (argon2id) with its parameters written next to its output.

Everything the package header carries for offline use (login lookups, authorization-code
digests, the start-code wrap) is derived with argon2id, because the header is readable by
anyone who has the package: only a memory-hard function makes guessing expensive. The
parameters travel with each use, so they can change without breaking old packages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int
    memory_kib: int
    parallelism: int = 1

    def to_json(self) -> dict[str, int]:
        return {"t": self.time_cost, "m": self.memory_kib, "p": self.parallelism}

    @classmethod
    def from_json(cls, doc: Mapping[str, object]) -> Argon2Params:
        t, m, p = doc.get("t"), doc.get("m"), doc.get("p")
        if not (isinstance(t, int) and isinstance(m, int) and isinstance(p, int)):
            raise ValueError("argon2 parameters must be integers")
        # Bounds: a tampered-with (or corrupt) header must not make a lab PC allocate
        # gigabytes or spin for minutes. 1 GiB / 20 passes is far above anything we write.
        if not (1 <= t <= 20 and 8 <= m <= 1024 * 1024 and 1 <= p <= 16):
            raise ValueError("argon2 parameters out of range")
        return cls(time_cost=t, memory_kib=m, parallelism=p)


def argon2id(secret: bytes, *, salt: bytes, params: Argon2Params, length: int) -> bytes:
    return hash_secret_raw(secret, salt, time_cost=params.time_cost,
                           memory_cost=params.memory_kib, parallelism=params.parallelism,
                           hash_len=length, type=Type.ID)
