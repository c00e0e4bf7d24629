"""The log of everything a proctor does on this PC (unlock, export, authorizations, end).

Each action goes to an :class:`EventSink`; the application wires the sink to the answer
store, so the log is as durable as the answers and is synced and exported with them. The
same entries travel inside the offline answer file, where the admin can read them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class EventSink(Protocol):
    def append(self, kind: str, payload: Mapping[str, object]) -> None: ...


class ProctorAction(StrEnum):
    UNLOCKED = "proctor.unlocked"
    UNLOCK_FAILED = "proctor.unlock_failed"
    LOCKED = "proctor.locked"                    # detail: reason = manual | inactivity
    EXPORTED = "proctor.exported"                # detail: file_name, sha256, revisions
    EXPORT_FAILED = "proctor.export_failed"      # detail: code, folder
    RELOGIN_AUTHORIZED = "proctor.relogin_authorized"
    ENTRY_APPROVED = "proctor.entry_approved"
    ENDED = "proctor.ended"
    # The proctor closed the client mid-exam (a broken PC): detail: name, phase.
    CLIENT_EXITED = "proctor.client_exited"


PROCTOR_KIND_PREFIX = "proctor."


@dataclass(frozen=True)
class ProctorEvent:
    kind: str
    proctor_id: str | None
    wall_time_ms: int               # PC clock, informational only
    server_time_ms: int | None      # server clock estimate, when known
    detail: Mapping[str, object] = field(default_factory=dict)

    def to_payload(self) -> dict[str, object]:
        return {
            "proctor_id": self.proctor_id,
            "wall_time_ms": self.wall_time_ms,
            "server_time_ms": self.server_time_ms,
            "detail": dict(self.detail),
        }

    @classmethod
    def from_payload(cls, kind: str, payload: Mapping[str, object]) -> ProctorEvent:
        """Rebuild an event read back from the store (or from an offline file)."""
        proctor_id = payload.get("proctor_id")
        wall = payload.get("wall_time_ms")
        server = payload.get("server_time_ms")
        detail = payload.get("detail", {})
        if not isinstance(wall, int) or isinstance(wall, bool):
            raise ValueError(f"proctor event {kind!r} without wall_time_ms")
        if server is not None and (not isinstance(server, int) or isinstance(server, bool)):
            raise ValueError(f"proctor event {kind!r} with a bad server_time_ms")
        if proctor_id is not None and not isinstance(proctor_id, str):
            raise ValueError(f"proctor event {kind!r} with a bad proctor_id")
        if not isinstance(detail, Mapping):
            raise ValueError(f"proctor event {kind!r} with a bad detail")
        return cls(kind=kind, proctor_id=proctor_id, wall_time_ms=wall,
                   server_time_ms=server, detail={str(k): v for k, v in detail.items()})


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class ProctorLog:
    """Writes proctor actions, stamped with both clocks, to the sink."""

    def __init__(self, *, sink: EventSink, server_time_ms: Callable[[], int | None],
                 wall_time_ms: Callable[[], int] = _wall_ms) -> None:
        self._sink = sink
        self._server_time_ms = server_time_ms
        self._wall_time_ms = wall_time_ms

    @property
    def sink(self) -> EventSink:
        return self._sink

    def append_recorded(self, kind: str, payload: Mapping[str, object]) -> None:
        """An event recorded earlier elsewhere (its own times kept): into this log."""
        if not kind.startswith(PROCTOR_KIND_PREFIX):
            raise ValueError(f"not a proctor action: {kind!r}")
        event = ProctorEvent.from_payload(kind, payload)
        self._sink.append(event.kind, event.to_payload())

    def record(self, action: ProctorAction, *, proctor_id: str | None,
               **detail: object) -> ProctorEvent:
        event = ProctorEvent(kind=action.value, proctor_id=proctor_id,
                             wall_time_ms=self._wall_time_ms(),
                             server_time_ms=self._server_time_ms(), detail=detail)
        self._sink.append(event.kind, event.to_payload())
        return event
