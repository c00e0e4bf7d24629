"""Zip archives from outside: bounded in size, with member names that cannot escape.

Used for paper sources (from an exam author) and for the body of a package. Members are
read into memory, never extracted to disk, but names are still checked so that no caller
can later write ``../../x`` somewhere, and sizes are bounded so that a zip bomb cannot take
all the memory of a 4 GB lab PC.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Mapping

from client.paper.media import COMPRESSED_EXTENSIONS, extension

MAX_TOTAL_BYTES = 512 * 1024 * 1024  # uncompressed; a long listening exam fits easily
MAX_MEMBERS = 10_000
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the same paper gives the same bytes


class ArchiveError(ValueError):
    """The zip is unreadable or unsafe; ``reason`` says why (for logs), ``member`` which file."""

    def __init__(self, reason: str, member: str | None = None) -> None:
        super().__init__(f"{reason}: {member}" if member else reason)
        self.reason = reason
        self.member = member


def is_safe_member_name(name: str) -> bool:
    """Relative, forward slashes only, no '..', '.', empty parts, drive letters or NULs."""
    if not name or len(name) > 255 or name.startswith("/") or "\\" in name:
        return False
    if ":" in name or "\x00" in name:
        return False
    parts = name.rstrip("/").split("/")
    return all(part not in ("", ".", "..") for part in parts)


def read_zip(data: bytes, *, max_total_bytes: int = MAX_TOTAL_BYTES,
             max_members: int = MAX_MEMBERS) -> dict[str, bytes]:
    """Every file member of the zip *data*, by name; raise ArchiveError when unsafe/broken."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveError(f"not a zip archive ({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > max_members:
            raise ArchiveError(f"too many members ({len(infos)} > {max_members})")
        files: list[zipfile.ZipInfo] = []
        declared = 0
        for info in infos:
            if not is_safe_member_name(info.orig_filename):
                raise ArchiveError("unsafe member name", info.orig_filename)
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ArchiveError("encrypted member", info.filename)
            declared += info.file_size
            if declared > max_total_bytes:
                raise ArchiveError(f"uncompressed size exceeds {max_total_bytes} bytes")
            files.append(info)
        members: dict[str, bytes] = {}
        for info in files:
            if info.filename in members:
                raise ArchiveError("duplicate member", info.filename)
            try:
                with archive.open(info) as member:
                    # zipfile stops at the declared size and checks the CRC at the end.
                    content = member.read(info.file_size + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                    RuntimeError, OSError) as exc:
                raise ArchiveError(f"unreadable member ({exc})", info.filename) from exc
            if len(content) != info.file_size:
                raise ArchiveError("member size differs from its header", info.filename)
            members[info.filename] = content
        return members


def write_zip(members: Mapping[str, bytes]) -> bytes:
    """A deterministic zip of *members* (sorted, fixed timestamps; media stored, text deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            if not is_safe_member_name(name):
                raise ArchiveError("unsafe member name", name)
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = (zipfile.ZIP_STORED if extension(name) in COMPRESSED_EXTENSIONS
                                  else zipfile.ZIP_DEFLATED)
            archive.writestr(info, members[name])
    return buffer.getvalue()
