"""The review outbox: identity results, camera events and integrity findings waiting for the
server, kept in the encrypted answer store's blob table (never as plain files).

Blob layout (one item = one JSON blob + its JPEG blobs):

    review-outbox/<kind>/<event_id>                  the record (JSON, see OutboxItem)
    review-outbox/<kind>/<event_id>/<role>-<n>       a JPEG (capture, evidence or snapshot)

The images are written before the record, so an item is visible only once it is
complete; a crash in between leaves images nobody lists, overwritten by the next queueing
of that event id. After the server acknowledges an item its images are deleted (they are
personal data, and the server has them) and the record is kept, marked ``acked_ms``.

The functions taking ``store`` run on the store's writer thread (``StoreWriter.call``);
``ReviewOutbox.queue`` hands them over and returns at once.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, get_args

if TYPE_CHECKING:
    from client.camera.identity_check import IdentityResult
    from client.camera.proctor_monitor import ProctorEvent
    from client.integrity.findings import Finding

PREFIX = "review-outbox/"
RECORD_TYPE = "application/vnd.exam.review-item+json"
JPEG_TYPE = "image/jpeg"
FORMAT = 1

Kind = Literal["identity", "camera", "integrity"]
KINDS: tuple[Kind, ...] = get_args(Kind)
ImageRole = Literal["capture", "evidence", "snapshot"]
Phase = Literal["pre_exam", "exam"]
FindingState = Literal["found", "resolved"]

# The server's pattern too (server/review.py): ids become blob names and URL-free JSON.
EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")

T = TypeVar("T")


class BlobStore(Protocol):
    """The part of client.store.AnswerStore the outbox uses."""

    def put_blob(self, *, name: str, data: bytes, content_type: str) -> None: ...
    def get_blob(self, name: str) -> bytes | None: ...
    def blob_names(self) -> list[str]: ...
    def delete_blob(self, name: str) -> None: ...


class StoreRunner(Protocol):
    """Runs fn(store) on the store's writer thread: ``StoreWriter.call``."""

    def __call__(self, fn: Callable[[BlobStore], T], /) -> Future[T]: ...


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def new_event_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class OutboxImage:
    role: ImageRole
    position: int
    jpeg: bytes = field(repr=False)


@dataclass(frozen=True)
class OutboxItem:
    kind: Kind
    event_id: str
    record: dict[str, Any]             # the endpoint's JSON fields, without images
    images: tuple[OutboxImage, ...] = ()
    queued_ms: int = field(default_factory=_wall_ms)
    acked_ms: int | None = None         # the server stored it
    rejected: str | None = None         # the server refused it for good (code); kept, not retried

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown outbox kind {self.kind!r}")
        if not EVENT_ID.match(self.event_id):
            raise ValueError(f"event id {self.event_id!r} is not a valid id")

    @property
    def pending(self) -> bool:
        return self.acked_ms is None and self.rejected is None

    @property
    def key(self) -> tuple[Kind, str]:
        return self.kind, self.event_id

    def request_entry(self) -> dict[str, Any]:
        """This item as the server's endpoint takes it (images base64-encoded)."""
        entry: dict[str, Any] = {**self.record, "event_id": self.event_id}

        def b64(image: OutboxImage) -> str:
            return base64.b64encode(image.jpeg).decode("ascii")

        if self.kind == "identity":
            entry["captures"] = [b64(i) for i in self.images if i.role == "capture"]
            evidence = [b64(i) for i in self.images if i.role == "evidence"]
            entry["evidence"] = evidence[0] if evidence else None
        elif self.kind == "camera":
            snapshots = [b64(i) for i in self.images if i.role == "snapshot"]
            entry["snapshot"] = snapshots[0] if snapshots else None
        return entry


# -- building items from the camera and integrity types ------------------------------------

def identity_item(
    *,
    passed: bool,
    reason: str,
    score: float | None,
    threshold: float | None,
    record: Mapping[str, Any],
    at_ms: int | None,
    approved_by_proctor: bool = False,
    proctor_id: str | None = None,
    captures: Sequence[bytes] = (),
    evidence: bytes | None = None,
    event_id: str | None = None,
) -> OutboxItem:
    """One identity check. A proctor's entry approval after failed checks is a result with
    ``passed=False, approved_by_proctor=True`` and the watermarked *evidence* photo."""
    images = [OutboxImage("capture", n, jpeg) for n, jpeg in enumerate(captures)]
    if evidence is not None:
        images.append(OutboxImage("evidence", 0, evidence))
    return OutboxItem(
        kind="identity",
        event_id=event_id or new_event_id(),
        record={"passed": passed, "reason": reason, "score": score, "threshold": threshold,
                "approved_by_proctor": approved_by_proctor, "proctor_id": proctor_id,
                "record": dict(record), "at_ms": at_ms},
        images=tuple(images),
    )


def identity_item_from_result(
    result: IdentityResult,
    *,
    at_ms: int | None,
    approved_by_proctor: bool = False,
    proctor_id: str | None = None,
    evidence: bytes | None = None,
) -> OutboxItem:
    """*result* from client.camera (its captures travel as images)."""
    return identity_item(
        passed=result.passed, reason=result.reason, score=result.score,
        threshold=result.threshold, record=result.to_record(), at_ms=at_ms,
        approved_by_proctor=approved_by_proctor, proctor_id=proctor_id,
        captures=result.captures, evidence=evidence)


def camera_event_item_from_json(record: Mapping[str, Any], *,
                                snapshot: bytes | None) -> OutboxItem:
    """``ProctorEvent.to_json()`` plus its snapshot. The same event id is queued twice:
    when the event opens and when it closes (then with ``ended_ms``)."""
    body = {k: v for k, v in record.items() if k != "event_id"}
    images = (OutboxImage("snapshot", 0, snapshot),) if snapshot else ()
    return OutboxItem(kind="camera", event_id=str(record["event_id"]), record=body,
                      images=images)


def camera_event_item(event: ProctorEvent) -> OutboxItem:
    return camera_event_item_from_json(event.to_json(), snapshot=event.snapshot)


def integrity_item(
    finding: Finding | Mapping[str, Any],
    *,
    phase: Phase,
    at_ms: int | None,
    state: FindingState = "found",
    context: Mapping[str, Any] | None = None,
    event_id: str | None = None,
) -> OutboxItem:
    """A finding appearing (``found``) or going away (``resolved``). During the exam
    (*phase* ``exam``) a blocking one holds the result for review."""
    as_json = dict(finding) if isinstance(finding, Mapping) else finding.to_json()
    return OutboxItem(
        kind="integrity",
        event_id=event_id or new_event_id(),
        record={"phase": phase, "state": state, "at_ms": at_ms, "finding": as_json,
                "context": dict(context or {})},
    )


# -- the store side (writer thread) ---------------------------------------------------------

def record_name(kind: Kind, event_id: str) -> str:
    return f"{PREFIX}{kind}/{event_id}"


def image_name(kind: Kind, event_id: str, image: OutboxImage) -> str:
    return f"{record_name(kind, event_id)}/{image.role}-{image.position}"


def _parse_record_name(name: str) -> tuple[Kind, str] | None:
    if not name.startswith(PREFIX):
        return None
    parts = name[len(PREFIX):].split("/")
    if len(parts) != 2 or parts[0] not in KINDS:
        return None
    return parts[0], parts[1]


def _encode(item: OutboxItem, image_names: Sequence[tuple[OutboxImage, str]]) -> bytes:
    data = {
        "format": FORMAT, "kind": item.kind, "event_id": item.event_id, "record": item.record,
        "images": [{"role": i.role, "position": i.position, "blob": name}
                   for i, name in image_names],
        "queued_ms": item.queued_ms, "acked_ms": item.acked_ms, "rejected": item.rejected,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _decode(raw: bytes) -> dict[str, Any]:
    data = json.loads(raw.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("outbox record is not an object")
    return data


def put_item(store: BlobStore, item: OutboxItem) -> str:
    """Store (or replace) an item, pending again; returns the record's blob name.

    An item queued again without images keeps the images stored for that event id
    (a camera event's close carries the same snapshot as its open).
    """
    name = record_name(item.kind, item.event_id)
    old = store.get_blob(name)
    if item.images:
        written = []
        for image in item.images:
            blob = image_name(item.kind, item.event_id, image)
            store.put_blob(name=blob, data=image.jpeg, content_type=JPEG_TYPE)
            written.append((image, blob))
    elif old is not None:
        written = [(OutboxImage(i["role"], int(i["position"]), b""), str(i["blob"]))
                   for i in _decode(old).get("images", [])]
    else:
        written = []
    fresh = replace(item, acked_ms=None, rejected=None)
    store.put_blob(name=name, data=_encode(fresh, written), content_type=RECORD_TYPE)
    return name


def _load(store: BlobStore, kind: Kind, event_id: str, *,
          with_images: bool) -> OutboxItem | None:
    raw = store.get_blob(record_name(kind, event_id))
    if raw is None:
        return None
    data = _decode(raw)
    images = []
    if with_images:
        for entry in data.get("images", []):
            jpeg = store.get_blob(str(entry["blob"]))
            if jpeg is not None:
                images.append(OutboxImage(entry["role"], int(entry["position"]), jpeg))
    return OutboxItem(kind=kind, event_id=event_id, record=dict(data["record"]),
                      images=tuple(images), queued_ms=int(data["queued_ms"]),
                      acked_ms=data.get("acked_ms"), rejected=data.get("rejected"))


def load_item(store: BlobStore, kind: Kind, event_id: str) -> OutboxItem | None:
    return _load(store, kind, event_id, with_images=True)


def all_items(store: BlobStore, *, with_images: bool = False) -> list[OutboxItem]:
    """Every item in queueing order (acknowledged and refused ones too)."""
    items = []
    for name in store.blob_names():
        parsed = _parse_record_name(name)
        if parsed is not None:
            item = _load(store, *parsed, with_images=with_images)
            if item is not None:
                items.append(item)
    return sorted(items, key=lambda i: i.queued_ms)


def pending_keys(store: BlobStore, *, kinds: Iterable[Kind] = KINDS) -> list[tuple[Kind, str]]:
    """Items not yet acknowledged nor refused, oldest first (records only, no images)."""
    wanted = set(kinds)
    return [item.key for item in all_items(store) if item.pending and item.kind in wanted]


def load_items(store: BlobStore, keys: Iterable[tuple[Kind, str]]) -> list[OutboxItem]:
    found = (load_item(store, kind, event_id) for kind, event_id in keys)
    return [item for item in found if item is not None and item.pending]


def _rewrite(store: BlobStore, kind: Kind, event_id: str, *, acked_ms: int | None,
             rejected: str | None, drop_images: bool) -> None:
    name = record_name(kind, event_id)
    raw = store.get_blob(name)
    if raw is None:
        return
    data = _decode(raw)
    if drop_images:
        for entry in data.get("images", []):
            store.delete_blob(str(entry["blob"]))
        data["images"] = []
    data["acked_ms"], data["rejected"] = acked_ms, rejected
    store.put_blob(name=name, data=json.dumps(data, ensure_ascii=False, sort_keys=True)
                   .encode("utf-8"), content_type=RECORD_TYPE)


def mark_acked(store: BlobStore, kind: Kind, event_ids: Iterable[str], *, at_ms: int) -> None:
    """The server has these: delete their images, keep the records as acknowledged."""
    for event_id in event_ids:
        _rewrite(store, kind, event_id, acked_ms=at_ms, rejected=None, drop_images=True)


def mark_rejected(store: BlobStore, kind: Kind, event_id: str, *, code: str) -> None:
    """The server refused this item for good: keep everything, stop sending it."""
    _rewrite(store, kind, event_id, acked_ms=None, rejected=code, drop_images=False)


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    acked: int
    rejected: int


def outbox_counts(store: BlobStore) -> OutboxCounts:
    items = all_items(store)
    return OutboxCounts(
        pending=sum(1 for i in items if i.pending),
        acked=sum(1 for i in items if i.acked_ms is not None),
        rejected=sum(1 for i in items if i.rejected is not None),
    )


class ReviewOutbox:
    """Queue items from any thread; the write happens on the store's writer thread.

    *on_queued* runs after each durable write (on the writer thread): pass the
    uploader's ``wake``.
    """

    def __init__(self, run_on_store: StoreRunner, *,
                 on_queued: Callable[[], None] | None = None) -> None:
        self._run_on_store = run_on_store
        self._on_queued = on_queued

    def queue(self, item: OutboxItem) -> Future[str]:
        future = self._run_on_store(lambda store: put_item(store, item))
        if self._on_queued is not None:
            on_queued = self._on_queued
            future.add_done_callback(lambda f: on_queued() if f.exception() is None else None)
        return future
