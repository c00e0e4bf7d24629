"""The redo log (answers.redo): the one file a save makes durable.

A save used to make two files durable: the SQLite WAL (synchronous=FULL) and the reach
record. On a PC whose disk does not overlap two flushes, that is two flushes per save. Now
the store runs the WAL at synchronous=NORMAL (a commit is handed to the OS, not flushed)
and every transaction that adds revision rows appends one record of those rows to this
log and flushes it (fdatasync) before it is acknowledged. The WAL becomes durable at the
next checkpoint (SQLite syncs the WAL before and the main file after it); only then is the
log started over at the checkpointed point. So at every instant, every acknowledged
revision is durable in the main file (up to the log's start point) or in the log.

At open, a store that lost WAL content (a power cut before the checkpoint, a deleted or
damaged WAL) gets the missing rows back from the log: ``judge`` checks the log against
the store (the running hash of reach.py) and returns the records to replay.

Format: page 0 holds a header (magic, a random file id, the start point, an HMAC under a
key derived from the store key). Each record starts on a page of its own (4 KiB), so a
torn write, which spoils the sectors being written, never touches an earlier record:
length, nonce, and the AES-256-GCM ciphertext of the rows (question, revision, stored
value, times, patch base) with the running hash after them; the associated data names the
file id and the record's offset, so a record cannot be moved within or between logs. The
file is preallocated in chunks of written zeros, so flushing a record changes no metadata
(fdatasync, the cheapest durable write); an unused page is all zeros.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from client.store.fsutil import replace_durably
from client.store.reach import ChainKeys, Point, StoreChain

log = logging.getLogger(__name__)

PAGE = 4096
CHUNK = 64 * PAGE  # the file grows in steps of this many written zeros
_MAGIC = b"EXREDO01"
_HEADER = struct.Struct("<8s16sQ32s")  # magic, file id, start seq, start digest
# ciphertext length, nonce, first seq, row count, and a MAC over them (and the file id and
# offset): a record whose body is damaged still says exactly which rows it held.
_RECORD_HEAD = struct.Struct("<I12sQI16s")
_SECTOR = 512  # a torn write leaves whole sectors old (zeros here) or new
REDO_META = "redo_log"  # in the store's meta once it has kept a redo log
# In the store's meta: the file ids of the log it may be paired with ("<previous>,<next>",
# hex), written before each checkpoint and at open, before the log is started over. So
# the durable store names its log, and a log copied back from before the last restart is
# refused instead of trusted.
REDO_IDS_META = "redo_log_ids"


def new_file_id() -> bytes:
    return os.urandom(16)


def redo_path_for(db: Path) -> Path:
    """answers.db -> answers.redo"""
    return db.with_name(f"{db.stem}.redo")


class RedoKeys:
    """Keys derived from the store key: the records' AEAD key, the header's MAC key and
    the running hash's (reach.ChainKeys)."""

    def __init__(self, store_key: bytes) -> None:
        self.chain = ChainKeys(store_key)
        self.aead = AESGCM(hmac.new(store_key, b"ExamClient/redo-aead/v1",
                                    hashlib.sha256).digest())
        self.mac = hmac.new(store_key, b"ExamClient/redo-header/v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class RedoRow:
    """One revision row as the store holds it (value in its stored form)."""

    seq: int
    question_id: str
    revision: int
    stored: str
    patch_of: int | None
    wall_time_ms: int
    mono_time_ns: int
    server_time_ms: int | None
    synced: bool

    def as_list(self) -> list[object]:
        return [self.seq, self.question_id, self.revision, self.stored, self.patch_of,
                self.wall_time_ms, self.mono_time_ns, self.server_time_ms, int(self.synced)]

    @classmethod
    def from_list(cls, item: list[object]) -> RedoRow:
        seq, question, revision, stored, patch_of, wall, mono, server, synced = item
        return cls(int(str(seq)), str(question), int(str(revision)), str(stored),
                   None if patch_of is None else int(str(patch_of)), int(str(wall)),
                   int(str(mono)), None if server is None else int(str(server)),
                   bool(synced))


@dataclass(frozen=True)
class RedoTransaction:
    rows: tuple[RedoRow, ...]
    digest: bytes  # the running hash after its last row

    @property
    def first(self) -> int:
        return self.rows[0].seq

    @property
    def last(self) -> int:
        return self.rows[-1].seq


@dataclass
class RedoContents:
    """What a log holds: its start point, every readable record in seq order, and what
    could not be read."""

    start: Point
    file_id: bytes = b""
    transactions: list[RedoTransaction] = field(default_factory=list)
    damaged_pages: int = 0  # pages that are neither zeros nor part of a valid record
    # Records whose header is intact but whose body is not: (first seq, row count).
    damaged_records: list[tuple[int, int]] = field(default_factory=list)
    # Unreadable bytes that neither a damaged record's header nor one torn write
    # explains: records there may have been lost, and cannot be counted.
    damaged_tail: bool = False

    @property
    def last_seq(self) -> int:
        """The last row the log says was saved (valid or damaged records)."""
        return max([self.start.seq] + [t.last for t in self.transactions]
                   + [first + count - 1 for first, count in self.damaged_records])

    def rows(self) -> list[RedoRow]:
        return [row for t in self.transactions for row in t.rows]


class RedoUnreadable(Exception):
    """The log's header does not authenticate: another store's (key) or damaged."""


def read_log(path: Path, keys: RedoKeys) -> RedoContents | None:
    """The log's contents; None when there is none. Raises RedoUnreadable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError as exc:  # a directory where the log was: nothing to count
        raise RedoUnreadable(f"{path.name}: not a file") from exc
    if len(data) < PAGE:
        raise RedoUnreadable(f"{path.name}: {len(data)} bytes")
    header = data[:_HEADER.size]
    mac = data[_HEADER.size:_HEADER.size + 32]
    if not hmac.compare_digest(mac, hmac.new(keys.mac, header, hashlib.sha256).digest()):
        raise RedoUnreadable(f"{path.name}: header does not authenticate")
    magic, file_id, start_seq, start_digest = _HEADER.unpack(header)
    if magic != _MAGIC:
        raise RedoUnreadable(f"{path.name}: not a redo log")
    contents = RedoContents(start=Point(start_seq, start_digest), file_id=file_id)
    offset = PAGE
    valid_end = PAGE  # just after the last valid record
    headed: list[tuple[int, int, bool]] = []  # damaged records with an intact header
    unexplained: list[int] = []  # damaged pages no record header accounts for
    while offset + _RECORD_HEAD.size <= len(data):
        found = _read_record(data, offset, file_id, keys)
        if isinstance(found, RedoTransaction):
            contents.transactions.append(found)
            offset = valid_end = _after(data, offset)
            continue
        if found is not None:
            headed.append(found)
            contents.damaged_pages += 1
            offset = _after(data, offset)
            continue
        if any(data[offset:offset + PAGE]):
            contents.damaged_pages += 1
            if any(data[offset:offset + _SECTOR]):
                unexplained.append(offset)  # a damaged header, not a lost first sector
        offset += PAGE
    # A record's write starts only after the previous record's flush returned (its save
    # was acknowledged). So a torn record after the last valid one is the save in flight
    # when the power went (never acknowledged): dropped without a word. Any other
    # damaged record held acknowledged rows: counted from its header, or, where the
    # header is gone too, from the gap in seq numbers it leaves before a valid record;
    # only damage after the last valid record with no header says nothing countable.
    last_valid = max((t.last for t in contents.transactions), default=start_seq)
    contents.damaged_records = [(first, count) for first, count, torn in headed
                                if not torn or first <= last_valid]
    # The file grows only by whole chunks of zeros, so one that ends inside a chunk with
    # data in that chunk was cut: records after the cut are unknown. (A grow that did not
    # finish leaves a partial chunk of zeros only: records are written after it.) A cut at
    # a chunk boundary cannot be told from a log that ends there.
    tail = len(data) % CHUNK
    cut = tail != 0 and any(data[len(data) - tail:])
    contents.damaged_tail = cut or any(offset >= valid_end for offset in unexplained)
    contents.transactions.sort(key=lambda t: t.first)
    return contents


def _after(data: bytes, offset: int) -> int:
    length = _RECORD_HEAD.unpack_from(data, offset)[0]
    return offset + _pages(_RECORD_HEAD.size + length) * PAGE


def _read_record(data: bytes, offset: int, file_id: bytes, keys: RedoKeys
                 ) -> RedoTransaction | tuple[int, int, bool] | None:
    """The record at *offset*; (first seq, rows, torn) when only its header is intact;
    None when there is no record there (zeros, or a damaged header)."""
    length, nonce, first, count, mac = _RECORD_HEAD.unpack_from(data, offset)
    head = data[offset:offset + _RECORD_HEAD.size - 16]
    if not hmac.compare_digest(mac, _head_mac(keys, file_id, offset, head)):
        return None
    body_start = offset + _RECORD_HEAD.size
    body = data[body_start:body_start + length]
    try:
        plain = keys.aead.decrypt(nonce, body, _associated(file_id, offset) + head)
        doc = json.loads(plain.decode())
        rows = tuple(RedoRow.from_list(item) for item in doc["rows"])
        digest = bytes.fromhex(doc["digest"])
    except (InvalidTag, ValueError, KeyError, TypeError, UnicodeDecodeError):
        rows = ()
    if rows and rows[0].seq == first and len(rows) == count:
        return RedoTransaction(rows, digest)
    # Torn: a sector of the body never written (the file held zeros there); a cut file
    # ends inside the body. Anything else is damage. (A record's last few bytes in a
    # sector of their own could be zeros by chance: at least 16 are looked at.)
    end = body_start + length
    torn = len(data) < end or any(
        not any(data[sector:min(sector + _SECTOR, end)])
        for sector in range(body_start - body_start % _SECTOR, end, _SECTOR)
        if sector >= body_start and end - sector >= 16)
    return first, count, torn


def _head_mac(keys: RedoKeys, file_id: bytes, offset: int, head: bytes) -> bytes:
    return hmac.new(keys.mac, _associated(file_id, offset) + head, hashlib.sha256).digest()[:16]


def _associated(file_id: bytes, offset: int) -> bytes:
    return _MAGIC + file_id + offset.to_bytes(8, "little")


def _pages(size: int) -> int:
    return -(-size // PAGE)


@dataclass(frozen=True)
class RedoVerdict:
    """The store against its log: rows to replay, or why it cannot be completed."""

    replay: tuple[RedoTransaction, ...] = ()
    lost: int = 0  # acknowledged rows neither in the store nor readable in the log
    held: int = 0
    expected: int = 0
    diverged: bool = False

    @property
    def complete(self) -> bool:
        return self.lost == 0 and not self.diverged


def judge(contents: RedoContents, chain: StoreChain, keys: RedoKeys) -> RedoVerdict:
    """*chain*: read with ``want`` = ``wanted_seqs(contents)``."""
    held = chain.last.seq
    expected = contents.last_seq
    if chain.count != held:  # seq has no gaps: rows are never deleted
        return RedoVerdict(held=chain.count, expected=expected, diverged=True,
                           lost=max(0, expected - chain.count))
    if held < contents.start.seq:
        # The main file lost rows a checkpoint had made durable before the log started.
        return RedoVerdict(held=held, expected=expected, lost=expected - held)
    if chain.at.get(contents.start.seq) != contents.start.digest:
        return RedoVerdict(held=held, expected=expected, diverged=True)
    later: list[RedoTransaction] = []
    for transaction in contents.transactions:
        if transaction.last <= held:
            if chain.at.get(transaction.last) != transaction.digest:
                return RedoVerdict(held=held, expected=expected, diverged=True)
        elif transaction.first <= held:  # a transaction is atomic: never half held
            return RedoVerdict(held=held, expected=expected, diverged=True)
        else:
            later.append(transaction)
    digest, seq = chain.last.digest, held
    readable = sum(len(t.rows) for t in later)
    for transaction in later:
        if transaction.first != seq + 1:
            # A record between is unreadable: what it held is lost, and everything after
            # it can only be put back by a recovery (seq numbers would have a gap).
            return RedoVerdict(held=held, expected=expected,
                               lost=expected - held - readable)
        for row in transaction.rows:
            digest = extend(keys, digest, row)
        if digest != transaction.digest:
            return RedoVerdict(held=held, expected=expected, diverged=True)
        seq = transaction.last
    if seq < expected:  # damaged records after the last readable one
        return RedoVerdict(held=held, expected=expected, lost=expected - seq)
    return RedoVerdict(replay=tuple(later), held=held, expected=expected)


def wanted_seqs(contents: RedoContents) -> set[int]:
    return {contents.start.seq} | {t.last for t in contents.transactions}


def extend(keys: RedoKeys, digest: bytes, row: RedoRow) -> bytes:
    return keys.chain.extend(digest, seq=row.seq, question_id=row.question_id,
                             revision=row.revision, stored=row.stored, patch_of=row.patch_of)


def start_fresh(path: Path, point: Point, keys: RedoKeys, *, file_id: bytes | None = None
                ) -> None:
    """A new, empty log starting at *point*, atomically in place of the old one. Only call
    it once every row up to *point* is durable in the store's main file or WAL, and (for
    the candidate's store) once *file_id* is named in its meta (REDO_IDS_META)."""
    header = _HEADER.pack(_MAGIC, file_id or new_file_id(), point.seq, point.digest)
    first = (header + hmac.new(keys.mac, header, hashlib.sha256).digest()).ljust(PAGE, b"\0")
    temp = path.with_name(path.name + ".tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(first + bytes(CHUNK - PAGE))
            handle.flush()
            os.fsync(handle.fileno())
        replace_durably(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()  # a full disk: give the space back
        raise


class RedoLog:
    """The log of one open store; used on the store's (writer) thread only.

    ``add_row`` for each revision row a transaction inserts; after its COMMIT, ``commit``
    appends them as one record and flushes it; ``rollback`` forgets them. ``rotate``
    starts the log over once a checkpoint made the store durable up to its current point.
    """

    def __init__(self, path: Path, keys: RedoKeys, *, current: Point,
                 file_id: bytes | None = None) -> None:
        self._path = path
        self._keys = keys
        start_fresh(path, current, keys, file_id=file_id)
        self._durable = current
        self._pending: list[RedoRow] = []
        self._pending_point = current
        self._fd = -1
        self._open()

    def _open(self) -> None:
        self._fd = os.open(self._path, os.O_RDWR | getattr(os, "O_BINARY", 0))
        header = self._read_at(0, _HEADER.size)
        self._file_id: bytes = bytes(_HEADER.unpack(header)[1])
        self._offset = PAGE
        self._size = os.fstat(self._fd).st_size

    def _read_at(self, offset: int, size: int) -> bytes:
        os.lseek(self._fd, offset, os.SEEK_SET)
        return os.read(self._fd, size)

    @property
    def durable(self) -> Point:
        return self._durable

    @property
    def file_id(self) -> bytes:
        return self._file_id

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def add_row(self, row: RedoRow) -> None:
        self._pending.append(row)
        self._pending_point = Point(row.seq, extend(self._keys, self._pending_point.digest,
                                                    row))

    def rollback(self) -> None:
        self._pending = []
        self._pending_point = self._durable

    def commit(self) -> None:
        """Append the transaction's rows and flush them; raises OSError (the rows are
        then forgotten here: the caller makes the WAL durable instead)."""
        rows, point = self._pending, self._pending_point
        self._pending = []
        plain = json.dumps({"rows": [row.as_list() for row in rows],
                            "digest": point.digest.hex()}, ensure_ascii=False).encode()
        nonce = os.urandom(12)
        # The ciphertext is 16 bytes longer than the plaintext (the GCM tag).
        head = _RECORD_HEAD.pack(len(plain) + 16, nonce, rows[0].seq, len(rows),
                                 bytes(16))[:-16]
        sealed = self._keys.aead.encrypt(nonce, plain,
                                         _associated(self._file_id, self._offset) + head)
        record = head + _head_mac(self._keys, self._file_id, self._offset, head) + sealed
        end = self._offset + _pages(len(record)) * PAGE
        if end > self._size:
            self._grow(end)
        self._write_at(self._offset, record)
        if sys.platform == "win32":
            os.fsync(self._fd)  # FlushFileBuffers
        else:
            os.fdatasync(self._fd)  # preallocated: the flush changes no metadata
        self._offset = end
        self._durable = point

    def _grow(self, needed: int) -> None:
        """Rare (many saves without a checkpoint): written zeros, flushed with metadata."""
        size = self._size
        try:
            while size < needed:
                self._write_at(size, bytes(CHUNK))
                size += CHUNK
            os.fsync(self._fd)
        except OSError:
            # Back to whole chunks: a log that ends inside a chunk reads as cut.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size = size

    def _write_at(self, offset: int, data: bytes) -> None:
        if sys.platform == "win32":
            os.lseek(self._fd, offset, os.SEEK_SET)
            written = os.write(self._fd, data)
        else:
            written = os.pwrite(self._fd, data, offset)
        if written != len(data):
            raise OSError(f"short write to {self._path}")

    def rotate(self, *, file_id: bytes | None = None) -> None:
        """Start over at the durable point (the store's main file now holds it). On
        failure the old log goes on (it holds only rows the store has durably); never
        raises."""
        if sys.platform == "win32":
            self.close()  # a file open without FILE_SHARE_DELETE cannot be replaced
        try:
            start_fresh(self._path, self._durable, self._keys, file_id=file_id)
        except OSError as exc:
            log.warning("cannot start the redo log %s over: %s", self._path, exc)
        if self._fd >= 0:
            try:
                replaced = os.stat(self._path).st_ino != os.fstat(self._fd).st_ino
            except OSError:
                replaced = True
            if not replaced:
                return
            self.close()
        self._open()

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


def discard_leftovers(db: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        redo_path_for(db).with_name(redo_path_for(db).name + ".tmp").unlink()

