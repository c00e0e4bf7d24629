"""Export the offline answer file: snapshot -> sealed bytes -> atomic write -> read-back.

Each export is complete (every revision of every question, the submission state, the
whole proctor log), so a newer export always contains everything an older one did and the
admin may upload any of them, in any order, as often as they like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from client.errors import UserFacingError
from client.export.atomic_write import atomic_write_verified
from client.export.naming import offline_file_name
from client.export.offline_file import (
    FileIdentity,
    Marks,
    OfflineFileError,
    OfflinePayload,
    SubmissionInfo,
    build_offline_file,
    revisions_sorted,
    verify_own_file,
)
from client.i18n import _
from client.proctor.proctor_log import ProctorEvent
from client.store.model import Revision


@dataclass(frozen=True)
class ExportSnapshot:
    """Everything that goes into one export, read from the store in one go."""

    identity: FileIdentity
    revisions: Sequence[Revision]
    submission: SubmissionInfo
    proctor_log: Sequence[ProctorEvent]
    client_info: Mapping[str, str]
    export_seq: int
    key_certificate: str = ""  # client/export/key_certificate.py; "" once registered
    marks: Marks | None = None  # the candidate's marks (标记) on this PC


@dataclass(frozen=True)
class ExportResult:
    path: Path
    file_name: str
    size: int
    sha256: str
    revision_count: int
    question_count: int


def export_offline_file(
    *,
    folder: Path,
    snapshot: ExportSnapshot,
    session_key: Ed25519PrivateKey,
    server_box_key: X25519PublicKey,
    wall_time_ms: int,
    server_time_ms: int | None,
) -> ExportResult:
    """Write the file into *folder*; raises UserFacingError (``export.*``) on failure."""
    if not folder.is_dir():
        raise UserFacingError("export.folder_missing",
                              _("所选文件夹不存在或U盘已拔出，请重新选择"), folder=str(folder))
    # The name carries the server-time estimate when there is one: the admin compares it
    # with the exam timetable, and the PC clock may be hours off.
    name_time = server_time_ms if server_time_ms is not None else wall_time_ms
    file_name = offline_file_name(exam_id=snapshot.identity.exam_id,
                                  candidate_no=snapshot.identity.candidate_no, at_ms=name_time)
    payload = OfflinePayload(
        revisions=revisions_sorted(snapshot.revisions),
        submission=snapshot.submission,
        proctor_log=tuple(snapshot.proctor_log),
        client_info=dict(snapshot.client_info),
        marks=snapshot.marks,
    )
    data = build_offline_file(
        identity=snapshot.identity,
        payload=payload,
        file_name=file_name,
        created_wall_ms=wall_time_ms,
        created_server_ms=server_time_ms,
        export_seq=snapshot.export_seq,
        session_key=session_key,
        server_box_key=server_box_key,
        key_certificate=snapshot.key_certificate,
    )
    written = atomic_write_verified(folder / file_name, data)
    try:
        verify_own_file(written.path.read_bytes(), file_name=file_name,
                        session_public_key=session_key.public_key())
    except (OSError, OfflineFileError) as exc:
        raise UserFacingError("export.verify_failed",
                              _("离线答卷文件写入后校验失败，请换一个U盘再试"),
                              path=str(written.path), error=str(exc)) from exc
    return ExportResult(
        path=written.path,
        file_name=file_name,
        size=written.size,
        sha256=written.sha256,
        revision_count=len(payload.revisions),
        question_count=payload.question_count(),
    )
