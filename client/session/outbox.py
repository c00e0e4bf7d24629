"""Adapts the answer store (via its writer thread) to the pusher's Outbox protocol.

``client_time_ms`` is what the server uses to decide whether an answer delivered after
the end was given before it (server/merge.py): it must be the client's estimate of
*server* time at the save, never the PC clock, which may be a day off. A revision saved
before this PC ever learned the server's time has none (the server then judges by when
it received it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from client.store import AnswerStore, StoreWriter


class StoreOutbox:
    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer

    def unsynced_batch(self, limit: int) -> Sequence[dict[str, Any]]:
        revisions = self._writer.call(lambda store: store.unsynced(limit=limit)).result()
        return [{"question_id": rev.question_id, "revision": rev.revision, "value": rev.value,
                 "client_time_ms": rev.server_time_ms, "wall_time_ms": rev.wall_time_ms}
                for rev in revisions]

    def pending_count(self) -> int:
        return self._writer.call(lambda store: store.unsynced_count()).result()

    def acknowledge(self, acks: Sequence[tuple[str, int]]) -> int:
        def apply(store: AnswerStore) -> int:
            store.mark_synced(acks)
            return store.unsynced_count()

        return self._writer.call(apply).result()
