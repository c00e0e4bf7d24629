"""Re-chain a damaged write-ahead log so that SQLite replays the frames after the damage.

SQLite checks each WAL frame with a checksum that runs on from the frame before it; one
damaged frame ends the replay there, silently, and every later commit is ignored although
its frames are intact. For salvage (on a working copy only) the frames of the current WAL
generation are written out again with fresh checksums: a damaged frame then costs only its
own page (which SQLCipher's per-page HMAC refuses to read), and a later copy of that page
usually holds its rows anyway (the last leaf of a table is rewritten by every save).

The format is SQLite's (https://sqlite.org/fileformat2.html#walformat): a 32-byte header
(magic, version, page size, checkpoint seq, two salts, two checksum words) and frames of a
24-byte header (page number, database size after a commit or 0, the salts, the checksum)
plus one page.
"""

from __future__ import annotations

import struct
from pathlib import Path

_HEADER_BYTES = 32
_FRAME_HEADER_BYTES = 24
_MAGIC_LITTLE = 0x377F0682
_MAGIC_BIG = 0x377F0683


def _checksum(data: bytes, s0: int, s1: int, *, big_endian: bool) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for index in range(0, len(words), 2):
        s0 = (s0 + words[index] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[index + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def rechain(wal: Path) -> int:
    """Rewrite *wal* (a working copy) with valid checksums over every frame of its current
    generation, dropping frames whose header is not of it. Returns the frames kept."""
    data = wal.read_bytes()
    if len(data) < _HEADER_BYTES:
        return 0
    magic, version, page_size, checkpoint = struct.unpack(">IIII", data[:16])
    if magic not in (_MAGIC_LITTLE, _MAGIC_BIG) or page_size < 512 or page_size & (
            page_size - 1):
        return 0
    big = magic == _MAGIC_BIG
    frame_bytes = _FRAME_HEADER_BYTES + page_size
    frames = [data[offset:offset + frame_bytes]
              for offset in range(_HEADER_BYTES, len(data) - frame_bytes + 1, frame_bytes)]
    salts = data[16:24]
    if frames and not any(frame[8:16] == salts for frame in frames):
        salts = frames[0][8:16]  # the header's salts were hit: take the frames' own
    header = struct.pack(">IIII", magic, version, page_size, checkpoint) + salts
    s0, s1 = _checksum(header, 0, 0, big_endian=big)
    out = [header + struct.pack(">II", s0, s1)]
    # Frames of the current generation up to the last one; frames of an older generation
    # (after a WAL restart) follow the current ones and are left out like SQLite does.
    kept = [frame for frame in frames[:_last_current(frames, salts) + 1]
            if frame[8:16] == salts]
    for frame in kept:
        s0, s1 = _checksum(frame[:8], s0, s1, big_endian=big)
        s0, s1 = _checksum(frame[_FRAME_HEADER_BYTES:], s0, s1, big_endian=big)
        out.append(frame[:16] + struct.pack(">II", s0, s1) + frame[_FRAME_HEADER_BYTES:])
    wal.write_bytes(b"".join(out))
    return len(kept)


def _last_current(frames: list[bytes], salts: bytes) -> int:
    for index in range(len(frames) - 1, -1, -1):
        if frames[index][8:16] == salts:
            return index
    return -1
