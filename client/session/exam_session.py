"""One candidate's exam on this PC: login -> preload -> unlock -> answer -> submit -> result.

Qt-free and UI-agnostic. Methods marked *blocking* do disk or network work and must be
called from a worker thread; the others return at once. Events reach the caller through
callbacks from worker threads (the UI re-posts them to its own thread).

The network is never required once the package is on this PC (docs/offline.md):

- ``login`` works online, or offline against the verifiers in a preloaded package when
  the server cannot be reached; a second login held by the server (409 ``second_login``)
  puts the session in ``Phase.AUTHORIZING`` until ``authorize_with_code`` (a proctor's
  code, checkable offline) or ``retry_login`` (after an admin approved it). The same PC
  coming back after a crash or restart presents its saved token and needs no proctor.
- ``unlock`` gets the paper key from the server, or raises ``unlock.start_code_needed``
  when offline; ``unlock_with_start_code`` then opens the paper with the proctor's code.
- answers are saved locally and pushed in the background; an offline session logs in to
  the server by itself when the network returns, and a PC taking over an attempt seeds
  its store from the server first.
- the answers are sealed at the server's end time even offline, and submitted as soon as
  the server can be reached; ``submit`` is safe to call again and again.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from client.errors import UserFacingError
from client.export.key_certificate import (
    CERTIFICATE_META,
    build_certificate,
    certificate_message,
)
from client.export.offline_file import raw_public_bytes
from client.export.session_export import (
    FLAGS_CHANGED_AT_META,
    FLAGS_META,
    FLAGS_SENT_META,
    ensure_session_key,
)
from client.export.session_key import registration_body
from client.i18n import _
from client.paper.model import Paper
from client.paper.package import PackageHeader, open_package, verify_package
from client.session import identity_hold, staff_messages
from client.session.authorization import CodeVerifiers
from client.session.codes import CodeFormatError, normalize_code
from client.session.identity_hold import HoldDecision
from client.session.offline_header import OfflineMaterial
from client.session.offline_login import (
    find_offline_login,
    offline_unavailable,
    package_path_for,
    preloaded_exam,
    preloaded_exams,
)
from client.session.outbox import StoreOutbox
from client.session.resume import (
    ResumeLogin,
    discard_ticket,
    exam_over,
    issue_ticket,
    open_ticket,
)
from client.session.server_keys import ServerKeys, load_pinned, pin
from client.session.staff_messages import StaffMessage
from client.session.supervisor import SessionSupervisor, SupervisorHooks
from client.session.username import clean_username
from client.store import (
    AnswerStore,
    DataDirReport,
    RecoveryReport,
    Revision,
    ServerAnswer,
    StoreWriter,
    WriterStatus,
    check_data_dir,
    open_or_recover,
    open_store_key,
    store_paths,
)
from client.store.errors import StoreKeyError
from client.store.recovery import RECOVERY_REVISION_GAP
from client.sync.api import (
    AttemptState,
    ExamApi,
    ExamInfo,
    HeartbeatReply,
    LoginResult,
    PushOutcome,
)
from client.sync.clock import ServerClock, load_snapshot, save_snapshot
from client.sync.errors import ServerRefused, ServerUnreachable
from client.sync.heartbeat import DEFAULT_INTERVAL_S as DEFAULT_HEARTBEAT_S
from client.sync.heartbeat import HeartbeatPoller
from client.sync.pusher import (
    DEFAULT_INTERVAL_S,
    AnswerPusher,
    Backoff,
    SyncStatus,
    interval_from_package,
)

T = TypeVar("T")
if TYPE_CHECKING:
    from client.camera.identity_check import IdentityResult

log = logging.getLogger(__name__)

JsonValue = Any
CLOCK_FILE = "server-clock.json"
TAKEN_OVER = ("authorization_code", "approved")  # server/second_login.py login kinds
SUBMITTED_STATUSES = ("submitted", "auto_submitted")
META_TOKEN = "resume_token"
META_SEALED = "sealed"
META_SUBMITTED = "submitted_at_ms"
META_PAPER_KEY = "paper_key"
META_KEY_REGISTERED = "session_key_registered"  # key id the server confirmed
META_FLAGS = FLAGS_META  # the questions the candidate marked, with the answers
META_FLAGS_SENT = FLAGS_SENT_META  # the marks the server confirmed
# A contact re-anchors the clock with a few ms of network jitter: only a larger move of
# the end estimate is a correction the UI must follow (its reminders).
END_ESTIMATE_TOLERANCE_MS = 1_000


class Phase(Enum):
    LOGGED_OUT = "logged_out"
    AUTHORIZING = "authorizing"  # second login held: a proctor's code or approval needed
    WAITING = "waiting"        # logged in, paper preloading or preloaded, not yet started
    RUNNING = "running"        # paper unlocked, answers accepted
    SEALED = "sealed"          # end time reached or candidate submitted; no more edits
    SUBMITTED = "submitted"    # the server confirmed the submission
    REVOKED = "revoked"        # another PC took the attempt over: this one stops answering


class StartStatus(Enum):
    """What the session knows about the exam's start while it waits (``Phase.WAITING``)."""

    UPCOMING = "upcoming"  # the start time is known and still ahead
    UNKNOWN = "unknown"    # no server time on this PC: the server or the start code decides
    REACHED = "reached"    # the start time has passed: the paper may be opened


@dataclass
class SessionEvents:
    """Callbacks; each may be called from any thread."""

    on_sync_status: Callable[[SyncStatus], None] = lambda status: None
    on_store_status: Callable[[WriterStatus], None] = lambda status: None
    on_answer_saved: Callable[[Revision | BaseException], None] = lambda result: None
    on_phase: Callable[[Phase], None] = lambda phase: None
    on_heartbeat: Callable[[HeartbeatReply], None] = lambda reply: None
    # Announced by the session's supervisor when it changes, so the UI never decides
    # from a clock of its own.
    on_start_status: Callable[[StartStatus], None] = lambda status: None
    on_end_estimate: Callable[[], None] = lambda: None  # clock corrected or end moved
    # New messages from the proctors' console (client/session/staff_messages.py), oldest
    # first; shown without taking the focus.
    on_messages: Callable[[list[StaffMessage]], None] = lambda messages: None
    # A proctor paused (True) or resumed (False) this candidate's exam clock.
    on_pause: Callable[[bool], None] = lambda paused: None
    # The console decided the face-check hold this PC waits on (approved or refused).
    on_identity_decision: Callable[[HoldDecision], None] = lambda decision: None


@dataclass(frozen=True)
class PendingAuthorization:
    """A second login the server holds (409 ``second_login``) until it is authorized."""

    username: str
    password: str = field(repr=False)
    candidate_id: str
    exam_id: str
    student_no: str
    request_id: int | None
    seen_ip: str
    resume_window_ends_ms: int | None
    verifiers: CodeVerifiers | None  # from the server's answer, to check a code offline


@dataclass
class _Attempt:
    login: LoginResult
    store_dir: Path
    package_path: Path
    header: PackageHeader | None = None
    paper: Paper | None = None
    answers: dict[str, JsonValue] = field(default_factory=dict)
    material: OfflineMaterial | None = None


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
                 configured_signing_key: str = "",
                 sync_interval_s: float = DEFAULT_INTERVAL_S,
                 heartbeat_interval_s: float = DEFAULT_HEARTBEAT_S,
                 sync_backoff: Backoff | None = None,
                 events: SessionEvents | None = None, keyring_backend: Any = None) -> None:
        self.api = api
        # keyring.backend.KeyringBackend for the store key and the resume ticket; None:
        # the system's (Windows Credential Manager).
        self.keyring_backend = keyring_backend
        self.resumed = False  # this login came from the resume ticket (--resume)
        self.sync_backoff = sync_backoff or Backoff()
        self.clock = clock
        self.data_dir = data_dir
        self.center_id = center_id
        self.configured_signing_key = configured_signing_key
        # Only for a package that does not carry the interval (an older server): the
        # exam's signed package sets it (client/sync/pusher.py, interval_from_package).
        self.sync_interval_s = sync_interval_s
        self.heartbeat_interval_s = heartbeat_interval_s
        self.events = events or SessionEvents()
        self.phase = Phase.LOGGED_OUT
        self.authorization: PendingAuthorization | None = None
        self.notice = ""  # a sentence the UI shows after login (e.g. submitted automatically)
        self._lock = threading.RLock()
        self._online_lock = threading.Lock()
        self._submit_lock = threading.Lock()
        self._attempt: _Attempt | None = None
        self._keys: ServerKeys | None = None
        self.last_sync_status: SyncStatus | None = None
        self._writer: StoreWriter | None = None
        self._writer_ids: tuple[str, str] | None = None
        self._pusher: AnswerPusher | None = None
        self._heartbeat: HeartbeatPoller[HeartbeatReply] | None = None
        self.last_heartbeat: HeartbeatReply | None = None  # the server's latest answer
        # Held after a failed face check: the hold the heartbeat asks about (0: none),
        # and the console's last decision (client/session/identity_hold.py).
        self._identity_hold = 0
        self._identity_held = False  # the paper stays closed until a proctor lets them in
        # The proctor at this PC let the candidate in (proctor mode): a paper key the
        # server still keeps is opened with the start code the proctor types here.
        self._identity_released_by_proctor = False
        self.identity_decision: HoldDecision | None = None
        self._supervisor: SessionSupervisor | None = None
        self._credentials: tuple[str, str] | None = None
        self._authorization_code = ""
        self._online = False
        self._start_code_needed = False
        self._announced_start: StartStatus | None = None
        self._announced_end: int | None = None  # monotonic ms of the end, as announced
        self._key_registration_closed = False  # the server said exam_ended
        self._messages: list[StaffMessage] = []  # from the console, oldest first
        self._messages_read = 0  # the highest message id the candidate closed
        # While a proctor has paused the attempt: the time that was left when it stopped
        # (constant: the candidate's time stands still); None when not paused.
        self._paused_left_ms: int | None = None
        self.recovery_report: RecoveryReport | None = None
        self.data_dir_report: DataDirReport | None = None

    # -- state --------------------------------------------------------------------------

    def _set_phase(self, phase: Phase) -> None:
        self.phase = phase
        if phase is Phase.RUNNING:
            self._issue_resume_ticket()
        elif phase in (Phase.SEALED, Phase.SUBMITTED, Phase.REVOKED):
            self.discard_resume_ticket()  # no way back into an exam that is over here
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

    @property
    def online(self) -> bool:
        """True while the session holds a server token (it may still be offline now)."""
        return self._online

    @property
    def offline_login(self) -> bool:
        return self._attempt is not None and self._attempt.login.offline

    @property
    def needs_start_code(self) -> bool:
        """``unlock`` found no network: the paper opens with the proctor's start code."""
        return self._start_code_needed and self.phase is Phase.WAITING

    @property
    def auto_submit_error(self) -> BaseException | None:
        """Why the automatic submission after sealing has not succeeded yet (or None)."""
        supervisor = self._supervisor
        return None if supervisor is None else supervisor.last_submit_error

    def answers(self) -> dict[str, JsonValue]:
        """The latest value per question as the UI last saved it (in memory)."""
        with self._lock:
            return dict(self.attempt.answers)

    def now_ms(self) -> int | None:
        return self.clock.now_ms()

    # None when the time is unknown or nobody is logged in: the window's timers may still
    # fire once after close() (it does not announce a phase), and used to crash on it.
    def ms_until_start(self) -> int | None:
        now, attempt = self.clock.now_ms(), self._attempt
        return None if now is None or attempt is None else attempt.login.exam.start_ms - now

    def ms_until_end(self) -> int | None:
        now, attempt, paused_left = self.clock.now_ms(), self._attempt, self._paused_left_ms
        if paused_left is not None and attempt is not None:
            return paused_left  # paused by a proctor: the clock stands still
        return None if now is None or attempt is None else attempt.login.exam.end_ms - now

    @property
    def paused(self) -> bool:
        """A proctor paused this candidate's exam (the server's heartbeat said so)."""
        return self._paused_left_ms is not None

    def start_status(self) -> StartStatus:
        left = self.ms_until_start()
        if left is None:
            return StartStatus.UNKNOWN
        return StartStatus.REACHED if left <= 0 else StartStatus.UPCOMING

    def _end_on_monotonic_ms(self) -> int | None:
        """When the exam ends on this PC's monotonic clock: constant while time passes,
        moved by a clock correction or a new end time (not announced while paused)."""
        if self._paused_left_ms is not None:
            return self._announced_end
        base, attempt = self.clock.server_ms_at_monotonic_zero(), self._attempt
        return None if base is None or attempt is None else attempt.login.exam.end_ms - base

    def _watch_time(self) -> None:
        """The supervisor's every tick: announce a change of the start status (while
        waiting) and a moved end estimate; the UI follows these, never a clock."""
        if self.phase is Phase.WAITING:
            status = self.start_status()
            if status is not self._announced_start:
                self._announced_start = status
                log.info("exam start status: %s", status.value)
                self.events.on_start_status(status)
        end = self._end_on_monotonic_ms()
        if end is not None and (self._announced_end is None
                                or abs(end - self._announced_end) > END_ESTIMATE_TOLERANCE_MS):
            moved = self._announced_end is not None
            self._announced_end = end
            if moved:
                log.info("end of the exam re-estimated (clock corrected or end moved)")
            self.events.on_end_estimate()

    # -- login --------------------------------------------------------------------------

    def login(self, *, username: str, password: str) -> LoginResult:
        """*Blocking.* Log in online, or offline against a preloaded package.

        Raises ServerRefused (``second_login``: see ``authorization``), or UserFacingError.
        A typed login replaces any resume ticket on this PC (the next one is issued when
        this login's paper opens).
        """
        self._reset()
        self.discard_resume_ticket()
        return self._login_as(username, password)

    def resume(self) -> LoginResult:
        """*Blocking.* Back into the exam that was running on this PC before a crash, with
        the login sealed in its resume ticket (client/session/resume.py): no password.

        Raises UserFacingError ``resume.none`` / ``resume.ended`` / ``resume.unavailable``
        (then the login page asks for the password; the answers are untouched), or what
        ``login`` raises.
        """
        self._reset()
        ticket, login = open_ticket(self.data_dir, client_id=client_id_for(self.data_dir),
                                    now_ms=self._known_server_time(),
                                    keyring_backend=self.keyring_backend)
        try:
            result = self._login_as(login.username, login.password)
        except ServerRefused as exc:
            if exc.code != "second_login":  # e.g. the password was reset on the server
                self.discard_resume_ticket()
            raise
        ours = (result.exam.id, result.candidate_id) == (ticket.exam_id, ticket.candidate_id)
        if not ours or self.phase not in (Phase.WAITING, Phase.RUNNING):
            # Submitted or sealed meanwhile (the end time, the server's automatic
            # submission), or the server now puts this login in another exam: no
            # automatic way in; the candidate logs in and sees the result.
            log.warning("resume refused: %s", "exam over" if ours else "another exam")
            self.discard_resume_ticket()
            self._reset(announce=False)
            raise exam_over()
        with self._lock:
            self._authorization_code = login.authorization_code
        self.resumed = True
        log.warning("resumed the exam %s of %s after a restart (no password asked)",
                    result.exam.id, result.candidate_id)
        return result

    def discard_resume_ticket(self) -> None:
        """No automatic way back: the exam ended or was left on purpose (or a new login)."""
        try:
            discard_ticket(self.data_dir, keyring_backend=self.keyring_backend)
        except OSError as exc:  # a ticket that cannot be deleted still expires at the end
            log.error("resume ticket not deleted: %s", exc)

    def _issue_resume_ticket(self) -> None:
        attempt, credentials = self._attempt, self._credentials
        if attempt is None or credentials is None:
            return
        username, password = credentials
        try:
            issue_ticket(self.data_dir, exam_id=attempt.login.exam.id,
                         candidate_id=attempt.login.candidate_id,
                         end_ms=attempt.login.exam.end_ms,
                         client_id=client_id_for(self.data_dir),
                         login=ResumeLogin(username=username, password=password,
                                           authorization_code=self._authorization_code),
                         keyring_backend=self.keyring_backend)
        except OSError as exc:  # the exam goes on; a restart will ask for the password
            log.error("resume ticket not written: %s", exc)

    def _known_server_time(self) -> int | None:
        """Server time from this boot's saved clock anchor; None after a reboot (a guess
        from the PC clock must not refuse a resume: the login decides then)."""
        snapshot = load_snapshot(self.data_dir / CLOCK_FILE)
        if snapshot is None:
            return None
        probe = ServerClock()
        probe.restore_snapshot(snapshot)
        return None if probe.estimated else probe.now_ms()

    def _login_as(self, username: str, password: str) -> LoginResult:
        username = clean_username(username)
        try:
            result = self._server_login(username, password)
        except ServerRefused as exc:
            if exc.code == "second_login":
                self._hold(exc, username=username, password=password)
            raise
        except ServerUnreachable as exc:
            log.warning("server unreachable at login (%s): trying the preloaded package",
                        exc.detail.get("reason"))
            return self._login_offline(username, password)
        return self._begin_online(result, username=username, password=password)

    def retry_login(self) -> LoginResult:
        """*Blocking.* Ask again for a held second login (an admin may have approved it)."""
        pending = self._pending()
        result = self._server_login(pending.username, pending.password)
        return self._begin_online(result, username=pending.username, password=pending.password)

    def authorize_with_code(self, code: str) -> LoginResult:
        """*Blocking.* Continue a held second login with a proctor's authorization code.

        The code is checked on this PC first (package header or the server's answer), so
        a wrong or expired one is refused even with no network; with the network it is
        also sent to the server, which checks it again and lets this PC in.
        """
        pending = self._pending()
        try:
            typed = normalize_code(code)
        except CodeFormatError:
            raise _code_refused() from None
        verifiers = self._code_verifiers(pending)
        window = None if verifiers is None else verifiers.check(typed, now_ms=self.clock.now_ms())
        if verifiers is not None and window is None:
            raise _code_refused()
        try:
            result = self._server_login(pending.username, pending.password, code=typed)
        except ServerUnreachable:
            if window is None:
                raise
            log.warning("authorization code checked offline; continuing without the server")
            self._authorization_code = typed
            return self._login_offline(pending.username, pending.password)
        self._authorization_code = typed
        return self._begin_online(result, username=pending.username, password=pending.password)

    def reconnect(self) -> bool:
        """*Blocking.* An offline session tries to log in to the server now; True if online.

        Raises ServerRefused when the server answers but refuses (e.g. ``second_login``).
        """
        return self._ensure_online()

    def _pending(self) -> PendingAuthorization:
        if self.authorization is None:
            raise RuntimeError("no second login is waiting for authorization")
        return self.authorization

    def _server_login(self, username: str, password: str, *, code: str = "") -> LoginResult:
        """POST /login; a held second login is retried once with this PC's saved token."""
        attempt = self._attempt
        # A late sync after the end names its exam (the candidate may sit the next one).
        extra = {"exam_id": attempt.login.exam.id} if attempt is not None else None
        try:
            return self.api.login(username=username, password=password,
                                  center_id=self.center_id, authorization_code=code,
                                  extra=extra)
        except ServerRefused as exc:
            if exc.code != "second_login":
                raise
            token = self._saved_token(exc.detail, username=username, password=password)
            if not token:
                raise
            log.info("logging in again on the same PC with its saved token")
            return self.api.login(username=username, password=password,
                                  center_id=self.center_id, resume_token=token,
                                  authorization_code=code, extra=extra)

    def _saved_token(self, detail: Mapping[str, object], *, username: str,
                     password: str) -> str | None:
        exam_id, candidate_id = detail.get("exam_id"), detail.get("candidate_id")
        if exam_id is None or candidate_id is None:
            return None
        paths = store_paths(self.data_dir, exam_id=str(exam_id), candidate_id=str(candidate_id))
        if not (paths.sidecar.exists() or paths.sidecar_copy.exists()):
            return None
        # The server just accepted this password (the hold comes after the password check).
        writer = self._open_store(str(exam_id), str(candidate_id), username=username,
                                  student_no=str(detail.get("student_no", "")),
                                  password=password, verified_online=True)
        token = writer.call(lambda store: store.get_meta(META_TOKEN)).result()
        return token or None

    def _hold(self, exc: ServerRefused, *, username: str, password: str) -> None:
        detail = exc.detail
        verifiers = None
        doc = detail.get("authorization")
        if isinstance(doc, dict):
            try:
                verifiers = CodeVerifiers.from_json(doc, exam_id=str(detail.get("exam_id")),
                                                    candidate_id=str(detail.get("candidate_id")))
            except ValueError as error:
                log.warning("authorization verifiers in the server's answer unusable: %s",
                            error)
        request_id, ends = detail.get("request_id"), detail.get("resume_window_ends_ms")
        self.authorization = PendingAuthorization(
            username=username, password=password, candidate_id=str(detail.get("candidate_id")),
            exam_id=str(detail.get("exam_id")), student_no=str(detail.get("student_no", "")),
            request_id=request_id if isinstance(request_id, int) else None,
            seen_ip=str(detail.get("seen_ip", "")),
            resume_window_ends_ms=ends if isinstance(ends, int) else None,
            verifiers=verifiers)
        self._set_phase(Phase.AUTHORIZING)

    def _code_verifiers(self, pending: PendingAuthorization) -> CodeVerifiers | None:
        keys = self._keys or load_pinned(self.data_dir)
        if keys is not None:
            exam = preloaded_exam(self.data_dir, keys, pending.exam_id)
            if exam is not None:
                found = exam.material.code_verifiers(pending.candidate_id)
                if found is not None:
                    return found
        return pending.verifiers

    def _begin_online(self, result: LoginResult, *, username: str,
                      password: str) -> LoginResult:
        self.data_dir_report = check_data_dir(self.data_dir)
        package_path = package_path_for(self.data_dir, result.exam.id)
        package_path.parent.mkdir(parents=True, exist_ok=True)
        unreachable: ServerUnreachable | None = None
        try:
            keys: ServerKeys | None = self._pin_server_keys()
        except ServerUnreachable as exc:  # cut right after the login answer
            keys, unreachable = load_pinned(self.data_dir), exc
        writer = self._open_store(result.exam.id, result.candidate_id, username=username,
                                  student_no=result.student_no, password=password,
                                  verified_online=True,
                                  box_key=keys.box_public_key if keys else None)
        # The token first: if anything below fails, logging in again on this PC is a
        # resume with this token, not a second login that needs a proctor.
        writer.call(lambda store: _remember_login(store, result)).result()
        if keys is None:
            assert unreachable is not None
            raise unreachable
        attempt = _Attempt(login=result, store_dir=store_paths(
            self.data_dir, exam_id=result.exam.id, candidate_id=result.candidate_id).directory,
            package_path=package_path)
        with self._lock:
            self._attempt = attempt
            self._credentials = (username, password)
            self._online = True
            self.authorization = None
        self._seed_from_server(take_over=result.login_kind in TAKEN_OVER)
        self._register_session_key()
        self._save_clock()
        self._enter_after_login(result)
        return result

    def _login_offline(self, username: str, password: str) -> LoginResult:
        keys = self._keys or load_pinned(self.data_dir)
        if keys is None:
            raise offline_unavailable()
        self._keys = keys
        exam, profile = find_offline_login(preloaded_exams(self.data_dir, keys),
                                           username=username, password=password,
                                           now_ms=self.clock.now_ms())
        facts = exam.material.exam
        result = LoginResult(
            token="", candidate_id=profile.candidate_id, candidate_name=profile.name,
            student_no=profile.student_no,
            exam=ExamInfo(id=facts.exam_id, title=facts.title, start_ms=facts.start_ms,
                          end_ms=facts.end_ms, package_etag="", package_size=0),
            seen_ip="", raw={}, login_kind="offline")
        self.data_dir_report = check_data_dir(self.data_dir)
        writer = self._open_store(facts.exam_id, profile.candidate_id, username=username,
                                  student_no=profile.student_no, password=password,
                                  verified_online=False, box_key=keys.box_public_key)
        self._restore_clock(writer)
        remembered = writer.call(lambda store: _remembered_end_ms(store, facts.exam_id)).result()
        if remembered is not None and remembered > facts.end_ms:
            # Extra time the server gave this attempt before the network went (the
            # package carries the exam's end only).
            result = replace(result, exam=replace(result.exam, end_ms=remembered))
        attempt = _Attempt(login=result, store_dir=store_paths(
            self.data_dir, exam_id=facts.exam_id, candidate_id=profile.candidate_id).directory,
            package_path=exam.package_path, header=exam.header, material=exam.material)
        with self._lock:
            self._attempt = attempt
            self._credentials = (username, password)
            self._online = False
            self.authorization = None
        now = self.clock.now_ms()

        def mark(store: AnswerStore) -> None:
            store.set_meta("offline_login", json.dumps(
                {"server_time_ms": now, "exam_id": facts.exam_id}))
            # Another PC may hold later revisions of this attempt that this PC cannot
            # see now: answers given here (later in time) must outrank them.
            store.raise_revision_floor(store.max_revision() + RECOVERY_REVISION_GAP)

        writer.call(mark).result()
        self._load_answers()
        log.warning("offline login of candidate %s for %s", profile.candidate_id, facts.exam_id)
        self._enter_after_login(result)
        return result

    def _enter_after_login(self, result: LoginResult) -> None:
        writer = self._require_writer()
        sealed, submitted, messages, read = writer.call(lambda store: (
            store.get_meta(META_SEALED), store.get_meta(META_SUBMITTED),
            store.get_meta(staff_messages.META_MESSAGES),
            store.get_meta(staff_messages.META_READ))).result()
        with self._lock:
            self._messages = staff_messages.loads(messages)
            self._messages_read = int(read) if read and read.isdigit() else 0
        self._start_supervisor()
        if submitted is not None:
            self._set_phase(Phase.SUBMITTED)
            return
        self._start_heartbeat()
        if result.attempt_status in SUBMITTED_STATUSES and not result.may_write:
            # Submitted, and this PC did not hold the attempt: it only reads the result.
            # What it holds locally (if anything) leaves by the proctor's file.
            at = str(result.submitted_at_ms or result.exam.end_ms)

            def mark_submitted(store: AnswerStore) -> None:
                store.set_meta(META_SEALED, "1")
                store.set_meta(META_SUBMITTED, at)

            writer.call(mark_submitted).result()
            self._set_phase(Phase.SUBMITTED)
            return
        if result.attempt_status in SUBMITTED_STATUSES:
            # Submitted by the server (resume window over, or the end time passed while
            # this PC was away). Answer no more; what this PC still holds is delivered
            # by the automatic submission (accepted if given before the end).
            if result.login_kind == "resume_window_over":
                self.notice = _("距上次与服务器联系已超过规定时间，试卷已由服务器自动提交，"
                                "以服务器上保存的答案为准")
            else:
                self.notice = _("试卷已由服务器自动提交")
            sealed = "1"
            writer.call(lambda store: store.set_meta(META_SEALED, "1")).result()
        self._set_phase(Phase.SEALED if sealed == "1" else Phase.WAITING)

    # -- online upgrade (offline sessions, expired tokens) -------------------------------

    def _ensure_online(self) -> bool:
        """Log in to the server with the session's credentials if not yet; True if online."""
        with self._online_lock:
            if self._online and self.api.token:
                return True
            if self._credentials is None or self._attempt is None:
                return False
            username, password = self._credentials
            try:
                result = self._server_login(username, password, code=self._authorization_code)
            except ServerUnreachable as exc:
                log.info("background login: server unreachable (%s)", exc.detail.get("reason"))
                return False
            attempt = self.attempt
            if (result.candidate_id, result.exam.id) != (attempt.login.candidate_id,
                                                         attempt.login.exam.id):
                self.api.token = None
                raise UserFacingError("login.other_attempt", _(
                    "服务器上的考试与本机离线登录的考试不一致，请联系监考教师"),
                    server_exam=result.exam.id, local_exam=attempt.login.exam.id)
            self._pin_server_keys()
            writer = self._require_writer()
            writer.call(lambda store: _remember_login(store, result)).result()
            with self._lock:
                attempt.login = result
                self._online = True
            log.info("session online again (login kind %s)", result.login_kind)
        self._seed_from_server(take_over=result.login_kind in TAKEN_OVER)
        self._register_session_key()
        self._save_clock()
        return True

    def _push_batch(self, batch: list[dict[str, Any]]) -> PushOutcome:
        if not self._ensure_online():
            raise ServerUnreachable("offline login: the server has not been reached yet")
        self._ensure_key_registered()
        try:
            return self.api.push_answers(batch)
        except ServerRefused as exc:
            if exc.code == "revoked":
                self._on_revoked()
            if exc.code != "unauthorized":
                raise
            log.warning("token refused: logging in again")
            with self._lock:
                self._online = False
                self.api.token = None
            if not self._ensure_online():
                raise ServerUnreachable("server lost while logging in again") from exc
            return self.api.push_answers(batch)

    def _beat(self) -> HeartbeatReply:
        """One heartbeat (on the poller's thread): logs in first after an offline login;
        then the candidate's marks, if they changed."""
        reply = self._beat_once()
        self._send_flags()
        return reply

    def _beat_once(self) -> HeartbeatReply:
        if not self._ensure_online():
            raise ServerUnreachable("offline login: the server has not been reached yet")
        status = self.last_sync_status
        with self._lock:
            seen = self._messages[-1].id if self._messages else 0
            read = self._messages_read
            hold = self._identity_hold
        arguments = {"focus_losses": 0, "pending": 0 if status is None else status.pending,
                     "messages_seen": seen, "messages_read": read, "identity_hold": hold}
        try:
            return self.api.heartbeat(**arguments)
        except ServerRefused as exc:
            if exc.code == "revoked":
                self._on_revoked()
            if exc.code != "unauthorized":
                raise
            with self._lock:
                self._online = False
                self.api.token = None
            if not self._ensure_online():
                raise ServerUnreachable("server lost while logging in again") from exc
            return self.api.heartbeat(**arguments)

    def _on_heartbeat(self, reply: HeartbeatReply) -> None:
        if not reply.paused:
            self._adopt_end(reply.end_ms)  # first: a resume must not meet the old end
        self._apply_pause(reply)
        self._receive_messages(reply.messages)
        self._apply_identity_decision(reply.identity_hold)
        self.last_heartbeat = reply
        self.events.on_heartbeat(reply)

    def _apply_pause(self, reply: HeartbeatReply) -> None:
        """A proctor's pause, from the server's authenticated heartbeat answer only: the
        countdown stands at what was left, no answer is taken and the seal waits; the
        resume brings the end moved by the time paused (server/attempt_time.py)."""
        with self._lock:
            was_paused = self._paused_left_ms is not None
            if reply.paused and self.phase in (Phase.WAITING, Phase.RUNNING):
                self._paused_left_ms = max(0, reply.end_ms - reply.server_time_ms)
            else:
                self._paused_left_ms = None
            now_paused = self._paused_left_ms is not None
        if now_paused != was_paused:
            log.warning("exam %s by a proctor", "paused" if now_paused else "resumed")
            self.events.on_pause(now_paused)
            supervisor = self._supervisor
            if supervisor is not None:
                supervisor.poke()

    # -- held after a failed face check --------------------------------------------------

    def request_identity_hold(self, result: IdentityResult, *, event_id: str) -> int:
        """*Blocking* (network). The face check failed as often as allowed: ask the console
        for a proctor's decision with the check's result and frames (*event_id*: the same
        result's id in the review outbox). The heartbeat asks about the hold from now on
        (at once, then at its interval); the decision arrives as ``on_identity_decision``.
        Raises UserFacingError when the server cannot be reached or refuses."""
        if not self._ensure_online():
            raise ServerUnreachable("offline login: the server has not been reached yet")
        body = identity_hold.hold_request(result, event_id=event_id,
                                          client_id=self.api.client_id,
                                          at_ms=self.clock.now_ms())
        with self._lock:
            self._identity_held = True  # held from now on, also if the request fails
        hold_id = self.api.request_identity_hold(body)
        with self._lock:
            self._identity_hold = hold_id
            self.identity_decision = None
        log.warning("held after a failed face check: console hold %d", hold_id)
        heartbeat = self._heartbeat
        if heartbeat is not None:
            heartbeat.beat_soon()
        return hold_id

    def _apply_identity_decision(self, raw: Mapping[str, Any] | None) -> None:
        """On the heartbeat's thread: the console's word on the hold this PC waits on,
        only from the authenticated answer and only for that hold."""
        with self._lock:
            decision = identity_hold.parse_decision(raw, waiting_on=self._identity_hold)
            if decision is None or not decision.decided:
                return
            self._identity_hold = 0  # decided: no more asking about it
            self.identity_decision = decision
            if decision.approved:
                self._identity_held = False
        log.warning("console decided face-check hold %d: %s", decision.hold_id, decision.status)
        self.events.on_identity_decision(decision)

    @property
    def identity_held(self) -> bool:
        """Held after a failed face check, not yet let in (the paper does not open)."""
        with self._lock:
            return self._identity_held

    def release_identity_hold(self, *, proctor: str) -> None:
        """The proctor at this PC checked the ID card by hand (proctor mode) and let the
        candidate in; the console's hold, if any, is no longer waited on."""
        with self._lock:
            was_held, self._identity_held, self._identity_hold = self._identity_held, False, 0
            self._identity_released_by_proctor = True
        if was_held:
            log.warning("face-check hold released on this PC by proctor %s", proctor)

    def _server_holds_identity(self, detail: Mapping[str, Any]) -> None:
        """The server keeps the paper key while the attempt's face-check hold is pending
        or refused (a restart or a wiped data folder forgets the hold; the server does
        not). Pending: held again and the heartbeat asks about that hold. Released here by
        the proctor in proctor mode: the proctor opens the paper with the start code."""
        hold_id = detail.get("hold_id")
        pending = detail.get("hold_status") == identity_hold.PENDING
        with self._lock:
            released_here = self._identity_released_by_proctor
            if not released_here:
                self._identity_held = True
                if pending and isinstance(hold_id, int) and not isinstance(hold_id, bool):
                    self._identity_hold = hold_id
        if released_here:
            self._start_code_needed = True
            raise UserFacingError("unlock.start_code_needed", _(
                "监控台尚未批准入场。请监考教师在本机输入本场考试的开考码以打开试卷"))
        log.warning("the server holds the paper: face-check hold %s %s", hold_id,
                    detail.get("hold_status"))
        heartbeat = self._heartbeat
        if heartbeat is not None and pending:
            heartbeat.beat_soon()
        self._refuse_while_identity_held()

    def _refuse_while_identity_held(self) -> None:
        if self.identity_held:
            raise UserFacingError("identity.held", _(
                "人脸核验未通过，须经监考老师核验身份后才能进入考试"))

    # -- messages from the console --------------------------------------------------------

    def messages(self) -> list[StaffMessage]:
        """Every message of this attempt so far, oldest first (the candidate's list)."""
        with self._lock:
            return list(self._messages)

    def unread_messages(self) -> list[StaffMessage]:
        with self._lock:
            return [m for m in self._messages if m.id > self._messages_read]

    def mark_messages_read(self) -> None:
        """The candidate closed the notice: the next heartbeat tells the console 已读."""
        with self._lock:
            if not self._messages or self._messages[-1].id <= self._messages_read:
                return
            self._messages_read = read = self._messages[-1].id
        writer = self._writer
        if writer is not None:
            writer.call(lambda store: store.set_meta(staff_messages.META_READ, str(read)))
        heartbeat = self._heartbeat
        if heartbeat is not None:
            heartbeat.beat_soon()

    def _receive_messages(self, received: list[Mapping[str, Any]]) -> None:
        """On the heartbeat's thread: keep the new messages (store first, so the next
        beat's 已送达 is true after a crash too), then announce them."""
        with self._lock:
            fresh = staff_messages.new_messages(self._messages, received)
            if not fresh:
                return
            self._messages = staff_messages.keep_newest([*self._messages, *fresh])
            text = staff_messages.dumps(self._messages)
        writer = self._writer
        if writer is not None:
            writer.call(lambda store: store.set_meta(staff_messages.META_MESSAGES, text)).result()
        log.info("%d message(s) from the console", len(fresh))
        self.events.on_messages(fresh)

    def _adopt_end(self, end_ms: int) -> None:
        """The server's end of this attempt (extra time, pauses: server/attempt_time.py),
        from its authenticated heartbeat answer: the countdown, the seal at the end, the
        offline file's submission time and the reminders follow it from now on.

        Only a server answer moves the end; nothing on this PC does. It is kept in the
        store with the login, so a restart without the network keeps the candidate's time
        (the server still refuses what is stamped after its own end).
        """
        with self._lock:
            attempt = self._attempt
            if attempt is None or attempt.login.exam.end_ms == end_ms:
                return
            before = attempt.login.exam.end_ms
            attempt.login = replace(attempt.login,
                                    exam=replace(attempt.login.exam, end_ms=end_ms))
            login = attempt.login
        log.warning("end of the exam moved by the server: %+d s", (end_ms - before) // 1000)
        writer = self._writer
        if writer is not None:
            writer.call(lambda store: _remember_login(store, login))
        if self.phase is Phase.RUNNING:
            self._issue_resume_ticket()  # a restart in the extra time resumes, too
        supervisor = self._supervisor
        if supervisor is not None:
            supervisor.poke()  # announce the moved end (reminders) now

    def _seed_from_server(self, *, take_over: bool) -> None:
        """Bring the server's answers into the local store (never lowering a revision).

        *take_over*: this PC continues an attempt that another PC answered. Its new
        revisions jump past anything the other PC may still deliver late, so that the
        later answers (given here) win the merge on the server.
        """
        fetched = True
        try:
            state = self.api.attempt_state()
        except (ServerUnreachable, ServerRefused) as exc:
            log.warning("could not fetch the server's answers: %s", exc)
            state, fetched = AttemptState(answers=[], flags=None), False
        answers = state.answers
        writer = self._require_writer()

        def seed(store: AnswerStore) -> int:
            imported = store.import_server_answers(answers)
            if take_over:
                highest = max([store.max_revision(), *(a.revision for a in answers)])
                store.raise_revision_floor(highest + RECOVERY_REVISION_GAP)
            if state.flags is not None and (take_over or store.get_meta(META_FLAGS) is None):
                # The candidate's marks come along to this PC (on a same-PC login the
                # store's own marks are as new as the server's, or newer).
                encoded = json.dumps(sorted(state.flags))
                store.set_meta(META_FLAGS, encoded)
                store.set_meta(META_FLAGS_SENT, encoded)
                store.set_meta(FLAGS_CHANGED_AT_META, "")  # the server's, not changed here
            return len(imported)

        count = writer.call(seed).result()
        if count or take_over:
            log.info("seeded %d answers from the server (take over: %s)", count, take_over)
        recovery = self.recovery_report
        if fetched and recovery is not None and recovery.recovered \
                and not recovery.server_checked:
            self.recovery_report = recovery.checked_with_server(imported=count)
        self._load_answers()

    def _server_answers(self) -> list[ServerAnswer]:
        """For store recovery: what the server holds (only with a token)."""
        if not self.api.token:
            raise ServerUnreachable("offline")
        return self.api.attempt_answers()

    def _register_session_key(self) -> bool:
        """Register this session's offline-file signing key with the server (idempotent).

        True once the server confirmed it (kept in the store: a file from this PC will be
        importable). Failures are logged and retried (``_ensure_key_registered``); the
        paper key is not asked for before it succeeded (``unlock``).
        """
        attempt = self.attempt
        writer = self._require_writer()
        try:
            key = writer.call(ensure_session_key).result()
            answer = self.api.register_session_key(registration_body(
                key, exam_id=attempt.login.exam.id, candidate_id=attempt.login.candidate_id,
                client_id=self.api.client_id))
        except UserFacingError as exc:
            if isinstance(exc, ServerRefused) and exc.code == "revoked":
                self._on_revoked()
            if isinstance(exc, ServerRefused) and exc.code == "exam_ended":
                # For good: this PC's files carry the key's certificate instead.
                self._key_registration_closed = True
            log.warning("offline-file key not registered (%s); retried", exc.code)
            return False
        key_id = str(answer.get("key_id", "")) if isinstance(answer, Mapping) else ""
        writer.call(lambda store: store.set_meta(META_KEY_REGISTERED, key_id or "1")).result()
        return True

    def _ensure_key_registered(self) -> None:
        """Before the end, a session online without a confirmed key registers it now."""
        left = self.ms_until_end()
        if (self._key_registration_closed or not self.api.token
                or (left is not None and left <= 0) or self.key_registered()):
            return
        self._register_session_key()

    def key_registered(self) -> bool:
        """*Blocking* (store read). The server confirmed this PC's offline-file key."""
        writer = self._writer
        if writer is None:
            return False
        return writer.call(lambda store: store.get_meta(META_KEY_REGISTERED)).result() is not None

    def file_importable(self) -> bool:
        """*Blocking.* An offline file exported now will be accepted by the server: its key
        is registered, or the file carries a certificate (client/export/key_certificate.py)."""
        writer = self._writer
        if writer is None:
            return False
        registered, certified = writer.call(lambda store: (
            store.get_meta(META_KEY_REGISTERED), store.get_meta(CERTIFICATE_META))).result()
        return registered is not None or certified is not None

    def _certify_session_key(self, paper_key: bytes) -> None:
        """With the paper open and the password in memory, make the key's certificate, so
        that a file from this PC is importable even if it never reaches the server."""
        credentials, keys = self._credentials, self._keys or load_pinned(self.data_dir)
        if credentials is None or keys is None:
            return
        attempt = self.attempt
        client_id = self.api.client_id
        box = X25519PublicKey.from_public_bytes(keys.box_public_key)

        def certify(store: AnswerStore) -> None:
            if store.get_meta(CERTIFICATE_META) is not None:
                return
            key = ensure_session_key(store)
            message = certificate_message(
                exam_id=attempt.login.exam.id, candidate_id=attempt.login.candidate_id,
                client_id=client_id, session_public_key=raw_public_bytes(key.public_key()))
            store.set_meta(CERTIFICATE_META, build_certificate(
                message=message, password=credentials[1], paper_key=paper_key,
                server_box_key=box))

        self._require_writer().call(certify).result()

    def _on_revoked(self) -> None:
        """The server says another PC holds the attempt now (take-over): stop answering.

        The local answers stay in the store for the proctor's file; no background login
        (it would only be held as a second login).
        """
        with self._lock:
            if self.phase in (Phase.REVOKED, Phase.LOGGED_OUT):
                return
            self._online = False
            self._credentials = None
            self.api.token = None
        pusher = self._pusher
        if pusher is not None:
            pusher.pause(True)  # may run on the pusher's own thread: it cannot join itself
        log.warning("token revoked: the attempt continues on another PC")
        self._set_phase(Phase.REVOKED)

    # -- paper --------------------------------------------------------------------------

    def preload(self, *, progress: Callable[[int, int], None] | None = None) -> PackageHeader:
        """*Blocking.* Download the signed package (resuming) and verify its signature.

        Offline, a package already on this PC is verified and used as it is.
        """
        attempt = self.attempt
        keys = self._require_keys()
        if self._online:
            try:
                self.api.download_package(attempt.login.exam.id, attempt.package_path,
                                          progress=progress)
            except ServerUnreachable:
                if not attempt.package_path.exists():
                    raise
                log.warning("server unreachable: using the package already on this PC")
        elif not attempt.package_path.exists():
            raise offline_unavailable()
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
        attempt.material = OfflineMaterial.from_extra(header.extra,
                                                      exam_id=attempt.login.exam.id)
        return header

    def unlock(self) -> Paper:
        """*Blocking.* Get the paper key (released at the start time) and open the paper.

        Offline, raises UserFacingError ``unlock.start_code_needed``: the proctor then
        types the start code (``unlock_with_start_code``).
        """
        self._refuse_while_identity_held()
        attempt = self.attempt
        paper_key = self._stored_paper_key()
        if paper_key is None:
            online = self._online or self._try_online()
            if online and not self.key_registered() and not self._register_session_key():
                # The paper key is asked for only once the server has this PC's key, so
                # that every answer saved here can leave in a file the server accepts.
                # Unreachable: the start code opens the paper, and the file is certified.
                if self.phase is Phase.REVOKED:
                    raise _revoked_error()
                online = False
            if online:
                try:
                    paper_key = self.api.paper_key(attempt.login.exam.id)
                except ServerUnreachable:
                    paper_key = None
                except ServerRefused as exc:
                    if exc.code != "identity_held":
                        raise
                    self._server_holds_identity(exc.detail)
            if paper_key is None:
                self._start_code_needed = True
                raise UserFacingError("unlock.start_code_needed", _(
                    "无法连接考试服务器。请监考教师在本机输入本场考试的开考码以打开试卷"))
        return self._open_paper(paper_key)

    def unlock_with_start_code(self, code: str) -> Paper:
        """*Blocking.* Open the paper offline with the proctor's start code (开考码)."""
        self._refuse_while_identity_held()
        material = self._material()
        now = self.clock.now_ms()
        if now is not None and not self.clock.estimated and now < material.exam.start_ms:
            raise UserFacingError("unlock.not_started", _(
                "考试尚未开始（按服务器时间还有 {minutes} 分钟），开考码在开考后才能使用").format(
                minutes=(material.exam.start_ms - now + 59_999) // 60_000))
        paper_key = material.open_paper_key(code)
        if paper_key is None:
            raise UserFacingError("unlock.wrong_start_code",
                                  _("开考码不正确，请核对后重新输入"))
        if not self.clock.synchronised:
            # No server was ever reached: the exam's time runs from its official start,
            # counted from now on the monotonic clock (docs/offline.md). A code typed
            # before the start (by the PC's own clock) must never shorten the exam: then
            # the PC clock is the better guess of "now" and the exam keeps its real end.
            wall_ms = time.time_ns() // 1_000_000
            log.warning("no server time known: exam time starts now at the official start")
            self.clock.assume(min(material.exam.start_ms, wall_ms))
            self._save_clock()
        self._require_writer().call(lambda store: store.set_meta(
            "unlocked_with_start_code", str(self.clock.now_ms()))).result()
        return self._open_paper(paper_key)

    def package_header(self) -> PackageHeader:
        """*Blocking.* The verified header of this exam's package on this PC. Proctor mode
        needs it also when no preload ran in this run (a restart after submission)."""
        attempt = self.attempt
        if attempt.header is None:
            self._material()
        if attempt.header is None:
            raise offline_unavailable()
        return attempt.header

    def held_package_header(self) -> PackageHeader | None:
        """*Blocking.* For a held second login: the header of the exam's package, if it is
        on this PC (proctor mode on the login page, to authorize the login here)."""
        pending = self.authorization
        keys = self._keys or load_pinned(self.data_dir)
        if pending is None or keys is None:
            return None
        exam = preloaded_exam(self.data_dir, keys, pending.exam_id)
        return None if exam is None else exam.header

    def _material(self) -> OfflineMaterial:
        attempt = self.attempt
        if attempt.material is None and attempt.package_path.exists():
            header = verify_package(attempt.package_path.read_bytes(),
                                    trusted_key=self._require_keys().signing_key,
                                    expected_exam_id=attempt.login.exam.id)
            attempt.header = header
            attempt.material = OfflineMaterial.from_extra(header.extra,
                                                          exam_id=attempt.login.exam.id)
        if attempt.material is None:
            raise offline_unavailable()
        return attempt.material

    def _open_paper(self, paper_key: bytes) -> Paper:
        attempt = self.attempt
        keys = self._require_keys()
        if not self.clock.synchronised:
            # Reopened offline with no saved clock (e.g. the data folder was moved): the
            # latest server time this attempt recorded is the safest guess of "now".
            latest = self._require_writer().call(_latest_server_time).result()
            self.clock.assume(max(latest or 0, attempt.login.exam.start_ms))
        data = attempt.package_path.read_bytes()
        paper = open_package(data, trusted_key=keys.signing_key,
                             expected_exam_id=attempt.login.exam.id, paper_key=paper_key)
        if attempt.header is None:  # opened without a preload in this run (a restart)
            attempt.header = verify_package(data, trusted_key=keys.signing_key,
                                            expected_exam_id=attempt.login.exam.id)
        # The key lives in the encrypted store so that a restart can reopen the paper offline.
        encoded = base64.b64encode(paper_key).decode()
        self._require_writer().call(
            lambda store: store.set_meta(META_PAPER_KEY, encoded)).result()
        self._certify_session_key(paper_key)
        attempt.paper = paper
        self._start_code_needed = False
        self._start_pusher()
        self._save_clock()
        with self._lock:
            if self.phase is Phase.WAITING:
                left = self.ms_until_end()
                if left is not None and left <= 0:
                    self.seal()
                else:
                    self._set_phase(Phase.RUNNING)
        return paper

    # -- answering, sealing, submitting --------------------------------------------------

    def submit(self) -> int:
        """*Blocking.* Seal, upload every outstanding revision, then submit. Idempotent:
        after a confirmed submission it returns the same time without the network."""
        with self._submit_lock:
            if self.phase is Phase.REVOKED:
                raise _revoked_error()
            done = self._require_writer().call(
                lambda store: store.get_meta(META_SUBMITTED)).result()
            if done is not None:
                if self.phase is not Phase.SUBMITTED:
                    self._set_phase(Phase.SUBMITTED)
                return int(done)
            self.seal()
            if not self._ensure_online():
                raise UserFacingError("submit.offline", _(
                    "无法连接考试服务器。答案已封存在本机，网络恢复后会自动交卷，"
                    "也可由监考教师导出离线答卷"))
            self._start_pusher()
            pusher = self._pusher
            assert pusher is not None
            status = pusher.push_now()
            if status.pending:
                raise UserFacingError("submit.pending", _(
                    "还有 {n} 条答案未能上传，已保存在本机。网络恢复后会自动交卷，"
                    "也可由监考教师导出离线答卷").format(n=status.pending), pending=status.pending)
            answered = sum(1 for value in self.answers().values() if value not in (None, "", []))
            try:
                submitted_at = self.api.submit(answered_count=answered)
            except ServerRefused as exc:
                if exc.code == "revoked":
                    self._on_revoked()
                raise
            self._require_writer().call(
                lambda store: store.set_meta(META_SUBMITTED, str(submitted_at))).result()
            self._set_phase(Phase.SUBMITTED)
            log.info("submitted at server time %d", submitted_at)
            return submitted_at

    def result(self) -> Any:
        """*Blocking.* The server's result (computing / scored / pending_review)."""
        if not self._ensure_online():
            raise ServerUnreachable("offline")
        return self.api.result()

    def save_answer(self, question_id: str, value: JsonValue, *, coalesce: bool = False) -> None:
        """Queue a durable save; ``events.on_answer_saved`` fires once it is on disk."""
        left = self.ms_until_end() if self._attempt is not None else None
        if self.phase is Phase.RUNNING and left is not None and left <= 0:
            self._seal_now(wait=False)  # the end time is the server's, whatever the UI shows
        if self.phase is Phase.REVOKED:
            raise _revoked_error()
        if self.phase is not Phase.RUNNING:
            raise UserFacingError("answer.sealed", _("考试已结束或已交卷，答案不能再修改"))
        if self.paused:
            raise UserFacingError("answer.paused", _("考试已暂停，请等待监考教师恢复后再作答"))
        with self._lock:
            self.attempt.answers[question_id] = value
        pusher = self._pusher

        writer = self._require_writer()

        def done(result: Revision | BaseException) -> None:
            self.events.on_answer_saved(result)
            if pusher is not None and isinstance(result, Revision):
                # Runs on the writer thread: queue the count, never wait for it here.
                def report(future: Future[int]) -> None:
                    if future.exception() is None:
                        pusher.note_pending(future.result())

                writer.call(lambda store: store.unsynced_count()).add_done_callback(report)
                pusher.poke()

        writer.save(question_id=question_id, value=value,
                    server_time_ms=self.clock.now_ms(), coalesce=coalesce, on_done=done)

    def save_flags(self, question_ids: list[str]) -> None:
        """Keep the candidate's marked questions in the store, with the answers; the next
        heartbeat (at once) sends them to the server, so another PC taking over shows them."""
        encoded = json.dumps(sorted(set(question_ids)))
        changed_ms = self.clock.now_ms()

        def keep(store: AnswerStore) -> None:
            store.set_meta(META_FLAGS, encoded)
            # The offline file tells the server how new they are ("": not known).
            store.set_meta(FLAGS_CHANGED_AT_META, "" if changed_ms is None else str(changed_ms))

        self._require_writer().call(keep)
        heartbeat = self._heartbeat
        if heartbeat is not None:
            heartbeat.beat_soon()

    def _send_flags(self) -> None:
        """On the heartbeat's thread: the marks, if the server does not have them yet."""
        def read(store: AnswerStore) -> tuple[str | None, str | None]:
            return store.get_meta(META_FLAGS), store.get_meta(META_FLAGS_SENT)

        writer = self._writer
        if writer is None or self.phase is not Phase.RUNNING:
            return  # closing, or nothing to mark any more
        flags, sent = writer.call(read).result()
        if flags is None or flags == sent:
            return
        try:
            self.api.put_flags(json.loads(flags))
        except (ServerUnreachable, ServerRefused) as exc:
            log.info("marks not sent yet: %s", exc)  # the next beat tries again
            return
        writer.call(lambda store: store.set_meta(META_FLAGS_SENT, flags))

    def flags(self) -> list[str]:
        """*Blocking.* The marked questions saved with the answers."""
        raw = self._require_writer().call(lambda store: store.get_meta(META_FLAGS)).result()
        value = json.loads(raw) if raw else []
        return [str(qid) for qid in value] if isinstance(value, list) else []

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

    @property
    def writer(self) -> StoreWriter:
        """The store's writer thread (offline export flushes it before reading)."""
        return self._require_writer()

    @property
    def server_keys(self) -> ServerKeys:
        return self._require_keys()

    @property
    def last_synced_ms(self) -> int | None:
        """Server time of the last acknowledged upload (for the proctor panel)."""
        status = self.last_sync_status
        return None if status is None else status.last_synced_ms

    def run_on_store(self, fn: Callable[[AnswerStore], T]) -> Future[T]:
        """Run *fn* with the answer store on its writer thread (proctor log, review outbox,
        offline export all go through here; never touch the store from another thread)."""
        return self._require_writer().call(fn)

    def store_blob(self, *, name: str, data: bytes, content_type: str) -> Future[None]:
        """Keep *data* (an evidence photo, a capture) in the encrypted store.

        Returns at once; the future completes when it is on disk (or fails).
        """
        return self._require_writer().call(
            lambda store: store.put_blob(name=name, data=data, content_type=content_type))

    def seal(self) -> None:
        """No more edits (end time reached or the candidate submitted). Durable on return."""
        self._seal_now(wait=True)

    def _seal_now(self, *, wait: bool) -> None:
        with self._lock:
            if self.phase is not Phase.RUNNING:
                return
            self._set_phase(Phase.SEALED)
        writer = self._writer
        if writer is not None:
            at = self.clock.now_ms()

            def mark(store: AnswerStore) -> None:
                store.set_meta(META_SEALED, "1")
                store.set_meta("sealed_at_ms", str(at))

            future = writer.call(mark)
            if wait:
                future.result()
        log.info("answers sealed at server time %s", self.clock.now_ms())
        if self._supervisor is not None:
            self._supervisor.poke()

    def close(self) -> None:
        self._save_clock()
        self._reset(announce=False)

    # -- helpers ------------------------------------------------------------------------

    def _reset(self, *, announce: bool = True) -> None:
        """Stop everything of a previous login (the login page may be used again)."""
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.stop()
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.stop()
        heartbeat, self._heartbeat = self._heartbeat, None
        if heartbeat is not None:
            heartbeat.stop()
        self.last_heartbeat = None
        writer, self._writer = self._writer, None
        self._writer_ids = None
        if writer is not None:
            writer.close()
        with self._lock:
            self._attempt = None
            self._online = False
            self._credentials = None
            self._authorization_code = ""
            self.authorization = None
            self.resumed = False
            self.notice = ""
            self._start_code_needed = False
            self._announced_start = None
            self._announced_end = None
            self._messages = []
            self._messages_read = 0
            self._paused_left_ms = None
            self.api.token = None
            if self.phase is not Phase.LOGGED_OUT:
                if announce:
                    self._set_phase(Phase.LOGGED_OUT)
                else:
                    self.phase = Phase.LOGGED_OUT

    def _open_store(self, exam_id: str, candidate_id: str, *, username: str, student_no: str,
                    password: str, verified_online: bool,
                    box_key: bytes | None = None) -> StoreWriter:
        """The candidate's answer store (created on first use), on its writer thread.

        The store key is wrapped under the candidate's student number, whichever form of
        the username (ID number, student number) was typed: the answers belong to the
        candidate. A store made by an older client under the typed form still opens.
        """
        if self._writer is not None and self._writer_ids == (exam_id, candidate_id):
            return self._writer
        if self._writer is not None:
            self._writer.close()
        if box_key is None:
            pinned = self._keys or load_pinned(self.data_dir)
            box_key = pinned.box_public_key if pinned is not None else None
        forms = [student_no] if student_no else []
        forms += [username] if username not in forms else []
        for index, form in enumerate(forms):
            try:
                store_key = open_store_key(data_dir=self.data_dir, exam_id=exam_id,
                                           candidate_id=candidate_id, username=form,
                                           password=password, server_box_public_key=box_key,
                                           login_verified_online=verified_online,
                                           keyring_backend=self.keyring_backend)
                break
            except StoreKeyError as exc:
                if exc.code != "store.wrong_credentials" or index == len(forms) - 1:
                    raise
        paths = store_paths(self.data_dir, exam_id=exam_id, candidate_id=candidate_id)

        def open_store() -> AnswerStore:
            store, report = open_or_recover(paths, key=store_key,
                                            server_answers=self._server_answers)
            self.recovery_report = report
            return store

        writer = StoreWriter(open_store, on_status=self._on_store_status)
        writer.ready().result()
        self._writer, self._writer_ids = writer, (exam_id, candidate_id)
        return writer

    def _load_answers(self) -> None:
        current: dict[str, Revision] = self._require_writer().call(
            lambda store: store.current_answers()).result()
        with self._lock:
            self.attempt.answers = {qid: rev.value for qid, rev in current.items()}

    def _pin_server_keys(self) -> ServerKeys:
        offered = self.api.server_keys()
        keys = ServerKeys(signing_public_key=offered["signing_public_key"],
                          box_public_key=offered["box_public_key"])
        self._keys = pin(self.data_dir, keys, configured_signing_key=self.configured_signing_key)
        return self._keys

    def _try_online(self) -> bool:
        try:
            return self._ensure_online()
        except ServerRefused as exc:
            log.warning("server refused the background login: %s", exc.code)
            return False

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
        encoded = self._require_writer().call(
            lambda store: store.get_meta(META_PAPER_KEY)).result()
        return None if encoded is None else base64.b64decode(encoded)

    def upload_interval_s(self) -> float:
        """Seconds between uploads: the exam package's (signed), else the fallback."""
        header = self.attempt.header
        return interval_from_package(header.extra if header is not None else {},
                                     fallback=self.sync_interval_s)

    def _start_pusher(self) -> None:
        if self._pusher is not None:
            return
        outbox = StoreOutbox(self._require_writer())
        self._pusher = AnswerPusher(outbox=outbox, push=self._push_batch,
                                    now_ms=lambda: self.clock.now_ms() or 0,
                                    interval_s=self.upload_interval_s(),
                                    on_status=self._on_sync_status,
                                    backoff=self.sync_backoff)
        self._pusher.start()

    def _start_heartbeat(self) -> None:
        if self._heartbeat is not None:
            return
        self._heartbeat = HeartbeatPoller(beat=self._beat, on_reply=self._on_heartbeat,
                                          interval_s=self.heartbeat_interval_s)
        self._heartbeat.start()

    def _on_store_status(self, status: WriterStatus) -> None:
        # Disk full / store failure: the answers are held in memory and retried; the
        # candidate must be told (the UI shows status.error.message).
        self.events.on_store_status(status)

    def _on_sync_status(self, status: SyncStatus) -> None:
        self.last_sync_status = status
        self.events.on_sync_status(status)

    def _start_supervisor(self) -> None:
        if self._supervisor is not None:
            return
        self._supervisor = SessionSupervisor(SupervisorHooks(
            ms_until_end=self.ms_until_end,
            is_running=lambda: self.phase is Phase.RUNNING,
            wants_submit=lambda: self.phase is Phase.SEALED,
            seal=self.seal,
            submit=self.submit,
            save_clock=self._save_clock,
            wants_reconnect=lambda: (self.phase is Phase.WAITING and not self._online
                                     and self._credentials is not None),
            reconnect=self._try_online,
            watch_time=self._watch_time,
        ))
        self._supervisor.start()

    def _save_clock(self) -> None:
        snapshot = self.clock.snapshot()
        if snapshot is not None:
            save_snapshot(self.data_dir / CLOCK_FILE, snapshot)

    def _restore_clock(self, writer: StoreWriter) -> None:
        """Offline: take the server time this PC knew before (same boot or not)."""
        if self.clock.synchronised and not self.clock.estimated:
            return
        snapshot = load_snapshot(self.data_dir / CLOCK_FILE)
        if snapshot is None:
            return
        floor = writer.call(_latest_server_time).result()
        self.clock.restore_snapshot(snapshot, floor_ms=floor)
        log.info("server clock restored from %s (estimated: %s)", CLOCK_FILE,
                 self.clock.estimated)


def _revoked_error() -> UserFacingError:
    return UserFacingError("session.revoked", _(
        "已在其他电脑登录：本场考试已在另一台电脑上继续，本机不能再作答。"
        "本机保存的答案仍可由监考教师导出"))


def _code_refused() -> UserFacingError:
    return UserFacingError("authorization.code_invalid", _(
        "授权码不正确或已过期，请监考教师重新获取授权码"))


def _latest_server_time(store: AnswerStore) -> int | None:
    times = [r.server_time_ms for r in store.revisions() if r.server_time_ms is not None]
    return max(times) if times else None


def _remembered_end_ms(store: AnswerStore, exam_id: str) -> int | None:
    """The end the server last gave this attempt (kept by _remember_login), if any."""
    try:
        login = json.loads(store.get_meta("login") or "{}")
        return int(login["end_ms"]) if login.get("exam_id") == exam_id else None
    except (ValueError, KeyError, TypeError):
        return None


def _remember_login(store: AnswerStore, result: LoginResult) -> None:
    """What a restart on this PC needs: the token (resume without a proctor) and facts."""
    store.set_meta(META_TOKEN, result.token)
    store.set_meta("login", json.dumps({
        "candidate_id": result.candidate_id, "name": result.candidate_name,
        "student_no": result.student_no, "exam_id": result.exam.id,
        "title": result.exam.title, "start_ms": result.exam.start_ms,
        "end_ms": result.exam.end_ms, "login_kind": result.login_kind}, ensure_ascii=False))
