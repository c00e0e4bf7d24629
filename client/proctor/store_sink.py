"""Keep the proctor log in the answer store, as encrypted blobs ``proctor-log/<seq>``.

The store has no event table (yet); its encrypted blob API is durable, encrypted with the
answers, and copied by the store's snapshots, which is what a proctor log needs. Every call
here runs on the store's writer thread (``StoreWriter.call``), never on the UI thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Protocol

from client.proctor.proctor_log import ProctorEvent

BLOB_PREFIX = "proctor-log/"
CONTENT_TYPE = "application/vnd.exam.proctor-event+json"


class BlobStore(Protocol):
    def put_blob(self, *, name: str, data: bytes, content_type: str) -> None: ...
    def get_blob(self, name: str) -> bytes | None: ...
    def blob_names(self) -> list[str]: ...


def append_event(store: BlobStore, kind: str, payload: Mapping[str, object]) -> str:
    """Store one event under the next sequence number; returns its blob name."""
    count = sum(1 for name in store.blob_names() if name.startswith(BLOB_PREFIX))
    name = f"{BLOB_PREFIX}{count + 1:08d}"
    data = json.dumps({"kind": kind, **payload}, ensure_ascii=False, sort_keys=True)
    store.put_blob(name=name, data=data.encode("utf-8"), content_type=CONTENT_TYPE)
    return name


def read_events(store: BlobStore) -> list[ProctorEvent]:
    """Every stored proctor event, oldest first (for the offline file and sync)."""
    events = []
    for name in sorted(n for n in store.blob_names() if n.startswith(BLOB_PREFIX)):
        data = store.get_blob(name)
        if data is None:
            continue
        raw = json.loads(data.decode("utf-8"))
        events.append(ProctorEvent.from_payload(str(raw.pop("kind")), raw))
    return events


class StoreEventSink:
    """An EventSink that hands each event to the store's writer thread and returns at once.

    *run_on_store* is ``StoreWriter.call`` (or anything that runs a function with the
    store on the writer thread).
    """

    def __init__(self, run_on_store: Callable[[Callable[[BlobStore], object]], object]) -> None:
        self._run_on_store = run_on_store

    def append(self, kind: str, payload: Mapping[str, object]) -> None:
        frozen = dict(payload)
        self._run_on_store(lambda store: append_event(store, kind, frozen))


# -- sync: the proctor log goes to the server with the answers when there is a network ----

SYNCED_SEQ_META = "proctor_log_synced_seq"
SYNC_PATH = "/attempt/proctor-events"


class MetaStore(BlobStore, Protocol):
    def get_meta(self, name: str) -> str | None: ...
    def set_meta(self, name: str, value: str) -> None: ...


def _seq_of(name: str) -> int:
    return int(name[len(BLOB_PREFIX):])


def unsynced_events(store: MetaStore, *, limit: int = 200) -> list[tuple[int, ProctorEvent]]:
    """Events the server has not acknowledged yet, with their sequence numbers."""
    done = int(store.get_meta(SYNCED_SEQ_META) or 0)
    pending = []
    for name in sorted(n for n in store.blob_names() if n.startswith(BLOB_PREFIX)):
        seq = _seq_of(name)
        data = store.get_blob(name) if seq > done else None
        if data is None:
            continue
        raw = json.loads(data.decode("utf-8"))
        pending.append((seq, ProctorEvent.from_payload(str(raw.pop("kind")), raw)))
        if len(pending) >= limit:
            break
    return pending


def sync_request_body(pending: list[tuple[int, ProctorEvent]], *,
                      client_id: str) -> dict[str, object]:
    """JSON body for POST /api/v1/attempt/proctor-events."""
    return {"client_id": client_id,
            "events": [{"seq": seq, "kind": event.kind, **event.to_payload()}
                       for seq, event in pending]}


def mark_synced(store: MetaStore, *, up_to_seq: int) -> None:
    done = int(store.get_meta(SYNCED_SEQ_META) or 0)
    if up_to_seq > done:
        store.set_meta(SYNCED_SEQ_META, str(up_to_seq))
