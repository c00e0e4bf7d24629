"""Storage of what the exam PC uploads for review: identity checks, camera events,
integrity findings, their images (sealed), and the rule's per-attempt state.

The tables live on the server's metadata (created by ``Database.init_schema`` or
``ensure_tables``); server/review.py applies the rule and serves the HTTP API.
Every image is a JPEG sealed with the server's storage key (server/keys.py), bound to
its attempt, event, role and position, so a copy of the database alone shows no face.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.exc import IntegrityError

from client.camera.review import ALWAYS_REVIEW
from server import schema as t
from server.db import Database
from server.errors import ApiError
from server.keys import ServerKeys
from server.lazy_tables import create_once

MAX_IMAGE_BYTES = 1024 * 1024          # a watermarked 1280x720 evidence photo is ~200 KB
MAX_SNAPSHOT_BYTES = 256 * 1024        # proctoring snapshots are 160 px wide (~5 KB)
MAX_CAPTURES = 4
MAX_BATCH = 100
MAX_JSON_BYTES = 64 * 1024             # record / detail / evidence context of one item
JPEG_MAGIC = b"\xff\xd8\xff"
EVENT_ID_PATTERN = r"^[A-Za-z0-9_.:-]{8,64}$"
CAMERA_KINDS = frozenset({*ALWAYS_REVIEW, "no_face"})

ItemKind = Literal["camera", "integrity"]
ImageRole = Literal["capture", "evidence", "snapshot"]

# -- tables (on the server's metadata; created by init_schema or ensure_tables) ---------

identity_results = Table(
    "identity_results",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id"), nullable=False, index=True),
    Column("event_id", String(64), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("score", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("reason", String(100), nullable=False),
    Column("approved_by_proctor", Boolean, nullable=False),
    Column("proctor_id", String(100), nullable=True),
    Column("record", JSON, nullable=False),          # IdentityResult.to_record()
    Column("at_ms", BigInteger, nullable=True),      # the PC's estimate of server time
    Column("received_at_ms", BigInteger, nullable=False),
    UniqueConstraint("attempt_id", "event_id", name="uq_identity_results_event"),
)

# Camera events and integrity findings, as the client sent them (payload).
review_items = Table(
    "review_items",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),      # camera|integrity
    Column("event_id", String(64), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("at_ms", BigInteger, nullable=True),
    Column("received_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    UniqueConstraint("attempt_id", "kind", "event_id", name="uq_review_items_event"),
)

# Captures, evidence photos and snapshots: JPEG sealed under the storage key.
review_blobs = Table(
    "review_blobs",
    t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),      # identity|camera
    Column("event_id", String(64), nullable=False),
    Column("role", String(20), nullable=False),      # capture|evidence|snapshot
    Column("position", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("received_at_ms", BigInteger, nullable=False),
    UniqueConstraint("attempt_id", "kind", "event_id", "role", "position",
                     name="uq_review_blobs_image"),
)

# What the rule last decided for an attempt, and the reviewer's clearance.
review_states = Table(
    "review_states",
    t.metadata,
    Column("attempt_id", Integer, ForeignKey("attempts.id"), primary_key=True),
    Column("codes", JSON, nullable=False),            # reason codes at the last evaluation
    Column("reason_written", Text, nullable=True),    # what this module put in review_reason
    Column("cleared_codes", JSON, nullable=True),
    Column("cleared_through_identity", Integer, nullable=False, default=0),
    Column("cleared_through_item", Integer, nullable=False, default=0),
    Column("cleared_by", String(100), nullable=True),
    Column("cleared_at_ms", BigInteger, nullable=True),
    Column("evaluated_at_ms", BigInteger, nullable=False),
)

TABLES = [identity_results, review_items, review_blobs, review_states]


def ensure_tables(db: Database) -> None:
    """Create this module's tables if the database predates them (idempotent, cached)."""
    create_once(db, tables=TABLES)


# -- images ----------------------------------------------------------------------------

def decode_jpeg(text: str, *, field_name: str, limit: int) -> bytes:
    """Base64 JPEG from a request, or ApiError 400 bad_image / 413 image_too_large."""
    if len(text) > (limit * 4) // 3 + 8:
        raise ApiError(413, "image_too_large", field=field_name, limit=limit)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "bad_image", field=field_name) from None
    if len(data) > limit:
        raise ApiError(413, "image_too_large", field=field_name, limit=limit)
    # Only JPEG is ever served back (as image/jpeg to an admin's browser).
    if not data.startswith(JPEG_MAGIC):
        raise ApiError(400, "bad_image", field=field_name)
    return data


def _blob_context(attempt_id: int, kind: str, event_id: str, role: str, position: int) -> str:
    return f"review-image:{attempt_id}:{kind}:{event_id}:{role}:{position}"


def _insert_image(conn: Connection, keys: ServerKeys, *, attempt_id: int, kind: str,
                  event_id: str, role: ImageRole, position: int, jpeg: bytes,
                  now_ms: int) -> None:
    conn.execute(review_blobs.insert().values(
        attempt_id=attempt_id, kind=kind, event_id=event_id, role=role, position=position,
        sha256=hashlib.sha256(jpeg).hexdigest(), size=len(jpeg),
        sealed=keys.seal(jpeg, context=_blob_context(attempt_id, kind, event_id, role,
                                                     position)),
        received_at_ms=now_ms))


@dataclass(frozen=True)
class ImageRef:
    id: int
    attempt_id: int
    kind: str
    event_id: str
    role: str
    position: int
    size: int
    received_at_ms: int


def image_refs(db: Database, attempt_id: int) -> list[ImageRef]:
    ensure_tables(db)
    b = review_blobs
    with db.read() as conn:
        rows = conn.execute(
            select(b.c.id, b.c.attempt_id, b.c.kind, b.c.event_id, b.c.role, b.c.position,
                   b.c.size, b.c.received_at_ms)
            .where(b.c.attempt_id == attempt_id).order_by(b.c.id)).all()
    return [ImageRef(int(r.id), int(r.attempt_id), r.kind, r.event_id, r.role,
                     int(r.position), int(r.size), int(r.received_at_ms)) for r in rows]


def read_image(db: Database, keys: ServerKeys, image_id: int) -> tuple[ImageRef, bytes] | None:
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(select(review_blobs).where(review_blobs.c.id == image_id)).first()
    if row is None:
        return None
    ref = ImageRef(int(row.id), int(row.attempt_id), row.kind, row.event_id, row.role,
                   int(row.position), int(row.size), int(row.received_at_ms))
    jpeg = keys.unseal(bytes(row.sealed), context=_blob_context(
        ref.attempt_id, ref.kind, ref.event_id, ref.role, ref.position))
    return ref, jpeg


# -- request bodies --------------------------------------------------------------------

def _small_json(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, ensure_ascii=False, default=str).encode()) > MAX_JSON_BYTES:
        raise ValueError(f"larger than {MAX_JSON_BYTES} bytes")
    return value


SmallJson = Annotated[dict[str, Any], AfterValidator(_small_json)]


class IdentityIn(BaseModel):
    event_id: str = Field(pattern=EVENT_ID_PATTERN)
    client_id: str = Field(default="", max_length=200)
    passed: bool
    approved_by_proctor: bool = False
    proctor_id: str | None = Field(default=None, max_length=100)
    score: float | None = None
    threshold: float | None = None
    reason: str = Field(default="", max_length=100)
    record: SmallJson = Field(default_factory=dict)
    at_ms: int | None = None
    captures: list[str] = Field(default_factory=list, max_length=MAX_CAPTURES)
    evidence: str | None = None


class CameraEventIn(BaseModel):
    event_id: str = Field(pattern=EVENT_ID_PATTERN)
    kind: str = Field(max_length=40)
    started_ms: int
    ended_ms: int | None = None
    detail: SmallJson = Field(default_factory=dict)
    snapshot: str | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in CAMERA_KINDS:
            raise ValueError(f"unknown camera event kind {value!r}")
        return value


class CameraEventsIn(BaseModel):
    client_id: str = Field(default="", max_length=200)
    events: list[CameraEventIn] = Field(max_length=MAX_BATCH)


class FindingIn(BaseModel):
    """client.integrity.findings.Finding.to_json()"""

    # e-01/e-02 from client/integrity; lockdown: focus losses and display changes
    # (client/lockdown/focus.py), warnings for the reviewer.
    code: str = Field(pattern=r"^(e-0[12]|lockdown)$")
    check: str = Field(default="", max_length=60)
    kind: str = Field(max_length=60)
    severity: Literal["block", "warn"]
    subject: str = Field(default="", max_length=300)
    name: dict[str, str] = Field(default_factory=dict)
    evidence: list[str] = Field(default_factory=list, max_length=50)
    detail: SmallJson = Field(default_factory=dict)


class IntegrityEventIn(BaseModel):
    event_id: str = Field(pattern=EVENT_ID_PATTERN)
    phase: Literal["pre_exam", "exam"]
    state: Literal["found", "resolved"] = "found"
    at_ms: int | None = None
    finding: FindingIn
    context: SmallJson = Field(default_factory=dict)   # trimmed snapshot, for support


class IntegrityEventsIn(BaseModel):
    client_id: str = Field(default="", max_length=200)
    events: list[IntegrityEventIn] = Field(max_length=MAX_BATCH)


# -- storing ---------------------------------------------------------------------------

def store_identity(db: Database, keys: ServerKeys, *, attempt_id: int, body: IdentityIn,
                   now_ms: int) -> bool:
    """Store one identity check; False if this event id was stored before (replay)."""
    ensure_tables(db)
    captures = [decode_jpeg(c, field_name=f"captures[{i}]", limit=MAX_IMAGE_BYTES)
                for i, c in enumerate(body.captures)]
    evidence = (decode_jpeg(body.evidence, field_name="evidence", limit=MAX_IMAGE_BYTES)
                if body.evidence else None)
    r = identity_results
    try:
        with db.write() as conn:
            found = conn.execute(select(r.c.id).where(
                (r.c.attempt_id == attempt_id) & (r.c.event_id == body.event_id))).first()
            if found is not None:
                return False
            conn.execute(r.insert().values(
                attempt_id=attempt_id, event_id=body.event_id, client_id=body.client_id,
                passed=body.passed, score=body.score, threshold=body.threshold,
                reason=body.reason, approved_by_proctor=body.approved_by_proctor,
                proctor_id=body.proctor_id, record=body.record, at_ms=body.at_ms,
                received_at_ms=now_ms))
            for position, jpeg in enumerate(captures):
                _insert_image(conn, keys, attempt_id=attempt_id, kind="identity",
                              event_id=body.event_id, role="capture", position=position,
                              jpeg=jpeg, now_ms=now_ms)
            if evidence is not None:
                _insert_image(conn, keys, attempt_id=attempt_id, kind="identity",
                              event_id=body.event_id, role="evidence", position=0,
                              jpeg=evidence, now_ms=now_ms)
    except IntegrityError:
        return False  # the same event arrived twice at once; the other copy is stored
    return True


def store_camera_events(db: Database, keys: ServerKeys, *, attempt_id: int,
                        body: CameraEventsIn, now_ms: int) -> list[str]:
    """Store or complete each event; returns the acknowledged event ids (all of them)."""
    ensure_tables(db)
    snapshots = {e.event_id: decode_jpeg(e.snapshot, field_name=f"snapshot:{e.event_id}",
                                         limit=MAX_SNAPSHOT_BYTES)
                 for e in body.events if e.snapshot}
    i = review_items
    with db.write() as conn:
        for event in body.events:
            payload = event.model_dump(exclude={"snapshot"})
            where = ((i.c.attempt_id == attempt_id) & (i.c.kind == "camera")
                     & (i.c.event_id == event.event_id))
            row = conn.execute(select(i.c.id, i.c.payload).where(where)).first()
            if row is None:
                conn.execute(i.insert().values(
                    attempt_id=attempt_id, kind="camera", event_id=event.event_id,
                    client_id=body.client_id, payload=payload, at_ms=event.started_ms,
                    received_at_ms=now_ms, updated_at_ms=now_ms))
            elif row.payload.get("ended_ms") is None and event.ended_ms is not None:
                # The close of an event we have as open; the rest of the record stays.
                conn.execute(i.update().where(i.c.id == row.id).values(
                    payload={**row.payload, "ended_ms": event.ended_ms},
                    updated_at_ms=now_ms))
            snapshot = snapshots.get(event.event_id)
            if snapshot is not None and conn.execute(select(review_blobs.c.id).where(
                    (review_blobs.c.attempt_id == attempt_id)
                    & (review_blobs.c.kind == "camera")
                    & (review_blobs.c.event_id == event.event_id))).first() is None:
                _insert_image(conn, keys, attempt_id=attempt_id, kind="camera",
                              event_id=event.event_id, role="snapshot", position=0,
                              jpeg=snapshot, now_ms=now_ms)
    return [e.event_id for e in body.events]


def store_integrity_events(db: Database, *, attempt_id: int, body: IntegrityEventsIn,
                           now_ms: int) -> list[str]:
    ensure_tables(db)
    i = review_items
    with db.write() as conn:
        for event in body.events:
            where = ((i.c.attempt_id == attempt_id) & (i.c.kind == "integrity")
                     & (i.c.event_id == event.event_id))
            if conn.execute(select(i.c.id).where(where)).first() is None:
                conn.execute(i.insert().values(
                    attempt_id=attempt_id, kind="integrity", event_id=event.event_id,
                    client_id=body.client_id, payload=event.model_dump(), at_ms=event.at_ms,
                    received_at_ms=now_ms, updated_at_ms=now_ms))
    return [e.event_id for e in body.events]


# -- reading back ------------------------------------------------------------------------

@dataclass(frozen=True)
class IdentityRow:
    id: int
    event_id: str
    passed: bool
    approved_by_proctor: bool
    proctor_id: str | None
    score: float | None
    threshold: float | None
    reason: str
    at_ms: int | None
    received_at_ms: int


@dataclass(frozen=True)
class ItemRow:
    id: int
    kind: str
    event_id: str
    payload: dict[str, Any]
    at_ms: int | None
    received_at_ms: int

@dataclass(frozen=True)
class ReviewState:
    codes: tuple[str, ...]
    reason_written: str | None
    cleared_codes: tuple[str, ...] | None
    cleared_through_identity: int
    cleared_through_item: int
    cleared_by: str | None
    cleared_at_ms: int | None

def load_material(db: Database, attempt_id: int) -> tuple[list[IdentityRow], list[ItemRow],
                                                  ReviewState | None]:
    r, i, s = identity_results, review_items, review_states
    with db.read() as conn:
        identity = [
            IdentityRow(int(x.id), x.event_id, bool(x.passed), bool(x.approved_by_proctor),
                        x.proctor_id, x.score, x.threshold, x.reason, x.at_ms,
                        int(x.received_at_ms))
            for x in conn.execute(select(r).where(r.c.attempt_id == attempt_id)
                                  .order_by(r.c.id)).all()]
        items = [
            ItemRow(int(x.id), x.kind, x.event_id, dict(x.payload), x.at_ms,
                    int(x.received_at_ms))
            for x in conn.execute(select(i).where(i.c.attempt_id == attempt_id)
                                  .order_by(i.c.id)).all()]
        row = conn.execute(select(s).where(s.c.attempt_id == attempt_id)).first()
    state = None if row is None else ReviewState(
        tuple(row.codes or ()), row.reason_written,
        None if row.cleared_codes is None else tuple(row.cleared_codes),
        int(row.cleared_through_identity or 0), int(row.cleared_through_item or 0),
        row.cleared_by, row.cleared_at_ms)
    return identity, items, state

def write_state(db: Database, attempt_id: int, *, now_ms: int, **values: Any) -> None:
    s = review_states
    values = {**values, "evaluated_at_ms": now_ms}
    if "codes" in values:
        values["codes"] = list(values["codes"])
    with db.write() as conn:
        if conn.execute(select(s.c.attempt_id).where(s.c.attempt_id == attempt_id)).first():
            conn.execute(s.update().where(s.c.attempt_id == attempt_id).values(values))
        else:
            values.setdefault("codes", [])
            conn.execute(s.insert().values(attempt_id=attempt_id, **values))
