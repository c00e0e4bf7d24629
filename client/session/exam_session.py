"""One candidate's exam on this PC: login -> preload -> unlock -> answer -> submit -> result.

Qt-free and UI-agnostic. Methods marked *blocking* do disk or network work and must be
called from a worker thread; the others return at once. Events reach the caller through
callbacks from worker threads (the UI re-posts them to its own thread).
"""

from __future__ import annotations

import base64
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from client.errors import UserFacingError
from client.i18n import _
from client.paper.model import Paper
from client.paper.package import PackageHeader, open_package, verify_package
from client.session.outbox import StoreOutbox
from client.session.server_keys import ServerKeys, load_pinned, pin
from client.store import (
    AnswerStore,
    DataDirReport,
    RecoveryReport,
    Revision,
    StoreWriter,
    check_data_dir,
    open_or_recover,
    open_store_key,
    store_paths,
)
from client.sync.api import ExamApi, LoginResult
from client.sync.clock import ServerClock
from client.sync.pusher import AnswerPusher, SyncStatus

log = logging.getLogger(__name__)

JsonValue = Any


class Phase(Enum):
    LOGGED_OUT = "logged_out"
    WAITING = "waiting"        # logged in, paper preloading or preloaded, not yet started
    RUNNING = "running"        # paper unlocked, answers accepted
    SEALED = "sealed"          # end time reached or candidate submitted; no more edits
    SUBMITTED = "submitted"    # the server confirmed the submission


@dataclass
class SessionEvents:
    """Callbacks; each may be called from any thread."""

    on_sync_status: Callable[[SyncStatus], None] = lambda status: None
    on_answer_saved: Callable[[Revision | BaseException], None] = lambda result: None
    on_phase: Callable[[Phase], None] = lambda phase: None


@dataclass
class _Attempt:
    login: LoginResult
    store_dir: Path
    package_path: Path
    header: PackageHeader | None = None
    paper: Paper | None = None
    answers: dict[str, JsonValue] = field(default_factory=dict)


def client_id_for(data_dir: Path) -> str:
    """A random id of this installation, kept in the data dir (identifies the PC to support)."""
    path = data_dir / "client-id"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = uuid.uuid4().hex
    path.write_text(value, encoding="utf-8")
    return value


class ExamSession:
    def __init__(self, *, api: ExamApi, clock: ServerClock, data_dir: Path, center_id: str,
                 configured_signing_key: str = "", sync_interval_s: float = 3.0,
                 events: SessionEvents | None = None) -> None:
        self.api = api
        self.clock = clock
        self.data_dir = data_dir
        self.center_id = center_id
        self.configured_signing_key = configured_signing_key
        self.sync_interval_s = sync_interval_s
        self.events = events or SessionEvents()
        self.phase = Phase.LOGGED_OUT
        self._lock = threading.Lock()
        self._attempt: _Attempt | None = None
        self._keys: ServerKeys | None = None
        self._writer: StoreWriter | None = None
        self._pusher: AnswerPusher | None = None
        self.recovery_report: RecoveryReport | None = None
        self.data_dir_report: DataDirReport | None = None

    # -- state --------------------------------------------------------------------------

    def _set_phase(self, phase: Phase) -> None:
        self.phase = phase
        self.events.on_phase(phase)

    @property
    def attempt(self) -> _Attempt:
        if self._attempt is None:
            raise RuntimeError("not logged in")
        return self._attempt

    @property
    def paper(self) -> Paper:
        paper = self.attempt.paper
        if paper is None:
            raise RuntimeError("paper not unlocked")
        return paper

    def answers(self) -> dict[str, JsonValue]:
        """The latest value per question as the UI last saved it (in memory)."""
        with self._lock:
            return dict(self.attempt.answers)

    def now_ms(self) -> int | None:
        return self.clock.now_ms()

    def ms_until_start(self) -> int | None:
        now = self.clock.now_ms()
        return None if now is None else self.attempt.login.exam.start_ms - now

    def ms_until_end(self) -> int | None:
        now = self.clock.now_ms()
        return None if now is None else self.attempt.login.exam.end_ms - now

    # -- blocking steps -----------------------------------------------------------------

    def login(self, *, username: str, password: str) -> LoginResult:
        """*Blocking.* Log in, pin the server keys, open the encrypted answer store."""
        result = self.api.login(username=username, password=password, center_id=self.center_id)
        keys = ServerKeys(**{name: value for name, value in self.api.server_keys().items()
                             if name in ("signing_public_key", "box_public_key")})
        self._keys = pin(self.data_dir, keys, configured_signing_key=self.configured_signing_key)
        exam_dir = self.data_dir / "exams" / result.exam.id
        exam_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir_report = check_data_dir(self.data_dir)
        store_key = open_store_key(data_dir=self.data_dir, exam_id=result.exam.id,
                                   candidate_id=result.candidate_id, username=username,
                                   password=password,
                                   server_box_public_key=self._keys.box_public_key,
                                   login_verified_online=True)
        paths = store_paths(self.data_dir, exam_id=result.exam.id,
                            candidate_id=result.candidate_id)
        store_dir = paths.directory

        def open_store() -> AnswerStore:
            store, report = open_or_recover(paths, key=store_key)
            self.recovery_report = report
            return store

        self._writer = StoreWriter(open_store)
        self._writer.ready().result()
        attempt = _Attempt(login=result, store_dir=store_dir,
                           package_path=exam_dir / "paper.exampkg")
        current: dict[str, Revision] = self._writer.call(
            lambda store: store.current_answers()).result()
        attempt.answers = {qid: rev.value for qid, rev in current.items()}
        self._attempt = attempt
        self._writer.call(lambda store: store.set_meta("login", _login_meta(result))).result()
        self._set_phase(Phase.WAITING)
        return result

    def preload(self, *, progress: Callable[[int, int], None] | None = None) -> PackageHeader:
        """*Blocking.* Download the signed package (resuming) and verify its signature."""
        attempt = self.attempt
        keys = self._require_keys()
        self.api.download_package(attempt.login.exam.id, attempt.package_path, progress=progress)
        data = attempt.package_path.read_bytes()
        try:
            header = verify_package(data, trusted_key=keys.signing_key,
                                    expected_exam_id=attempt.login.exam.id)
        except UserFacingError:
            # Keep the bad file for support, and make the next attempt download afresh.
            attempt.package_path.replace(attempt.package_path.with_suffix(".rejected"))
            etag = attempt.package_path.with_name(attempt.package_path.name + ".etag")
            etag.unlink(missing_ok=True)
            raise
        attempt.header = header
        return header

    def unlock(self) -> Paper:
        """*Blocking.* Get the paper key (released at the start time) and open the paper."""
        attempt = self.attempt
        keys = self._require_keys()
        paper_key = self._stored_paper_key()
        if paper_key is None:
            paper_key = self.api.paper_key(attempt.login.exam.id)
        data = attempt.package_path.read_bytes()
        paper = open_package(data, trusted_key=keys.signing_key,
                             expected_exam_id=attempt.login.exam.id, paper_key=paper_key)
        # The key lives in the encrypted store so that a restart can reopen the paper offline.
        encoded = base64.b64encode(paper_key).decode()
        self._require_writer().call(lambda store: store.set_meta("paper_key", encoded)).result()
        attempt.paper = paper
        self._start_pusher()
        self._set_phase(Phase.RUNNING)
        return paper

    def submit(self) -> int:
        """*Blocking.* Seal, upload every outstanding revision, then submit."""
        self.seal()
        pusher = self._pusher
        if pusher is not None:
            status = pusher.push_now()
            if status.pending:
                raise UserFacingError("submit.pending", _(
                    "还有 {n} 条答案未能上传，已保存在本机。网络恢复后会自动交卷，"
                    "也可由监考教师导出离线答卷").format(n=status.pending), pending=status.pending)
        answered = sum(1 for value in self.answers().values() if value not in (None, "", []))
        submitted_at = self.api.submit(answered_count=answered)
        self._require_writer().call(
            lambda store: store.set_meta("submitted_at_ms", str(submitted_at))).result()
        self._set_phase(Phase.SUBMITTED)
        return submitted_at

    def result(self) -> Any:
        """*Blocking.* The server's result (computing / scored / pending_review)."""
        return self.api.result()

    # -- non-blocking -------------------------------------------------------------------

    def save_answer(self, question_id: str, value: JsonValue, *, coalesce: bool = False) -> None:
        """Queue a durable save; ``events.on_answer_saved`` fires once it is on disk."""
        if self.phase is not Phase.RUNNING:
            raise UserFacingError("answer.sealed", _("考试已结束或已交卷，答案不能再修改"))
        with self._lock:
            self.attempt.answers[question_id] = value
        pusher = self._pusher

        def done(result: Revision | BaseException) -> None:
            self.events.on_answer_saved(result)
            if pusher is not None and isinstance(result, Revision):
                pusher.poke()

        self._require_writer().save(question_id=question_id, value=value,
                                    server_time_ms=self.clock.now_ms(), coalesce=coalesce,
                                    on_done=done)

    def plays(self) -> dict[str, int]:
        """*Blocking.* How often each listening clip has been played (kept across restarts)."""
        paper = self.paper
        names = [f"plays:{item.id}" for item in paper.items() if item.audio is not None]

        def read(store: AnswerStore) -> dict[str, int]:
            return {name[6:]: int(store.get_meta(name) or 0) for name in names}

        return self._require_writer().call(read).result()

    def record_play(self, question_id: str) -> int:
        """*Blocking.* Count one play of a clip before it starts; returns plays so far."""
        item = self.paper.item(question_id)
        if item.audio is None:
            raise ValueError(question_id)
        limit = item.audio.max_plays

        def bump(store: AnswerStore) -> int:
            plays = int(store.get_meta(f"plays:{question_id}") or 0)
            if plays >= limit:
                raise UserFacingError("audio.no_plays_left", _("本题音频播放次数已用完"))
            store.set_meta(f"plays:{question_id}", str(plays + 1))
            return plays + 1

        return self._require_writer().call(bump).result()

    def refund_play(self, question_id: str) -> None:
        """*Blocking.* Playback failed (no device): the play does not count."""

        def undo(store: AnswerStore) -> None:
            plays = int(store.get_meta(f"plays:{question_id}") or 0)
            store.set_meta(f"plays:{question_id}", str(max(0, plays - 1)))

        self._require_writer().call(undo).result()

    def seal(self) -> None:
        """No more edits (end time reached or the candidate submitted)."""
        if self.phase is Phase.RUNNING:
            self._set_phase(Phase.SEALED)
            writer = self._writer
            if writer is not None:
                writer.call(lambda store: store.set_meta("sealed", "1")).result()

    def close(self) -> None:
        if self._pusher is not None:
            self._pusher.stop()
            self._pusher = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # -- helpers ------------------------------------------------------------------------

    def _require_keys(self) -> ServerKeys:
        if self._keys is None:
            self._keys = load_pinned(self.data_dir)
        if self._keys is None:
            raise RuntimeError("server keys not pinned")
        return self._keys

    def _require_writer(self) -> StoreWriter:
        if self._writer is None:
            raise RuntimeError("store not open")
        return self._writer

    def _stored_paper_key(self) -> bytes | None:
        encoded = self._require_writer().call(lambda store: store.get_meta("paper_key")).result()
        return None if encoded is None else base64.b64decode(encoded)

    def _start_pusher(self) -> None:
        if self._pusher is not None:
            return
        outbox = StoreOutbox(self._require_writer())
        self._pusher = AnswerPusher(outbox=outbox, push=self.api.push_answers,
                                    now_ms=lambda: self.clock.now_ms() or 0,
                                    interval_s=self.sync_interval_s,
                                    on_status=self.events.on_sync_status)
        self._pusher.start()


def _login_meta(result: LoginResult) -> str:
    import json

    return json.dumps({"candidate_id": result.candidate_id, "name": result.candidate_name,
                       "student_no": result.student_no, "exam_id": result.exam.id,
                       "title": result.exam.title, "start_ms": result.exam.start_ms,
                       "end_ms": result.exam.end_ms}, ensure_ascii=False)
