"""How far the store reached: the running hash of its revision rows, and the record an
earlier version kept beside the store (answers.reach).

The running hash (ChainKeys, read_chain) is what the redo log (redo.py), which took the
record's place, checks a store against. The record itself is only read now, for a store
last opened by the earlier version; that version wrote, with every transaction that added
revision rows, in parallel with its COMMIT and before it was acknowledged:

- ``base``: the last seq (and running hash) before the transaction: certainly durable;
- ``top``: the last seq (and running hash) after it: durable once the COMMIT returned.

The two writes run on two threads (the record's on its own), so an acknowledgement waits
for the slower of two fsyncs, not for their sum. A store that holds fewer rows than
``base`` lost acknowledged revisions; one that holds exactly ``base`` was stopped during
that transaction, which was never acknowledged. Once the writer pauses, the record is
*settled* (base = top), so a later loss of even the last acknowledged save is counted.

The running hash chains every revision row in seq order (HMAC-SHA256 under a key derived
from the store key, so it says nothing about the answers): a store that holds the right
number of rows but different ones is caught too. Each record carries an HMAC and is
written to one of two slots in turn, so a torn write leaves the previous record.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from client.store.connection import Connection
from client.store.fsutil import atomic_write_bytes

log = logging.getLogger(__name__)

_MAGIC = b"EXREACH1"
_SLOT = struct.Struct("<8sQQQ32s32s")  # magic, counter, base seq, top seq, base/top hash
_SLOT_BYTES = 512  # one slot per sector, so a torn write spoils one slot only
_MAC_BYTES = 32
EMPTY_HASH = bytes(32)
# A pause this long after the last write settles the record (see module doc).
SETTLE_AFTER_S = 0.2


def reach_path_for(db: Path) -> Path:
    """answers.db -> answers.reach"""
    return db.with_name(f"{db.stem}.reach")


@dataclass(frozen=True)
class Point:
    """The store after its first *seq* revision rows; *digest* chains all of them."""

    seq: int
    digest: bytes


@dataclass(frozen=True)
class Record:
    counter: int
    base: Point
    top: Point

    @property
    def settled(self) -> bool:
        return self.base == self.top


class ChainKeys:
    """The two keys derived from the store key: the running hash's and the record MAC's."""

    def __init__(self, store_key: bytes) -> None:
        self.chain = hmac.new(store_key, b"ExamClient/reach-chain/v1", hashlib.sha256).digest()
        self.mac = hmac.new(store_key, b"ExamClient/reach-record/v1", hashlib.sha256).digest()

    def extend(self, digest: bytes, *, seq: int, question_id: str, revision: int,
               stored: str, patch_of: int | None) -> bytes:
        """The running hash after one more row (its stored form, as the file holds it)."""
        fields = [str(seq), question_id, str(revision), stored,
                  "" if patch_of is None else str(patch_of)]
        body = b"".join(len(f.encode()).to_bytes(4, "big") + f.encode() for f in fields)
        return hmac.new(self.chain, digest + body, hashlib.sha256).digest()


@dataclass(frozen=True)
class StoreChain:
    """What a store holds, read at open: row count, last seq, and the running hash at the
    seqs asked for (and at the last row)."""

    count: int
    last: Point
    at: dict[int, bytes]


def read_chain(conn: Connection, keys: ChainKeys, *, want: Iterable[int] = (),
               patched: bool = True) -> StoreChain:
    """*patched*: the file has schema 3's patch_of column (older ones: always NULL)."""
    wanted = set(want)
    digest = EMPTY_HASH
    at: dict[int, bytes] = {0: EMPTY_HASH} if 0 in wanted else {}
    count = last = 0
    rows = conn.execute(
        "SELECT seq, question_id, revision, value, "
        f"{'patch_of' if patched else 'NULL'} FROM revisions ORDER BY seq")
    for seq, question_id, revision, value, patch_of in rows.fetchall():
        digest = keys.extend(digest, seq=int(seq), question_id=str(question_id),
                             revision=int(revision), stored=str(value),
                             patch_of=None if patch_of is None else int(patch_of))
        count, last = count + 1, int(seq)
        if last in wanted:
            at[last] = digest
    return StoreChain(count=count, last=Point(last, digest), at=at)


@dataclass(frozen=True)
class Verdict:
    """The store against its record: ``lost`` rows after ``held`` are missing (0: none);
    ``diverged``: it holds other rows than the ones recorded."""

    lost: int = 0
    held: int = 0
    expected: int = 0
    diverged: bool = False

    @property
    def complete(self) -> bool:
        return self.lost == 0 and not self.diverged


def judge(record: Record, chain: StoreChain) -> Verdict:
    """Compare a store (its chain) with the record of how far it reached."""
    held = chain.last.seq
    if chain.count != held:  # seq has no gaps: rows are never deleted
        return Verdict(lost=max(0, record.base.seq - chain.count), held=chain.count,
                       expected=record.base.seq, diverged=True)
    if held >= record.top.seq:
        same = chain.at.get(record.top.seq) == record.top.digest
        return Verdict(held=held, expected=record.top.seq, diverged=not same)
    if held >= record.base.seq:
        # Between base and top: only possible as exactly base (a transaction is atomic).
        same = held == record.base.seq and chain.at.get(held) == record.base.digest
        return Verdict(held=held, expected=record.base.seq, diverged=not same)
    return Verdict(lost=record.base.seq - held, held=held, expected=record.base.seq)


def read_record(path: Path, keys: ChainKeys) -> Record | None:
    """The newest valid record in *path*; None when there is none (new, deleted, damaged)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    best: Record | None = None
    for offset in (0, _SLOT_BYTES):
        record = _unpack(data[offset:offset + _SLOT_BYTES], keys)
        if record is not None and (best is None or record.counter > best.counter):
            best = record
    if best is None:
        log.error("reach record %s is unreadable", path)
    return best


def _pack(record: Record, keys: ChainKeys) -> bytes:
    body = _SLOT.pack(_MAGIC, record.counter, record.base.seq, record.top.seq,
                      record.base.digest, record.top.digest)
    return body + hmac.new(keys.mac, body, hashlib.sha256).digest()


def _unpack(slot: bytes, keys: ChainKeys) -> Record | None:
    size = _SLOT.size
    if len(slot) < size + _MAC_BYTES:
        return None
    body, mac = slot[:size], slot[size:size + _MAC_BYTES]
    if not hmac.compare_digest(mac, hmac.new(keys.mac, body, hashlib.sha256).digest()):
        return None
    magic, counter, base_seq, top_seq, base_digest, top_digest = _SLOT.unpack(body)
    if magic != _MAGIC:
        return None
    return Record(counter, Point(base_seq, base_digest), Point(top_seq, top_digest))


def write_fresh(path: Path, point: Point, keys: ChainKeys) -> None:
    """Start the record over at *point* (new store, rebuilt store, record lost)."""
    slot = _pack(Record(1, point, point), keys).ljust(_SLOT_BYTES, b"\0")
    atomic_write_bytes(path, slot + bytes(_SLOT_BYTES))
