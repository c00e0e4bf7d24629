"""The offline export as the running client does it: read the answer store on its writer
thread, then seal and write the file on the caller's (worker) thread.

Wiring (the application does this once per logged-in session)::

    key = writer.call(ensure_session_key).result()          # right after login
    api.post("/attempt/session-key", registration_body(key, ...))   # retried until it works
    exporter = OfflineExporter(writer=writer, identity=..., server_box_key=...,
                               server_time_ms=clock.now_ms, client_info=...)
    exporter.export(folder)                                  # from the proctor panel
"""

from __future__ import annotations

import json
import logging
import platform
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from client import __version__
from client.export.exporter import ExportResult, ExportSnapshot, export_offline_file
from client.export.key_certificate import CERTIFICATE_META
from client.export.offline_file import FileIdentity, Marks, SubmissionInfo
from client.export.session_key import (
    SESSION_KEY_META,
    generate_session_key,
    session_key_from_text,
    session_key_to_text,
)
from client.proctor.store_sink import read_events
from client.store.database import AnswerStore

log = logging.getLogger(__name__)

T = TypeVar("T")
EXPORT_SEQ_META = "offline_export_seq"
SUBMITTED_AT_META = "submitted_at_ms"   # written by the session after a confirmed submit
SEALED_META = "sealed"                  # written by the session when answering stopped
SEALED_AT_META = "sealed_at_ms"         # the session's server-time estimate at the seal
FLAGS_META = "flags"                    # the questions the candidate marked (JSON list)
FLAGS_SENT_META = "flags_sent"          # the marks the server confirmed (JSON list)
# The session's server-time estimate when the candidate last changed the marks on this
# PC: the server keeps a file's marks only if they are newer than the ones it has.
FLAGS_CHANGED_AT_META = "flags_changed_ms"


class WriterLike(Protocol):
    def call(self, fn: Callable[[AnswerStore], T]) -> Future[T]: ...
    def flush(self) -> Future[None]: ...


def ensure_session_key(store: AnswerStore) -> Ed25519PrivateKey:
    """The session's offline-file signing key, created on first use (writer thread)."""
    text = store.get_meta(SESSION_KEY_META)
    if text is not None:
        return session_key_from_text(text)
    key = generate_session_key()
    store.set_meta(SESSION_KEY_META, session_key_to_text(key))
    return key


def read_marks(store: AnswerStore) -> Marks | None:
    """The marks kept with the answers, for the file (None: this PC never had any)."""
    raw = store.get_meta(FLAGS_META)
    if raw is None:
        return None
    ids = json.loads(raw)
    changed = store.get_meta(FLAGS_CHANGED_AT_META)
    return Marks(question_ids=tuple(str(q) for q in ids) if isinstance(ids, list) else (),
                 changed_server_ms=int(changed) if changed else None)


def default_client_info() -> dict[str, str]:
    return {"app_version": __version__, "platform": platform.platform(),
            "python": platform.python_version()}


@dataclass(frozen=True)
class _Read:
    snapshot: ExportSnapshot
    session_key: Ed25519PrivateKey


class OfflineExporter:
    def __init__(
        self,
        *,
        writer: WriterLike,
        identity: FileIdentity,
        server_box_key: X25519PublicKey,
        server_time_ms: Callable[[], int | None],
        exam_end_ms: int | Callable[[], int],
        wall_time_ms: Callable[[], int],
        client_info: Mapping[str, str] | None = None,
    ) -> None:
        self._writer = writer
        self._identity = identity
        self._server_box_key = server_box_key
        self._server_time_ms = server_time_ms
        # The candidate's end, asked at each export: extra time moves it during the exam
        # (client/session/exam_session.py, _adopt_end).
        self._end_ms: Callable[[], int] = (
            exam_end_ms if callable(exam_end_ms) else lambda: exam_end_ms)
        self._wall_time_ms = wall_time_ms
        self._client_info = dict(client_info or default_client_info())

    def export(self, folder: Path) -> ExportResult:
        """*Blocking* (store + USB stick): run it on a worker thread."""
        try:
            # Essay edits still inside the writer's coalescing window go to disk first.
            self._writer.flush().result()
        except Exception as exc:  # a full disk must not stop the export of what is saved
            log.warning("flush before export failed, exporting the saved answers: %s", exc)
        now_server = self._server_time_ms()
        read = self._writer.call(lambda store: self._read(store, now_server)).result()
        return export_offline_file(folder=folder, snapshot=read.snapshot,
                                   session_key=read.session_key,
                                   server_box_key=self._server_box_key,
                                   wall_time_ms=self._wall_time_ms(), server_time_ms=now_server)

    def _read(self, store: AnswerStore, now_server: int | None) -> _Read:
        seq = int(store.get_meta(EXPORT_SEQ_META) or 0) + 1
        store.set_meta(EXPORT_SEQ_META, str(seq))
        snapshot = ExportSnapshot(
            identity=self._identity,
            revisions=store.revisions(),
            submission=self._submission(store, now_server),
            proctor_log=read_events(store),
            client_info=self._client_info,
            export_seq=seq,
            key_certificate=store.get_meta(CERTIFICATE_META) or "",
            marks=read_marks(store),
        )
        return _Read(snapshot=snapshot, session_key=ensure_session_key(store))

    def _submission(self, store: AnswerStore, now_server: int | None) -> SubmissionInfo:
        submitted = store.get_meta(SUBMITTED_AT_META)
        if submitted is not None:
            return SubmissionInfo(state="submitted", submitted_server_ms=int(submitted))
        if store.get_meta(SEALED_META) == "1":
            # Sealed without a confirmed submit: at the end time that is the automatic
            # submission; before it, the candidate pressed submit and the network failed.
            sealed_at = store.get_meta(SEALED_AT_META)
            end_ms = self._end_ms()
            if sealed_at is not None and int(sealed_at) < end_ms:
                # The candidate pressed 交卷 then, not when the proctor exported.
                return SubmissionInfo(state="submitted", submitted_server_ms=int(sealed_at))
            if now_server is not None and now_server >= end_ms:
                return SubmissionInfo(state="auto_submitted", submitted_server_ms=end_ms)
            return SubmissionInfo(state="submitted", submitted_server_ms=now_server)
        return SubmissionInfo(state="answering")
