"""The values the answer store keeps: answer revisions and answers seeded from the server."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

# The JSON shape of an answer value (docs/contracts.md, "Paper"); None = no answer / cleared.
JsonValue: TypeAlias = (
    bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
)


# The columns of the revisions table that make a Revision, in revision_from_row's order.
REVISION_COLUMNS = (
    "question_id, revision, value, wall_time_ms, mono_time_ns, server_time_ms, synced"
)


@dataclass(frozen=True)
class Revision:
    """One saved change of one answer. Revisions of a question are numbered 1, 2, 3 ...

    After a recovery that could not ask the server, numbering jumps once (see
    ``RecoveryReport.revision_floor``) so that a revision lost with the damaged file can
    never outrank a newer one on the server ("highest revision wins").
    """

    question_id: str
    revision: int
    value: JsonValue
    wall_time_ms: int  # PC clock at save: informational only, lab PC clocks are often wrong
    mono_time_ns: int  # time.monotonic_ns() at save: orders edits within one boot
    server_time_ms: int | None  # server clock estimate at save, when one was known
    synced: bool


@dataclass(frozen=True)
class ServerAnswer:
    """An answer revision the server already holds (resume on another PC, recovery)."""

    question_id: str
    revision: int
    value: JsonValue
    server_time_ms: int | None = None


def encode_value(value: JsonValue) -> str:
    """Serialise an answer value; raises ValueError/TypeError for anything that is not JSON.

    NaN/Infinity are refused (allow_nan=False) because the server and the offline answer
    file must be able to read every stored value back.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def decode_value(text: str) -> JsonValue:
    value: JsonValue = json.loads(text)
    return value


def revision_from_row(row: Sequence[Any], *, text: str) -> Revision:
    """A revision from a row of REVISION_COLUMNS whose value's encoded text is *text*
    (the row's own value, or a patch applied: client/store/patches.py).

    Raises ValueError for a row that does not parse (salvage skips those).
    """
    return Revision(
        question_id=str(row[0]),
        revision=int(str(row[1])),
        value=decode_value(text),
        wall_time_ms=int(str(row[3])),
        mono_time_ns=int(str(row[4])),
        server_time_ms=None if row[5] is None else int(str(row[5])),
        synced=bool(row[6]),
    )
