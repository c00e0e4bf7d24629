"""The exam window: drives the session through login, waiting room, exam and result.

All blocking session calls go through ``run_in_background``; this class only reacts to
their outcomes and to the session's events, on the UI thread.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QStackedWidget

from client.audio import play_wav
from client.errors import UserFacingError
from client.lockdown.away_time import episode_id
from client.paper.model import Item
from client.session.exam_session import ExamSession, Phase, StartStatus
from client.session.view_model import (
    clock_warning,
    connection_banner,
    login_state,
    store_notices,
    sync_state_text,
)
from client.store import Revision
from client.sync.login_retry import busy_login_wait_s
from client.sync.pusher import SyncStatus
from client.timefmt import beijing_clock
from client.ui.bridge import SessionBridge
from client.ui.checks import CameraChecks, IntegrityChecks
from client.ui.exam_page import ExamPage
from client.ui.login_page import LoginPage
from client.ui.message_banner import MessageBanner
from client.ui.paused_page import PausedPage
from client.ui.result_page import ResultPage
from client.ui.submit_dialog import SubmitDialog
from client.ui.tasks import run_in_background
from client.ui.waiting_page import WaitingPage

log = logging.getLogger(__name__)

TICK_MS = 250
RESULT_POLL_MS = 2000
RETRY_MS = 3000
APPROVAL_POLL_MS = 5000
REMINDER_MINUTES = (15, 5)  # before the end
EXIT_SYNC_WAIT_MS = 3000  # the proctor's exit waits this long for the log to reach the server
RESULT_FAILURES_SHOWN = 2  # failed result fetches before the page offers a retry


def describe_error(error: BaseException) -> str:
    if isinstance(error, UserFacingError):
        return error.message
    log.error("unexpected error", exc_info=error)
    return str(error) or type(error).__name__


class ExamWindow(QMainWindow):
    phaseShown = Signal(str)  # the page now shown: login | waiting | exam | result
    integrityUpdate = Signal(object)  # MonitorUpdate, from the monitor thread
    cameraEvent = Signal(object, bool)  # ProctorEvent, opened?, from the camera thread

    def __init__(self, *, session: ExamSession, server_url: str, language: str,
                 demo_hint: str | None = None, warnings: list[str] | None = None,
                 font_scale: float = 1.0, integrity: IntegrityChecks | None = None,
                 camera: CameraChecks | None = None,
                 review_factory: Callable[[ExamSession], Any] | None = None) -> None:
        super().__init__()
        self.session = session
        self.review_factory = review_factory
        self.review: Any = None  # client.review.services.ReviewServices once logged in
        self._rng = random.Random()  # jitter of an automatic login retry (429 busy)
        self.proctor: Any = None  # client.proctor.services.ProctorServices once preloaded
        # Proctor mode on a held second login (client.proctor.services.HeldLoginProctor).
        self.held_proctor: Any = None
        self.proctor_panel: Any = None
        self.integrity = integrity
        self.camera = camera
        self.camera_panel: Any = None
        self.camera_notice: Any = None
        self.store_notice: QLabel | None = None  # reachable by tests
        self.identity_result: Any = None
        # The newest identity result queued for review and its event id: a console hold on
        # that failed check names the same id (the server stores the check once).
        self._last_identity_event: tuple[Any, str] | None = None
        self._camera_monitor: Any = None
        self._identity_ok = camera is None or not camera.enforce  # demo: never blocks
        self.cameraEvent.connect(self._on_camera_event)
        self.integrity_panel: Any = None
        self.integrity_overlay: Any = None
        self._integrity_monitor: Any = None
        self._pre_exam_episodes: Any = None  # client.integrity.episodes.EpisodeTracker
        self._device_watcher: Any = None
        self._integrity_ok = integrity is None or not integrity.enforce
        self.integrityUpdate.connect(self._on_integrity_update)
        self.language = language
        self.font_scale = font_scale
        self.setWindowTitle(self.tr("考试客户端"))
        self._fit_to_screen()
        self.lockdown: Any = None  # client.ui.lockdown_guard.LockdownGuard, set by build_window
        self.bridge = SessionBridge()
        session.events = self.bridge.events()
        self.bridge.answerSaved.connect(self._on_answer_saved)
        self.bridge.syncStatus.connect(self._on_sync_status)
        self.bridge.storeStatus.connect(self._on_store_status)
        # The window follows the session's phase (end of time, submission, take-over)
        # by signal, never by watching a clock.
        self.bridge.phaseChanged.connect(self._on_phase_changed)
        # The start of the exam and a corrected end estimate come from the session too.
        self.bridge.startStatus.connect(self._on_start_status)
        self.bridge.endEstimateChanged.connect(self._on_end_estimate_changed)
        # Messages from the console: a banner on the exam page, never a dialog or focus.
        self.bridge.messagesArrived.connect(self._on_messages)
        # A proctor's pause: the paused page instead of the paper until the resume.
        self.bridge.pauseChanged.connect(self._on_pause_changed)
        # Held after a failed face check: the console's decision, by heartbeat.
        self.bridge.identityDecision.connect(self._on_identity_decision)
        self.message_banner: MessageBanner | None = None  # on the exam page
        self.waiting_message_banner: MessageBanner | None = None  # before the start
        self.extra_time_notice: QLabel | None = None
        self._known_end_ms: int | None = None  # the end the exam page was showing
        self._start_status: StartStatus | None = None
        self._store_problem: str = ""

        self.pages = QStackedWidget()
        self.setCentralWidget(self.pages)
        self._server_url = server_url
        self._demo_hint = demo_hint
        self._warnings = warnings
        self.exam_page: ExamPage | None = None
        self._build_pre_exam_pages()
        self.current_page = "login"
        self.settings: Any = None  # set by the application: diagnostics need it
        self._install_proctor_entry()

        self._preloaded = False
        self._rules_ok = True  # exam-day rules from the package: pledge, version floor
        self.pledge_flow: Any = None
        self._unlocking = False
        self._submitting = False
        self._auto_submit = False
        self._last_sync: SyncStatus | None = None
        self.pending_crash_reports: list[Any] = []  # shown to proctors, not candidates
        self._leave_confirmed = False
        self._result_failures = 0
        self._polling_result = False
        self._closed = False
        self.reminder_notice: QLabel | None = None
        # The candidate's own modals on the exam page (reachable by tests); closed when
        # the exam ends or another PC takes over, so none stays over the result page.
        self.submit_dialog: SubmitDialog | None = None
        self.leave_dialog: QMessageBox | None = None
        self.reminders_shown: list[int] = []  # minutes, for tests
        self._reminder = QTimer(self)
        self._reminder.setSingleShot(True)
        self._reminder.timeout.connect(self._remind)
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._on_tick)
        self._approval_poll = QTimer(self)
        self._approval_poll.setInterval(APPROVAL_POLL_MS)
        self._approval_poll.timeout.connect(self._poll_for_approval)

    def _fit_to_screen(self) -> None:
        """1200x800 where it fits, never larger than the screen (a 1366x768 lab monitor
        hid the status bar with the 监考 button); the exam itself runs full screen."""
        from PySide6.QtGui import QGuiApplication

        screen = QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        width = 1200 if available is None else min(1200, available.width())
        height = 800 if available is None else min(800, available.height())
        self.resize(width, height)

    def _build_pre_exam_pages(self) -> None:
        """Login, waiting and result pages; rebuilt when the candidate switches language."""
        self.waiting_message_banner = None  # belonged to the waiting page being replaced
        self.login_page = LoginPage(server_url=self._server_url, demo_hint=self._demo_hint,
                                    warnings=self._warnings, language=self.language)
        self.login_page.loginRequested.connect(self._login)
        self.login_page.languageChanged.connect(self._switch_language)
        self.login_page.authorizationCodeEntered.connect(self._authorize_with_code)
        self.waiting_page = WaitingPage()
        self.waiting_page.enterRequested.connect(self._unlock)
        self.waiting_page.startCodeEntered.connect(self._unlock_with_start_code)
        self.result_page = ResultPage()
        self.result_page.retryRequested.connect(self._poll_result)
        self.paused_page = PausedPage()
        for page in (self.login_page, self.waiting_page, self.result_page, self.paused_page):
            self.pages.addWidget(page)

    def _switch_language(self, language: str) -> None:
        from client.ui.app import install_language

        if language == self.language or self.current_page != "login":
            return
        self.language = language
        install_language(language)
        old = (self.login_page, self.waiting_page, self.result_page, self.paused_page)
        self._build_pre_exam_pages()
        self.setWindowTitle(self.tr("考试客户端"))
        self._show("login")
        for page in old:
            self.pages.removeWidget(page)
            page.deleteLater()

    # -- navigation ---------------------------------------------------------------------

    def _show(self, name: str) -> None:
        page = {"login": self.login_page, "waiting": self.waiting_page,
                "exam": self.exam_page, "result": self.result_page,
                "paused": self.paused_page}[name]
        assert page is not None
        self.pages.setCurrentWidget(page)
        self.current_page = name
        self.phaseShown.emit(name)

    def show_readiness_first(self, settings: Any) -> None:
        """First start on this PC: the readiness check (考前检查) before the login page."""
        from client.readiness.runner import ReadinessContext
        from client.ui.readiness_screen import ReadinessScreen

        screen = ReadinessScreen(ReadinessContext.from_settings(settings))
        screen.continueRequested.connect(lambda: self._show("login"))
        self.readiness_page = screen
        self.pages.addWidget(screen)
        self.pages.setCurrentWidget(screen)
        self.current_page = "readiness"
        screen.start()

    # -- login and waiting room ---------------------------------------------------------

    def _login(self, username: str, password: str) -> None:
        run_in_background(lambda: self.session.login(username=username, password=password),
                          on_done=self._on_logged_in, on_error=self._on_login_failed)

    def resume_exam(self) -> None:
        """``--resume`` after a crash: back into the exam that ran on this PC, no password
        (client/session/resume.py); otherwise the login page says why."""
        self.login_page.set_busy(True)
        self.login_page.show_status(self.tr("正在恢复考试…"))
        run_in_background(self.session.resume, on_done=self._on_logged_in,
                          on_error=self._on_resume_refused)

    def _on_resume_refused(self, error: BaseException) -> None:
        log.warning("no automatic way back into the exam: %s", error)
        self.login_page.show_status("")
        self._on_login_failed(error)

    def _on_login_failed(self, error: BaseException) -> None:
        if self.session.phase is Phase.AUTHORIZING:
            # Second login: held until the proctor's code or an admin's approval.
            state = login_state(self.session)
            self.login_page.ask_for_authorization(state.authorization_message)
            if not self._approval_poll.isActive():
                self._approval_poll.start()
            return
        wait_s = busy_login_wait_s(error, rng=self._rng)
        if wait_s is not None:  # queued out at the start of the exam: not an error
            self.login_page.wait_to_retry(seconds=wait_s)
            return
        self.login_page.show_error(describe_error(error))

    def _authorize_with_code(self, code: str) -> None:
        run_in_background(lambda: self.session.authorize_with_code(code),
                          on_done=self._on_logged_in, on_error=self._on_code_refused)

    def _on_code_refused(self, error: BaseException) -> None:
        state = login_state(self.session)
        self.login_page.ask_for_authorization(state.authorization_message,
                                              error=describe_error(error))

    def _poll_for_approval(self) -> None:
        """An admin may approve the second login on the server: try again now and then."""
        if self.session.phase is not Phase.AUTHORIZING:
            self._approval_poll.stop()
            return
        run_in_background(self.session.retry_login, on_done=self._on_logged_in,
                          on_error=lambda _error: None)

    def _on_logged_in(self, result: Any) -> None:
        self._approval_poll.stop()
        if self.session.phase in (Phase.SEALED, Phase.SUBMITTED):
            # The server already submitted (resume window over, or the exam ended), or
            # this PC restarted after submission: the result, and proctor mode for an
            # export of what this PC holds.
            self.result_page.show_pending_submission(self.session.notice)
            self._show("result")
            self._start_proctor_services_after_submission()
            if self.session.phase is Phase.SUBMITTED:
                self._poll_result()
            return
        if self.review_factory is not None and self.review is None:
            self.review = self.review_factory(self.session)
            self.review.start()
        exam = result.exam
        self.waiting_page.set_exam(title=exam.title, candidate=result.candidate_name,
                                   student_no=result.student_no, start_ms=exam.start_ms,
                                   end_ms=exam.end_ms)
        self._show("waiting")
        self._start_integrity_check()
        self._start_identity_check()
        self._tick.start()
        self._preload()

    # -- integrity (e-01 remote control, e-02 virtual machines/devices) ----------------

    def _start_integrity_check(self) -> None:
        if self.integrity is None or self.integrity_panel is not None:
            return
        from client.ui.integrity_panel import IntegrityCheckPanel

        checks = self.integrity
        self.integrity_panel = IntegrityCheckPanel(scan=checks.scan, rules=checks.rules)
        self.integrity_panel.verdictChanged.connect(self._on_integrity_verdict)
        self.integrity_panel.findingsChanged.connect(self._record_pre_exam_findings)
        self.waiting_page.add_check(self.integrity_panel)

    def _record_pre_exam_findings(self, findings: list[Any]) -> None:
        """Warnings and blocks shown before the exam are recorded too (start and end)."""
        from client.integrity.episodes import EpisodeTracker

        if self._pre_exam_episodes is None:
            self._pre_exam_episodes = EpisodeTracker(grace_s=0)
        changes = self._pre_exam_episodes.update(findings, now=0.0)
        if changes and self.review is not None:
            self.review.integrity(changes, phase="pre_exam")

    def _on_integrity_verdict(self, allowed: bool) -> None:
        assert self.integrity is not None
        self._integrity_ok = allowed or not self.integrity.enforce
        if not allowed and not self.integrity.enforce:
            self.waiting_page.show_status(self.tr(
                "演示模式：检测结果仅作展示，不阻止进入考试（正式考试中会阻止）"))

    # -- proctor mode (Ctrl+Alt+Shift+P or the small 监考 button) ----------------------

    def _install_proctor_entry(self) -> None:
        from client.ui.proctor_panel import install_proctor_shortcut, proctor_button

        install_proctor_shortcut(self, self.open_proctor_panel)
        button = proctor_button(self, self.open_proctor_panel)
        self.statusBar().addPermanentWidget(button)
        self.statusBar().setSizeGripEnabled(False)

    def _start_proctor_services(self) -> None:
        if self.proctor is not None:
            return
        from client.proctor.services import ProctorServices
        from client.review.services import transport_for

        try:
            camera = self.camera
            self.proctor = ProctorServices(
                session=self.session, post_json=transport_for(self.session).post_json,
                face_source_factory=None if camera is None else (
                    camera.source_factory or (lambda: camera.selection().open_source())),
                match_threshold=camera.settings.match_threshold if camera else 0.363)
        except UserFacingError as error:  # a package without proctors: say so when opened
            log.error("proctor mode unavailable: %s", error.message)
            self.proctor_unavailable = error.message
            return
        held, self.held_proctor = self.held_proctor, None
        if held is not None and held.student_no == self.session.attempt.login.student_no:
            # The proctor's actions on the held login (its authorization) join the log.
            self.proctor.adopt(held.recorded())
        self.proctor.start()

    def _start_proctor_services_after_submission(self) -> None:
        """No preload ran in this run (a restart after submission): read the package's
        header first (its signature is checked), then proctor mode works as before."""
        if self.proctor is not None:
            return

        def loaded(_header: Any) -> None:
            self._start_proctor_services()

        def failed(error: BaseException) -> None:
            self.proctor_unavailable = describe_error(error)

        run_in_background(self.session.package_header, on_done=loaded, on_error=failed)

    def _held_login_proctor(self) -> Any:
        """Proctor mode on the login page of a held second login (package on this PC)."""
        from client.proctor.services import HeldLoginProctor

        pending = self.session.authorization
        header = self.session.held_package_header()
        if pending is None or header is None:
            return None
        camera = self.camera
        return HeldLoginProctor(
            header=header, student_no=pending.student_no, exam_id=pending.exam_id,
            server_time_ms=self.session.clock.now_ms,
            face_source_factory=None if camera is None else (
                camera.source_factory or (lambda: camera.selection().open_source())),
            match_threshold=camera.settings.match_threshold if camera else 0.363)

    def open_proctor_panel(self) -> None:
        from client.proctor.services import no_verifiers_message
        from client.ui.proctor_panel import ProctorPanel

        services = self.proctor
        if services is None and self.session.phase is Phase.AUTHORIZING:
            # One per held login: what the proctor does in it goes to the store later.
            if self.held_proctor is None:
                self.held_proctor = self._held_login_proctor()
            services = self.held_proctor
        if services is None:
            QMessageBox.information(self, self.tr("监考模式"),
                                    getattr(self, "proctor_unavailable", "")
                                    or no_verifiers_message())
            return
        if self.proctor_panel is not None and self.proctor_panel.isVisible():
            self.proctor_panel.raise_()
            return
        self.proctor_panel = ProctorPanel(
            mode=services.open_mode(),
            candidate_status=lambda: services.candidate_status(
                integrity=self._integrity_summary(), identity=self._identity_summary(),
                focus_records=self._focus_records()),
            export=services.export,
            on_authorize_relogin=self._authorize_relogin_by_proctor,
            on_approve_entry=lambda who: self.approve_entry_by_proctor(proctor=who.name),
            on_exit_client=self.exit_by_proctor,
            support_actions=[(self.tr("应急材料"), self._open_materials),
                             (self.tr("生成诊断包"), self._write_diagnostics),
                             (self.tr("查看崩溃日志"), self._show_crash_logs)],
            cards=getattr(services, "cards", None), parent=self)
        self.proctor_panel.open()

    def exit_by_proctor(self, who: Any) -> None:
        """The proctor's way out of a broken PC mid-exam (the lockdown refuses every other
        close). The panel has logged it; the log is sent now if the server answers within
        EXIT_SYNC_WAIT_MS, else with this PC's next sync. Then the client ends as at the
        end of an exam, without a way back by itself: a new login needs a proctor."""
        log.warning("client closed by proctor %s during %s", getattr(who, "name", "?"),
                    self.session.phase.name)
        panel = self.proctor_panel
        if panel is not None:
            panel.finish_for_exit()
        left = False

        def leave(_outcome: object = None) -> None:
            nonlocal left
            if not left:
                left = True
                self._leave_by_proctor()

        services = self.proctor
        if services is None:
            leave()
            return
        QTimer.singleShot(EXIT_SYNC_WAIT_MS, self, leave)
        run_in_background(services.sync_once, on_done=leave, on_error=leave)

    def _leave_by_proctor(self) -> None:
        if self._closed:
            return
        self._leave_confirmed = True
        if self.lockdown is not None:
            self.lockdown.release()  # as at the end of the exam: policies and keys back
        # Left on purpose: no automatic resume after a restart, a proctor lets them back.
        self.session.discard_resume_ticket()
        self.close()  # closeEvent: shutdown() stops the session; answers stay in the store
        QApplication.quit()

    def _focus_records(self) -> list[tuple[str, dict[str, object]]]:
        """This run's focus losses as review records (the store has the earlier runs'
        and, with review services, these too: the same ids count once). Called on the
        status worker: the log only ever appends, and a copy of the list is taken first."""
        guard = self.lockdown
        if guard is None:
            return []
        return [(episode_id(event.event_id), {"finding": event.finding()})
                for event in list(guard.focus_log.events)]

    def _integrity_summary(self) -> str:
        """For the proctor: the verdict, and which detection sources cannot be read."""
        from client.integrity.status import proctor_summary

        if self._integrity_monitor is not None:
            return proctor_summary(self._integrity_monitor.findings)
        panel = self.integrity_panel
        if panel is None or (panel.busy and not panel.findings):
            return proctor_summary(None)
        return proctor_summary(panel.findings)

    def _identity_summary(self) -> str:
        result = self.identity_result
        if result is None:
            return self.tr("未核验") if self.camera is not None else self.tr("未启用")
        return self.tr("通过") if result.passed else self.tr("未通过：{reason}").format(
            reason=result.message)

    def _authorize_relogin_by_proctor(self, _who: Any) -> None:
        if self.session.phase is not Phase.AUTHORIZING:
            raise UserFacingError("proctor.relogin_not_needed", self.tr(
                "该考生当前不需要授权登录。考生在其他电脑上登录时，请在那台电脑的登录页输入授权码"))
        self.login_page.ask_for_authorization(login_state(self.session).authorization_message)

    def _open_materials(self) -> str:
        from client.ui.materials_dialog import open_for_window

        return open_for_window(self)

    def _write_diagnostics(self) -> str:
        from client.diagnostics.collect import collect_diagnostics

        settings = getattr(self, "settings", None)
        if settings is None:
            raise UserFacingError("diagnostics.no_settings", self.tr("诊断包需要配置信息"))
        path = collect_diagnostics(settings, out=None)
        return self.tr("诊断包已生成：{path}").format(path=path)

    def _show_crash_logs(self) -> str:
        from client.ui.crash_dialog import CrashLogViewer

        if not self.pending_crash_reports:
            return self.tr("没有新的崩溃日志")
        viewer = CrashLogViewer(self.pending_crash_reports, parent=self)
        viewer.open()
        return self.tr("共 {n} 份崩溃日志").format(n=len(self.pending_crash_reports))

    # -- identity (camera) ------------------------------------------------------------

    def _start_identity_check(self) -> None:
        if self.session.resumed:
            # The candidate passed (or a proctor approved) the check before the crash,
            # in this attempt on this PC; proctoring resumes with the exam page.
            self._identity_ok = True
            return
        if self.camera is None:
            self._report_identity_check_off()
            return
        if self.camera_panel is not None:
            return
        review = self.review
        loader = review.fetch_base_photo if review is not None else (lambda: None)
        run_in_background(loader, on_done=self._show_camera_panel,
                          on_error=lambda error: self._show_camera_panel(None))

    def _show_camera_panel(self, base_photo: bytes | None) -> None:
        from client.ui.camera_panel import CameraCheckPanel

        checks = self.camera
        assert checks is not None
        if checks.source_factory is not None:
            panel = CameraCheckPanel(source_factory=checks.source_factory,
                                     base_photo=base_photo, settings=checks.settings)
        else:
            panel = CameraCheckPanel(selection=checks.selection(), base_photo=base_photo,
                                     settings=checks.settings)
        panel.verified.connect(self._on_identity_verified)
        panel.failedTooOften.connect(self._on_identity_failed)
        # Every attempt, pass or fail, is queued for upload (issue 16: only two were).
        panel.resultRecorded.connect(self._record_identity_attempt)
        panel.consoleRequested.connect(lambda: self._ask_console(self.identity_result))
        self.camera_panel = panel
        self.waiting_page.add_check(panel)

    def _record_identity_attempt(self, result: Any) -> None:
        from client.camera.identity_check import Outcome

        if self.review is not None and result.outcome is not Outcome.CANCELLED:
            self._last_identity_event = (result, self.review.identity(result))

    def _report_identity_check_off(self) -> None:
        """The machine-wide config switched the check off: the server is told, and holds
        the result (nobody verified who sat the exam)."""
        from client.camera.identity_check import IdentityResult, Outcome

        if self.review is None:
            return
        self.review.identity(IdentityResult(
            outcome=Outcome.DISABLED, message="", reason="camera.disabled", threshold=0.0))
        log.warning("identity check switched off by the machine-wide config; reported")

    def _use_camera_policy_from_package(self, header: Any) -> None:
        from client.config.camera import apply_package_policy

        if self.camera is None:
            return
        self.camera.settings = apply_package_policy(self.camera.settings, header.extra)
        if self.camera_panel is not None:
            self.camera_panel.set_settings(self.camera.settings)

    def _on_identity_verified(self, result: Any) -> None:
        self.identity_result = result
        self._identity_ok = True
        log.info("identity verified: %s", result.to_record())

    def _on_identity_failed(self, result: Any) -> None:
        self.identity_result = result
        assert self.camera is not None
        if not self.camera.enforce:
            self._identity_ok = True
            self.waiting_page.show_status(self.tr(
                "演示模式：人脸识别未通过也可进入考试（正式考试中需监考教师核验）"))
        log.warning("identity check failed %s", result.to_record())
        if self.camera.enforce:
            self._ask_console(result)

    def _ask_console(self, result: Any) -> None:
        """Held: ask the console for a proctor's decision with this check's frames (the
        proctor at the PC can still decide in proctor mode meanwhile)."""
        from client.review.outbox import new_event_id
        from client.session.identity_hold import waiting_text

        panel = self.camera_panel
        if panel is None or result is None or self._identity_ok:
            return
        if not result.captures:
            panel.show_console_unavailable(self.tr(
                "本次核验没有可供监考老师查看的照片，请举手，由监考老师在本机核验"))
            return
        last = self._last_identity_event
        event_id = last[1] if last is not None and last[0] is result else new_event_id()

        def asked(hold_id: int) -> None:
            if not self._identity_ok:
                panel.show_console_waiting(waiting_text(hold_id))

        def failed(error: BaseException) -> None:
            log.warning("could not ask the console about the failed face check: %s", error)
            panel.show_console_unavailable(self.tr(
                "暂时无法联系监控台（{error}），请举手，由监考老师在本机核验").format(
                    error=describe_error(error)))

        run_in_background(lambda: self.session.request_identity_hold(result, event_id=event_id),
                          on_done=asked, on_error=failed)

    def _on_identity_decision(self, decision: Any) -> None:
        """The console decided (by heartbeat): approved lets the candidate in at the
        start; a refusal keeps them held and says why."""
        if decision.approved:
            self._identity_ok = True
            log.warning("entry approved in the console after a failed face check (hold %d)",
                        decision.hold_id)
        if self.camera_panel is not None:
            self.camera_panel.show_console_decision(decision.candidate_text(),
                                                    approved=decision.approved)
        if decision.approved:
            self._start_when_ready()  # the exam may have started while they waited

    def approve_entry_by_proctor(self, *, proctor: str, room: str = "") -> None:
        """The proctor checked the ID card by hand (proctor mode): take the watermarked
        evidence photo (水印照片) and let the candidate in."""
        from client.camera.watermark import WatermarkInfo
        from client.timefmt import beijing_datetime

        self._identity_ok = True
        self.session.release_identity_hold(proctor=proctor)
        log.warning("entry approved by proctor %s after a failed identity check", proctor)
        if self.camera_panel is None:
            return
        login = self.session.attempt.login
        now = self.session.clock.now_ms() or 0
        info = WatermarkInfo(
            exam_time=f"{beijing_datetime(login.exam.start_ms)}-"
                      f"{beijing_datetime(login.exam.end_ms)[-5:]}",
            center_id=self.session.center_id,
            center_name=login.center_name or self.session.center_id,
            room=room, candidate_id=login.student_no, taken_at=beijing_datetime(now))
        self.camera_panel.evidenceCaptured.connect(
            lambda photo: self._store_evidence(photo, proctor=proctor))
        self.camera_panel.capture_evidence(info)

    def _store_evidence(self, photo: Any, *, proctor: str) -> None:
        """The evidence photo goes into the encrypted store (never a plain file) and is
        queued for upload with the failed identity result: the server shows the attempt
        as 人脸识别认证未通过 with the captures until reviewed."""
        self.session.store_blob(name="evidence/entry-approval.jpg", data=photo.jpeg,
                                content_type="image/jpeg")
        if self.review is not None and self.identity_result is not None:
            self.review.identity(self.identity_result, approved_by_proctor=True,
                                 proctor_id=proctor, evidence=photo.jpeg)

    def _start_camera_monitor(self) -> None:
        if self.camera is None or self.exam_page is None:
            return
        from client.camera.proctor_monitor import MonitorRunner
        from client.ui.camera_notice import ProctorNoticeBar

        checks = self.camera
        if self.camera_panel is not None:
            self.camera_panel.stop()
        self.camera_notice = ProctorNoticeBar(self.exam_page)
        self.exam_page.insert_notice(self.camera_notice)
        references = getattr(self.identity_result, "live_embeddings", ()) or ()
        source_factory = checks.source_factory or checks.selection().open_source
        self._camera_monitor = MonitorRunner(
            source_factory=source_factory, references=references,
            on_opened=lambda event: self.cameraEvent.emit(event, True),
            on_closed=lambda event: self.cameraEvent.emit(event, False),
            clock_ms=lambda: self.session.clock.now_ms() or 0, settings=checks.settings)
        self._camera_monitor.start()

    def _on_camera_event(self, event: Any, opened: bool) -> None:
        if self.camera_notice is None:
            return
        on_opened, on_closed = self.camera_notice.callbacks()
        (on_opened if opened else on_closed)(event)
        if self.review is not None:
            self.review.camera_event(event)
        log.info("proctoring event %s: %s", "opened" if opened else "closed", event)

    def _use_rules_from_package(self, header: Any) -> None:
        """Newer detection rules shipped with the paper (signed by the exam server)."""
        from client.integrity.package_rules import rules_from_package

        if self.integrity is None:
            return
        choice = rules_from_package(header.extra, server_key=self.session.server_keys.signing_key,
                                    now_ms=self.session.clock.now_ms())
        if choice is None:
            return
        if choice.refused is not None:
            log.warning("package integrity rules refused: %s", choice.refused)
            return
        log.info("using the integrity rules shipped with the paper package")
        self.integrity.rules = lambda: choice.rules
        if self._integrity_monitor is not None:
            self._integrity_monitor.set_rules(choice.rules)
        if self.integrity_panel is not None:
            self.integrity_panel.set_rules(lambda: choice.rules)
            self.integrity_panel.recheck()

    def _start_integrity_monitor(self) -> None:
        if self.integrity is None or self.exam_page is None:
            return
        from client.integrity.monitor import IntegrityMonitor
        from client.ui.device_changes import DeviceChangeWatcher
        from client.ui.integrity_overlay import IntegrityOverlay

        checks = self.integrity
        self.integrity_overlay = IntegrityOverlay(self.exam_page)
        self.integrity_overlay.recheckRequested.connect(self._recheck_during_exam)
        self._integrity_monitor = IntegrityMonitor(
            collector=checks.collector(), rules=checks.rules(),
            on_update=self.integrityUpdate.emit,
            process_interval_s=checks.process_interval_s,
            device_interval_s=checks.device_interval_s)
        self._integrity_monitor.start()
        # A monitor, display or device plugged in mid-exam: scan everything now.
        self._device_watcher = DeviceChangeWatcher(self._integrity_monitor.request_full_scan,
                                                   parent=self)

    def _recheck_during_exam(self) -> None:
        """The overlay's 重新检测: a full scan now, then show its result whatever it is."""
        monitor, overlay = self._integrity_monitor, self.integrity_overlay
        if monitor is None or overlay is None:
            return

        def shown(_update: Any) -> None:
            if self.integrity is not None and self.integrity.enforce:
                overlay.show_findings(monitor.findings)

        run_in_background(lambda: monitor.tick(full=True, wait_full_s=15.0), on_done=shown,
                          on_error=lambda error: shown(None))

    def _on_integrity_update(self, update: Any) -> None:
        for finding in update.new_blocking:
            log.warning("integrity finding during the exam: %s", finding.to_json())
        if self.review is not None and update.episodes:
            self.review.integrity(update.episodes)
        if self.integrity is not None and self.integrity.enforce \
                and self.integrity_overlay is not None:
            self.integrity_overlay.show_findings(update.findings)

    def _preload(self) -> None:
        def progress(done: int, total: int) -> None:
            # Called on the worker thread: hand the figures to the UI thread.
            QTimer.singleShot(0, self, lambda: self.waiting_page.set_progress(done, total))

        run_in_background(lambda: self.session.preload(progress=progress),
                          on_done=self._on_preloaded, on_error=self._on_preload_failed)

    def _on_preloaded(self, header: Any) -> None:
        self._preloaded = True
        self._start_proctor_services()
        self._use_rules_from_package(header)
        self._use_camera_policy_from_package(header)
        self.waiting_page.set_preloaded(self.tr("试卷已下载并校验完毕，等待考试开始"))
        self.waiting_page.show_status("")
        self._apply_exam_day_rules(header)

    def _apply_exam_day_rules(self, header: Any) -> None:
        """Version floor, then the exam pledge before the waiting room (issue 22)."""
        from client.session.pledge import pledge_gate_for
        from client.session.version_floor import package_refusal
        from client.ui.pledge_page import PledgeFlow

        refusal = package_refusal(header.extra)
        self._rules_ok = refusal is None
        if refusal is not None:
            self.waiting_page.show_status(refusal.message)
            return
        if self.pledge_flow is not None:
            return
        self._rules_ok = False

        def show_pledge(page: Any) -> None:
            self.pages.addWidget(page)
            self.pages.setCurrentWidget(page)
            self.current_page = "pledge"
            self.phaseShown.emit("pledge")

        def done() -> None:
            self._rules_ok = True
            if self.current_page == "pledge":
                self._show("waiting")

        self.pledge_flow = PledgeFlow(gate=pledge_gate_for(self.session, header.extra),
                                      language=self.language, show_page=show_pledge,
                                      on_done=done, parent=self)
        self.pledge_flow.start()

    def _on_preload_failed(self, error: BaseException) -> None:
        self.waiting_page.show_status(describe_error(error))
        QTimer.singleShot(RETRY_MS, self, self._preload)

    def _unlock(self) -> None:
        if (self._unlocking or not self._preloaded or not self._integrity_ok
                or not self._identity_ok or not self._rules_ok):
            return
        self._unlocking = True
        self.waiting_page.enter_button.setEnabled(False)
        run_in_background(self._unlock_and_read_plays, on_done=self._on_unlocked,
                          on_error=self._on_unlock_failed)

    def _unlock_and_read_plays(self) -> tuple[Any, dict[str, int]]:
        paper = self.session.unlock()
        return paper, self.session.plays()

    def _on_unlock_failed(self, error: BaseException) -> None:
        self._unlocking = False
        code = getattr(error, "code", "")
        if code == "unlock.start_code_needed" or self.session.needs_start_code:
            self.waiting_page.ask_for_start_code(login_state(self.session).start_code_message)
            return
        if code != "not_started":  # the server's clock says "not yet": just wait
            self.waiting_page.show_status(describe_error(error))

    def _unlock_with_start_code(self, code: str) -> None:
        def unlock() -> tuple[Any, dict[str, int]]:
            paper = self.session.unlock_with_start_code(code)
            return paper, self.session.plays()

        def refused(error: BaseException) -> None:
            self.waiting_page.ask_for_start_code(describe_error(error))

        run_in_background(unlock, on_done=self._on_unlocked, on_error=refused)

    def _on_unlocked(self, outcome: tuple[Any, dict[str, int]]) -> None:
        paper, plays = outcome
        login = self.session.attempt.login
        self.exam_page = ExamPage(paper=paper, candidate=self.tr("{name}（{student_no}）").format(
                                      name=login.candidate_name, student_no=login.student_no),
                                  language=self.language,
                                  answers=self.session.answers(), plays=plays,
                                  font_scale=self.font_scale)
        self.exam_page.answerChanged.connect(self._on_answer_changed)
        self.exam_page.flagsChanged.connect(self.session.save_flags)
        run_in_background(self.session.flags, on_done=self.exam_page.set_flags,
                          on_error=lambda error: log.warning("flags not read: %s", error))
        self.exam_page.submitRequested.connect(self._confirm_submit)
        self.exam_page.playRequested.connect(self._play)
        self.pages.addWidget(self.exam_page)
        self._show("exam")
        self._known_end_ms = login.exam.end_ms
        self._arm_reminder()
        self._show_store_notices()
        self._show_messages()
        self._protect_from_capture()
        self._start_integrity_monitor()
        self._start_camera_monitor()

    def _show_store_notices(self) -> None:
        """A recovered store or a data directory on the system drive stays in view for
        the whole exam (the proctor may only walk past later); never a dialog."""
        notices = store_notices(self.session)
        if not notices or self.exam_page is None:
            return
        self.store_notice = QLabel("\n".join(notices), self.exam_page)
        self.store_notice.setObjectName("storeNotice")
        self.store_notice.setWordWrap(True)
        self.store_notice.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.exam_page.insert_notice(self.store_notice)

    def _protect_from_capture(self) -> None:
        from client.integrity.capture_protection import protect_window

        status = protect_window(int(self.winId()))
        log.info("screen-capture protection: %s", status)

    # -- the exam -----------------------------------------------------------------------

    def _on_tick(self) -> None:
        phase = self.session.phase
        if phase is Phase.WAITING:
            # Display only: whether the exam has started is the session's decision
            # (startStatus); the tick re-checks this PC's own checks, not a clock.
            self.waiting_page.set_countdown(self.session.ms_until_start())
            warnings = [text for text in (connection_banner(self.session),
                                          clock_warning(self.session),
                                          *store_notices(self.session)) if text]
            self.waiting_page.show_clock_warning("\n".join(warnings))
            self._start_when_ready()
        elif phase is Phase.RUNNING and self.exam_page is not None:
            # Display only: the end of the exam arrives as a phase change (the session's
            # supervisor seals at the server's end time, even offline).
            self.exam_page.set_time_left(self.session.ms_until_end())
            if self.current_page == "paused":
                self.paused_page.set_time_left(self.session.ms_until_end())

    def _on_start_status(self, status: StartStatus) -> None:
        self._start_status = status
        self._start_when_ready()

    def _start_when_ready(self) -> None:
        """Open the paper once the session says the exam started and this PC's checks
        (paper preloaded, integrity, identity, exam-day rules) allow it."""
        if self.session.phase is not Phase.WAITING:
            return
        if self._start_status is StartStatus.UNKNOWN:
            if self._preloaded and not self._unlocking \
                    and not self.waiting_page.start_code_box.isVisible():
                # No server time at all (a PC only preloaded): ask the server for the
                # paper key; unreachable, this offers the proctor's start code.
                self._unlock()
            return
        ready = (self._start_status is StartStatus.REACHED and self._preloaded
                 and self._integrity_ok and self._identity_ok and self._rules_ok)
        self.waiting_page.enter_button.setEnabled(ready and not self._unlocking)
        if ready:
            self._unlock()

    def _on_end_estimate_changed(self) -> None:
        """The server corrected the clock (or the end moved): the reminders follow; extra
        time from the console is said in a quiet notice with the new end."""
        if self.session.phase is Phase.RUNNING and self.exam_page is not None \
                and not self._auto_submit:
            end = self.session.attempt.login.exam.end_ms
            if self._known_end_ms is not None and end > self._known_end_ms:
                self._show_extra_time(end)
            self._known_end_ms = end
            left = self.session.ms_until_end()
            if left is not None:
                # A reminder already shown comes again before the new end.
                self.reminders_shown = [m for m in self.reminders_shown
                                        if left <= m * 60_000]
                if self.reminder_notice is not None and not self.reminders_shown:
                    self.reminder_notice.clear()
            self._arm_reminder()

    def _show_extra_time(self, end_ms: int) -> None:
        assert self.exam_page is not None
        if self.extra_time_notice is None:
            self.extra_time_notice = QLabel(self.exam_page)
            self.extra_time_notice.setObjectName("extraTimeNotice")
            self.extra_time_notice.setWordWrap(True)
            self.extra_time_notice.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.exam_page.insert_notice(self.extra_time_notice)
        self.extra_time_notice.setText(self.tr(
            "监考教师已为您延长考试时间，结束时间为 {time}（北京时间）").format(
                time=beijing_clock(end_ms)))

    # -- pause ------------------------------------------------------------------------

    def _on_pause_changed(self, paused: bool) -> None:
        if self.exam_page is None or self.session.phase is not Phase.RUNNING:
            return
        if paused:
            # The candidate's own dialogs go (rejected: no submission follows); the
            # proctor panel stays.
            for dialog in (self.submit_dialog, self.leave_dialog):
                if dialog is not None and dialog.isVisible():
                    dialog.reject()
            self.paused_page.set_time_left(self.session.ms_until_end())
            self._show("paused")
        elif self.current_page == "paused":
            self._show("exam")

    # -- messages from the console ------------------------------------------------------

    def _on_messages(self, messages: list[Any]) -> None:
        """New messages (on the UI thread): shown in the banner; the focus stays where the
        candidate has it. Before the exam page opens they wait, unread, for it."""
        self._show_messages()

    def _show_messages(self) -> None:
        if not self.session.messages():
            return
        if self.exam_page is None:
            # Before the paper opens (waiting for the start): on the waiting page.
            if self.waiting_message_banner is None:
                self.waiting_message_banner = MessageBanner(messages=self.session.messages,
                                                            parent=self.waiting_page)
                self.waiting_message_banner.readRequested.connect(
                    self.session.mark_messages_read)
                self.waiting_page.insert_notice(self.waiting_message_banner)
            self.waiting_message_banner.show_new(self.session.unread_messages())
            return
        if self.message_banner is None:
            self.message_banner = MessageBanner(messages=self.session.messages,
                                                parent=self.exam_page)
            self.message_banner.readRequested.connect(self.session.mark_messages_read)
            self.exam_page.insert_notice(self.message_banner)
        self.message_banner.show_new(self.session.unread_messages())
        self.exam_page.notice_slot.fit_height()

    def _on_answer_changed(self, question_id: str, value: Any, coalesce: bool) -> None:
        try:
            self.session.save_answer(question_id, value, coalesce=coalesce)
        except UserFacingError as error:
            self._set_save_state("error", error.message)
            return
        self._set_save_state("saving", self.tr("正在保存…"))

    def _on_answer_saved(self, result: Revision | BaseException) -> None:
        if isinstance(result, BaseException):
            self._set_save_state("error", describe_error(result))
            return
        self._show_sync_state()

    def _on_sync_status(self, status: SyncStatus) -> None:
        self._last_sync = status
        self._show_sync_state()

    def _on_store_status(self, status: Any) -> None:
        """Disk full or an unwritable store: answers are held in memory and retried; the
        candidate sees it until the store has written them (then the sync state returns)."""
        error = getattr(status, "error", None)
        self._store_problem = error.message if error is not None else ""
        self._show_sync_state()

    def _show_sync_state(self) -> None:
        if self._store_problem:
            self._set_save_state("error", self._store_problem)
            return
        state, text = sync_state_text(self._last_sync)
        self._set_save_state(state, text)

    def _set_save_state(self, state: str, text: str) -> None:
        if self.exam_page is not None:
            self.exam_page.set_save_state(state, text)

    def _play(self, item: Item) -> None:
        assert item.audio is not None and self.exam_page is not None
        audio = item.audio
        clip = self.session.paper.media[audio.media]

        def started(plays: int) -> None:
            assert self.exam_page is not None
            self.exam_page.set_plays_left(item.id, audio.max_plays - plays, playing=True)

            def finished(error: BaseException | None) -> None:
                QTimer.singleShot(0, self, lambda: self._on_played(item, plays, error))

            play_wav(clip, on_finished=finished)

        run_in_background(lambda: self.session.record_play(item.id), on_done=started,
                          on_error=self._show_play_error)

    def _show_play_error(self, error: BaseException) -> None:
        """Audio problems go to the page's message area; the save indicator keeps saying
        whether answers are saved."""
        if self.exam_page is not None:
            self.exam_page.show_message(describe_error(error))

    def _on_played(self, item: Item, plays: int, error: BaseException | None) -> None:
        assert item.audio is not None and self.exam_page is not None
        if error is not None:
            self._show_play_error(error)
            run_in_background(lambda: self.session.refund_play(item.id), on_done=lambda _r: None,
                              on_error=lambda _e: None)
            plays -= 1
        self.exam_page.set_plays_left(item.id, item.audio.max_plays - plays, playing=False)

    # -- submission and result ----------------------------------------------------------

    def _confirm_submit(self) -> None:
        assert self.exam_page is not None
        dialog = SubmitDialog(unanswered=self.exam_page.unanswered_numbers(),
                              flagged=self.exam_page.flagged_numbers(),
                              total=len(self.exam_page.items), parent=self)
        self.submit_dialog = dialog  # reachable by tests
        dialog.accepted.connect(self._submit)
        dialog.open()

    def _on_phase_changed(self, phase: Phase) -> None:
        """The session moved on (from any thread, delivered here on the UI thread)."""
        if phase is Phase.LOGGED_OUT:
            self._start_status = None  # a later login announces its own
        if self.current_page not in ("exam", "waiting", "result"):
            return  # a login still finishing: _on_logged_in decides what to show
        if phase is Phase.SEALED:
            left = self.session.ms_until_end()
            if left is not None and left <= 0:
                self._time_is_up()
        elif phase is Phase.SUBMITTED:
            if not self._polling_result:
                self._on_submitted(None)
        elif phase is Phase.REVOKED:
            self._tick.stop()
            self._reminder.stop()
            self._end_candidate_input()
            self.result_page.show_revoked()
            self._show("result")

    def _arm_reminder(self) -> None:
        """Reminders at 15 and 5 minutes before the end: one timer to the next one."""
        left = self.session.ms_until_end()
        if left is None:
            return
        for minutes in REMINDER_MINUTES:
            due = left - minutes * 60_000
            if minutes not in self.reminders_shown and due > -60_000:
                self._reminder.start(max(0, due))
                return

    def _remind(self) -> None:
        left = self.session.ms_until_end()
        if self.session.phase is not Phase.RUNNING or left is None or self.exam_page is None:
            return
        due = [m for m in REMINDER_MINUTES if m not in self.reminders_shown
               and left <= m * 60_000 + 500]
        if due:
            minutes = min(due)
            self.reminders_shown.extend(m for m in due)
            text = self.tr("距考试结束还有 {minutes} 分钟，请注意检查并保存答案").format(
                minutes=minutes)
            if self.reminder_notice is None:
                self.reminder_notice = QLabel(self.exam_page)
                self.reminder_notice.setObjectName("reminderNotice")
                self.reminder_notice.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                self.exam_page.insert_notice(self.reminder_notice)
            self.reminder_notice.setText(text)
        self._arm_reminder()

    def _time_is_up(self) -> None:
        """The end time passed (the session sealed): the result page within a second,
        from any page; the submission goes on in the background."""
        if self._auto_submit:
            return
        self._auto_submit = True
        self._reminder.stop()
        self._end_candidate_input()
        self.result_page.show_time_up()
        self._show("result")
        self._submitting = False  # a hanging manual submission must not block this one
        self._submit()

    def _end_candidate_input(self) -> None:
        """Time is up or another PC took over: no editor takes input and no candidate
        dialog (交卷 confirmation, 退出考试) stays open over the result page. The proctor
        panel and its dialogs stay: the proctor may be exporting the answers right now."""
        if self.exam_page is not None:
            self.exam_page.seal()
        for dialog in (self.submit_dialog, self.leave_dialog):
            if dialog is not None and dialog.isVisible():
                dialog.reject()  # rejected, never accepted: no submit or leave follows
        self.submit_dialog = None
        self.leave_dialog = None

    def _submit(self) -> None:
        if self._submitting:
            return
        self._submitting = True
        if self.exam_page is not None:
            self.exam_page.seal()
        if self.session.phase is Phase.REVOKED:
            return
        self.result_page.show_submitting()
        self._show("result")
        run_in_background(self.session.submit, on_done=self._on_submitted,
                          on_error=self._on_submit_failed)

    def _on_submit_failed(self, error: BaseException) -> None:
        self._submitting = False
        if self._closed:
            return
        if self.session.phase is Phase.REVOKED:
            return
        if self.session.phase is Phase.SUBMITTED:
            return  # the supervisor's submission got there first
        waiting = self.tr("答案已保存在本机，正在等待网络恢复后自动交卷。")
        self.result_page.show_pending_submission(waiting + "\n" + describe_error(error))
        self._show("result")
        QTimer.singleShot(RETRY_MS, self, self._submit)

    def _on_submitted(self, _submitted_at: Any) -> None:
        if self._closed:
            return
        self._tick.stop()
        self._reminder.stop()
        self.result_page.show_computing()
        self._show("result")
        self._poll_result()

    def _poll_result(self) -> None:
        if self._closed:
            return  # background answers after the window closed: nobody to show them to
        self._polling_result = True
        run_in_background(self.session.result, on_done=self._on_result,
                          on_error=self._on_result_failed)

    def _on_result_failed(self, error: BaseException) -> None:
        """The result cannot be fetched (offline, server busy): say so, offer a retry,
        and keep trying by itself."""
        if self._closed:
            return
        self._result_failures += 1
        if self._result_failures >= RESULT_FAILURES_SHOWN:
            self.result_page.show_unavailable(describe_error(error))
        QTimer.singleShot(RESULT_POLL_MS, self, self._poll_result)

    def _on_result(self, result: Any) -> None:
        if self._closed:
            return
        self._result_failures = 0
        if result.status == "pending_review" and result.score is None:
            self.result_page.show_pending_review()
            return
        if result.status == "computing" or result.score is None:
            self.result_page.show_computing()
            QTimer.singleShot(RESULT_POLL_MS, self, self._poll_result)
            return
        self.result_page.show_score(score=result.score, max_score=result.max_score,
                                    pending_review=result.status == "pending_review")

    # -- closing ------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.session.phase is Phase.RUNNING and not self._leave_confirmed:
            # Asked without blocking (open(), not exec()): a nested event loop here would
            # stall timers, saves and a shutdown that closes every window.
            event.ignore()
            box = QMessageBox(QMessageBox.Icon.Question, self.tr("退出考试"),
                              self.tr("考试正在进行中，答案已保存在本机。确定要退出吗？"
                                      "重新登录需监考教师授权。"),
                              QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                              self)
            box.accepted.connect(self._leave_exam)
            self.leave_dialog = box
            box.open()
            return
        self.shutdown()
        event.accept()

    def _leave_exam(self) -> None:
        self._leave_confirmed = True
        # Left on purpose: coming back is a new login with the password (and a proctor).
        self.session.discard_resume_ticket()
        self.close()

    def shutdown(self) -> None:
        """Stop timers and background work; answers are already durable."""
        self._closed = True
        self._tick.stop()
        self._reminder.stop()
        if self._device_watcher is not None:
            self._device_watcher.stop()
            self._device_watcher = None
        if self.lockdown is not None:
            self.lockdown.release()
        if self._integrity_monitor is not None:
            self._integrity_monitor.stop()
            self._integrity_monitor = None
        if self._camera_monitor is not None:
            self._camera_monitor.stop()
            self._camera_monitor = None
        if self.camera_panel is not None:
            self.camera_panel.stop()
        if self.review is not None:
            self.review.stop()
            self.review = None
        if self.proctor is not None:
            self.proctor.stop()
            self.proctor = None
        self.session.close()
