"""Proctor mode for one logged-in session: verifiers from the package, the proctor log
in the encrypted store (synced when online), the offline answer file exporter, and the
candidate's state as the proctor panel shows it."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from client.errors import UserFacingError
from client.export.exporter import ExportResult
from client.export.offline_file import FileIdentity
from client.export.session_export import OfflineExporter
from client.i18n import _
from client.lockdown.away_time import away_totals
from client.proctor.candidate_status import CandidateStatus
from client.proctor.identity import identities_from_extra, proctor_face_check
from client.proctor.proctor_log import ProctorLog
from client.proctor.proctor_mode import ProctorMode, ProctorState
from client.proctor.store_sink import (
    SYNC_PATH,
    StoreEventSink,
    mark_synced,
    sync_request_body,
    unsynced_events,
)
from client.proctor.verifiers import verifiers_from_extra
from client.review.outbox import all_items

log = logging.getLogger(__name__)

SYNC_INTERVAL_S = 15.0


class ProctorServices:
    """Built once the package is preloaded (its signed header carries the verifiers)."""

    def __init__(self, *, session: Any, post_json: Callable[[str, dict[str, Any]], Any],
                 face_source_factory: Callable[[], Any] | None = None,
                 match_threshold: float = 0.363) -> None:
        self.session = session
        header = session.attempt.header
        if header is None:
            raise RuntimeError("proctor mode needs the preloaded package")
        self._post_json = post_json
        self.log = ProctorLog(sink=StoreEventSink(session.run_on_store),
                              server_time_ms=session.clock.now_ms)
        self._verifiers = verifiers_from_extra(header.extra)
        # Proctors by real name: masked ID numbers, and the exam's face match on unlock.
        self.cards, self.face_check = face_check_for(
            header, face_source_factory=face_source_factory, threshold=match_threshold)
        self.mode = ProctorMode(verifiers=self._verifiers, log=self.log,
                                face_check=self.face_check)
        login = session.attempt.login
        package_sha = hashlib.sha256(session.attempt.package_path.read_bytes()).hexdigest()
        self.exporter = OfflineExporter(
            writer=session.writer,
            identity=FileIdentity(exam_id=login.exam.id, candidate_id=login.candidate_id,
                                  candidate_no=login.student_no,
                                  client_id=session.api.client_id, package_sha256=package_sha,
                                  paper_id=getattr(header, "paper_id", "")),
            server_box_key=X25519PublicKey.from_public_bytes(session.server_keys.box_public_key),
            server_time_ms=session.clock.now_ms,
            # Asked at each export: extra time from the server moves it during the exam.
            exam_end_ms=lambda: session.attempt.login.exam.end_ms,
            wall_time_ms=lambda: time.time_ns() // 1_000_000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sync_loop, name="proctor-log-sync",
                                        daemon=True)

    def open_mode(self) -> ProctorMode:
        """The mode for this opening of the panel: a fresh one once the last was ended, so
        proctor mode can be entered any number of times in one run."""
        if self.mode.state is ProctorState.ENDED:
            self.mode = ProctorMode(verifiers=self._verifiers, log=self.log,
                                    face_check=self.face_check)
        return self.mode

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)

    def export(self, folder: Any) -> ExportResult:
        """*Blocking* (store + USB stick): the proctor panel runs it on a worker thread."""
        return self.exporter.export(folder)

    def candidate_status(self, *, integrity: str, identity: str,
                         focus_records: Sequence[tuple[str, Mapping[str, Any]]] = (),
                         ) -> CandidateStatus:
        """*Blocking* (reads the store). *focus_records*: the running window's focus
        losses as review records, for those not queued to the store (yet)."""
        session = self.session
        login = session.attempt.login
        revisions = session.run_on_store(lambda store: store.revisions()).result()
        recorded = session.run_on_store(lambda store: [
            (item.event_id, item.record) for item in all_items(store)
            if item.kind == "integrity"]).result()
        answers = session.answers()
        paper = session.attempt.paper
        total = paper.item_count if paper is not None else len(answers)
        submission = {"SUBMITTED": "submitted", "SEALED": "sealed",
                      "REVOKED": "revoked"}.get(session.phase.name, "answering")
        return CandidateStatus(
            candidate_no=login.student_no, candidate_name=login.candidate_name,
            exam_id=login.exam.id, exam_title=login.exam.title,
            answered=sum(1 for value in answers.values() if value not in (None, "", [])),
            question_total=total, revisions_saved=len(revisions),
            unsynced=sum(1 for rev in revisions if not rev.synced),
            synced_up_to_server_ms=session.last_synced_ms, submission=submission,
            integrity=integrity, identity=identity,
            file_importable=session.file_importable(),
            away=away_totals([*recorded, *focus_records]))

    def adopt(self, events: Sequence[tuple[str, Mapping[str, object]]]) -> None:
        """Keep actions logged before this session had a store (proctor mode on a held
        login: the authorization that let this PC in) in the store's proctor log, with
        their original times, so they are synced and exported like the rest."""
        for kind, payload in events:
            self.log.append_recorded(kind, payload)

    def sync_once(self) -> int:
        """Send unsynced proctor-log events; returns how many the server took."""
        pending = self.session.run_on_store(lambda store: unsynced_events(store)).result()
        if not pending:
            return 0
        self._post_json(SYNC_PATH, sync_request_body(pending,
                                                     client_id=self.session.api.client_id))
        last = pending[-1][0]
        self.session.run_on_store(lambda store: mark_synced(store, up_to_seq=last)).result()
        return len(pending)

    def _sync_loop(self) -> None:
        while not self._stop.wait(SYNC_INTERVAL_S):
            try:
                self.sync_once()
            except Exception as exc:  # offline: the log stays in the store for later
                log.info("proctor log not synced yet: %s", exc)


def face_check_for(header: Any, *, face_source_factory: Callable[[], Any] | None,
                   threshold: float) -> tuple[Any, Callable[[str, str], object] | None]:
    """The package's proctor cards, and the 1:1 face check on unlock when the exam asks
    for it (None otherwise): the same for every way into proctor mode."""
    cards, face_match = identities_from_extra(header.extra)
    check = (proctor_face_check(cards, face_source_factory, threshold=threshold)
             if face_match else None)
    return cards, check


class _MemorySink:
    """A held login has no answer store open yet: the actions go to the client log."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []

    def append(self, kind: str, payload: Mapping[str, object]) -> None:
        self.events.append((kind, dict(payload)))
        log.info("proctor action on a held login: %s %s", kind, dict(payload))


class HeldLoginProctor:
    """Proctor mode on the login page of a PC whose login the server holds (second login):
    the proctor proves who they are with the package's verifiers, then authorizes the
    login on this PC (the authorization code). Nothing to export: no answers here yet."""

    def __init__(self, *, header: Any, student_no: str, exam_id: str,
                 server_time_ms: Callable[[], int | None],
                 face_source_factory: Callable[[], Any] | None = None,
                 match_threshold: float = 0.363) -> None:
        self.log = ProctorLog(sink=_MemorySink(), server_time_ms=server_time_ms)
        self._verifiers = verifiers_from_extra(header.extra)
        # Letting a held login in is the proctor mode that matters most: when the exam asks
        # for the proctor's face on unlock, it is asked here too.
        self.cards, self.face_check = face_check_for(
            header, face_source_factory=face_source_factory, threshold=match_threshold)
        self.mode = ProctorMode(verifiers=self._verifiers, log=self.log,
                                face_check=self.face_check)
        self._student_no, self._exam_id = student_no, exam_id

    def open_mode(self) -> ProctorMode:
        if self.mode.state is ProctorState.ENDED:
            self.mode = ProctorMode(verifiers=self._verifiers, log=self.log,
                                    face_check=self.face_check)
        return self.mode

    @property
    def student_no(self) -> str:
        return self._student_no

    def recorded(self) -> list[tuple[str, dict[str, object]]]:
        """What the proctor did here, for the session's store once the login goes
        through (ProctorServices.adopt)."""
        sink = self.log.sink
        return list(sink.events) if isinstance(sink, _MemorySink) else []

    def export(self, folder: Any) -> ExportResult:
        raise UserFacingError("proctor.nothing_to_export", _(
            "该考生尚未在本机登录，本机没有可导出的答卷"))

    def candidate_status(self, *, integrity: str, identity: str,
                         focus_records: Sequence[tuple[str, Mapping[str, Any]]] = (),
                         ) -> CandidateStatus:
        # Before the exam: no focus losses to show (the lockdown starts with the exam).
        return CandidateStatus(
            candidate_no=self._student_no, candidate_name="", exam_id=self._exam_id,
            exam_title="", answered=0, question_total=0, revisions_saved=0, unsynced=0,
            synced_up_to_server_ms=None, submission="answering", integrity=integrity,
            identity=identity)

    def stop(self) -> None:
        """Nothing runs in the background."""


def no_verifiers_message() -> str:
    return _("试卷包中没有监考教师信息，无法进入监考模式，请联系主考/考点管理员添加监考教师")
