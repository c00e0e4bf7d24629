"""Write a file so that it is either absent, the old version, or the complete new one.

USB sticks are pulled out while the light still blinks; a half-written answer file that
looks complete would be worse than none. So: write a temp file in the same folder, fsync
it, rename it over the target durably (client/store/fsutil.replace_durably: MoveFileEx with
write-through on Windows, so a stick pulled right after cannot lose the rename; rename and
folder fsync on POSIX), then read the file back and compare.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from client.errors import UserFacingError
from client.i18n import _
from client.store.fsutil import replace_durably


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    size: int
    sha256: str


def atomic_write_verified(path: Path, data: bytes) -> WrittenFile:
    """Write *data* to *path* atomically and durably, then verify it by reading it back.

    Raises ``UserFacingError`` (``export.write_failed`` / ``export.verify_failed``); on any
    failure the temp file is removed and an existing file at *path* is left untouched.
    """
    folder = path.parent
    temp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        replace_durably(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise UserFacingError(
            "export.write_failed",
            _("无法写入离线答卷文件，请换一个文件夹或U盘再试"),
            path=str(path),
            error=str(exc),
        ) from exc
    expected = hashlib.sha256(data).hexdigest()
    try:
        # WHY read back: catches a stick pulled out, a full or failing filesystem, and a
        # rename that did not happen. The OS may serve it from its cache, so it does not
        # prove the flash cells; the server's signature check is the final word.
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise UserFacingError(
            "export.verify_failed",
            _("离线答卷文件写入后无法读回，请换一个U盘再试"),
            path=str(path),
            error=str(exc),
        ) from exc
    if actual != expected:
        raise UserFacingError(
            "export.verify_failed",
            _("离线答卷文件写入后读回的内容不一致，请换一个U盘再试"),
            path=str(path),
            expected_sha256=expected,
            actual_sha256=actual,
        )
    return WrittenFile(path=path, size=len(data), sha256=expected)

