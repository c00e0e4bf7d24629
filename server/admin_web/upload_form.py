"""The offline-file upload form, read with a per-file limit while it streams.

Starlette's multipart parser spools each file to a temporary file on disk as the body
arrives (memory holds one chunk), but knows only the whole body's limit
(server/request_limits.py: 512 MiB, and only for a logged-in admin). This parser also
counts each file and stops storing one at MAX_FILE_BYTES + 1 bytes: the rest of an
oversized file is read off the connection and dropped, never written, and the job queue
(server/import_jobs.py) reports it as too large from the stored length.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.formparsers import MultiPartParser
from starlette.requests import Request

from server.offline_import import MAX_FILE_BYTES

MAX_FORM_FIELDS = 10  # csrf, exam


class _PerFileLimit(MultiPartParser):
    def __init__(self, request: Request, *, max_files: int) -> None:
        super().__init__(request.headers, request.stream(), max_files=max_files,
                         max_fields=MAX_FORM_FIELDS)
        self._stored: dict[int, int] = {}

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._current_part
        if part.file is None:
            super().on_part_data(data, start, end)
            return
        stored = self._stored.get(id(part), 0)
        room = MAX_FILE_BYTES + 1 - stored  # one byte over the limit marks it too large
        if room <= 0:
            return
        keep = min(end, start + room)
        self._stored[id(part)] = stored + keep - start
        super().on_part_data(data, start, keep)


async def read_upload_form(request: Request, *, max_files: int) -> FormData:
    """The parsed form; files hold at most MAX_FILE_BYTES + 1 bytes each. Raises
    starlette.formparsers.MultiPartException for a malformed body or too many files."""
    return await _PerFileLimit(request, max_files=max_files).parse()
