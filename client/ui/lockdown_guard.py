"""The exam window's lockdown, applied with what Qt offers plus the Windows adapters.

Everywhere: a frameless full-screen window on the primary screen that the candidate cannot
minimise or close while the exam runs (Alt+F4, the taskbar; the client's own exits release
the lockdown first); focus losses and display-count changes noticed, shown in the page's notice
slot, counted and queued for review; the clipboard emptied at start and end, when the exam
gets the focus back, and whenever another program fills it during the exam.
On Windows also: the low-level keyboard hook (client/lockdown/windows/keyboard_hook.py),
the Ctrl+Alt+Del screen policies with their crash-restore record, EmptyClipboard for other
programs' clipboard content, the name of the program that took the foreground, and
capture exclusion (SetWindowDisplayAffinity) for every window of the exam's own as it is
shown: the submit dialog, the proctor panel and message boxes, not only the main window;
and the session's lock, suspend and user-switch messages (client/ui/session_events.py),
so that those are recorded as what they are and not as 切屏 (session_changed).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QScreen, QWindow
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from client.lockdown.displays import Display, display_change
from client.lockdown.focus import FocusLog, LockdownEvent, notice_text
from client.lockdown.policy import KeyFilter, Profile, plan_for
from client.lockdown.restore import apply_policies, platform_store, record_path, restore
from client.lockdown.session_change import SessionChange, from_application_state

log = logging.getLogger(__name__)

HOOK_DRAIN_MS = 500
# A focus loss shorter than this is Qt passing the focus between the exam's own windows.
FOCUS_GRACE_MS = 300
_STATE_NAMES = {Qt.ApplicationState.ApplicationActive: "active",
                Qt.ApplicationState.ApplicationInactive: "inactive",
                Qt.ApplicationState.ApplicationHidden: "hidden",
                Qt.ApplicationState.ApplicationSuspended: "suspended"}


def present_full_screen(window: QWidget, geometry: QRect | None = None, *,
                        screen: QScreen | None = None) -> None:
    """The exam window as a lab PC shows it: frameless, full screen, on the primary screen
    (a second monitor or a projector never gets the exam). *geometry*: the primary
    screen's new geometry, when it just changed; *screen*: the exam's display when the
    displays just changed (client/lockdown/displays.py), else the primary."""
    window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
    window.setWindowFlag(Qt.WindowType.WindowMinimizeButtonHint, False)
    if screen is None:
        screen = QGuiApplication.primaryScreen()
    if geometry is not None:
        window.setGeometry(geometry)
    elif screen is not None:
        window.setGeometry(screen.geometry())
    window.showFullScreen()
    if window.windowHandle() is not None and screen is not None:
        window.windowHandle().setScreen(screen)


def _described(screens: list[QScreen]) -> list[Display]:
    """Qt's screens as plain displays; a name Qt gives twice (or none) made unique, so that
    each screen is one display."""
    primary = QGuiApplication.primaryScreen()
    displays: list[Display] = []
    seen: dict[str, int] = {}
    for screen in screens:
        base = screen.name() or "screen"
        seen[base] = seen.get(base, 0) + 1
        name = base if seen[base] == 1 else f"{base}#{seen[base]}"
        rect = screen.geometry()
        displays.append(Display(name, rect.x(), rect.y(), rect.width(), rect.height(),
                                primary=screen is primary))
    return displays


def _owned_by(widget: QWidget, top: QWidget) -> bool:
    """*widget* is a window of the exam's own: *top* or a dialog parented to it (submit,
    proctor panel, a message box over either)."""
    current: QWidget | None = widget
    while current is not None:
        if current is top:
            return True
        current = current.parentWidget()
    return False


class CaptureExclusion(QObject):
    """While the exam runs, every top-level window of the exam's own is kept out of
    screenshots and screen sharing as it is shown, not only the main window: the submit
    dialog and the proctor panel (the candidate's status) are windows of their own."""

    def __init__(self, top: QWidget, protect: Callable[[int], object]) -> None:
        super().__init__(top)
        self._top = top
        self._protect = protect
        self.protected: list[str] = []  # object names (or classes) protected, for the log

    def protect_shown(self) -> None:
        """The exam's windows already open when the exam starts (the proctor panel)."""
        for widget in QApplication.topLevelWidgets():
            if widget.isVisible():
                self._protect_if_own(widget)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and isinstance(watched, QWidget):
            self._protect_if_own(watched)
        return False

    def _protect_if_own(self, widget: QWidget) -> None:
        if not widget.isWindow() or widget is self._top or not _owned_by(widget, self._top):
            return
        status = self._protect(int(widget.winId()))
        name = widget.objectName() or type(widget).__name__
        self.protected.append(name)
        log.info("screen-capture protection for %s: %s", name, status)


def _belongs_to(window: QWindow | None, top: QWidget) -> bool:
    """*window* is the exam window or one of its dialogs (submit, proctor panel)."""
    own = top.windowHandle()
    while window is not None:
        if window is own:
            return True
        window = window.transientParent()
    return False


class LockdownGuard(QObject):
    def __init__(self, window: QWidget, *, now_ms: Callable[[], int],
                 on_event: Callable[[LockdownEvent], None],
                 show_notice: Callable[[QWidget], None],
                 data_dir: Callable[[], Path | None],
                 protect: Callable[[int], object] | None = None) -> None:
        super().__init__(window)
        if protect is None:
            from client.integrity.capture_protection import protect_window

            protect = protect_window
        # The main window protects itself when the exam starts (ExamWindow); this covers
        # the exam's other windows.
        self.capture = CaptureExclusion(window, protect)
        from client.lockdown.windows.desktop import foreground_process_name

        # The program a loss went to ("" where unknown: not Windows). It decides whether a
        # loss during a lock notice is the lock screen or a program the candidate uses.
        self.foreground_program: Callable[[], str] = foreground_process_name
        self.window = window
        self.focus_log = FocusLog(now_ms=now_ms)
        self._on_event = on_event
        self._show_notice = show_notice
        self._data_dir = data_dir
        self.engaged = False
        self.profile: Profile | None = None
        self.notice: QLabel | None = None
        self._hook: Any = None
        self._session_filter: Any = None  # client.ui.session_events.SessionEventFilter
        self._primary: QScreen | None = None  # whose geometry the window follows
        self._app_state = "active"  # the last application state Qt reported, by name
        self._screens: list[Display] = []  # the displays as last seen (displays.py)
        self._record: Any = None
        self._drain = QTimer(self)
        self._drain.setInterval(HOOK_DRAIN_MS)
        self._drain.timeout.connect(self._drain_hook)
        self.blocked_keys = 0
        # A loss counts once it lasts FOCUS_GRACE_MS (see _focus_changed); started then.
        self._loss_started_ms: int | None = None
        self._loss_check = QTimer(self)
        self._loss_check.setSingleShot(True)
        self._loss_check.setInterval(FOCUS_GRACE_MS)
        self._loss_check.timeout.connect(self._confirm_loss)

    # -- engage / release ---------------------------------------------------------------

    def engage(self, profile: Profile) -> None:
        if self.engaged:
            return
        self.engaged = True
        self.profile = profile
        plan = plan_for(profile)
        log.info("lockdown engaged: %s", plan)
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self.window.installEventFilter(self)
        app.installEventFilter(self.capture)
        self.capture.protect_shown()
        app.focusWindowChanged.connect(self._on_focus_window)
        app.applicationStateChanged.connect(self._on_application_state)
        app.screenAdded.connect(self._on_screens)
        app.screenRemoved.connect(self._on_screens)
        app.primaryScreenChanged.connect(self._on_primary_changed)
        app.clipboard().dataChanged.connect(self._on_clipboard)
        self._app_state = _STATE_NAMES.get(QGuiApplication.applicationState(), "inactive")
        self._watch_primary(QGuiApplication.primaryScreen())
        self._screens = _described(QGuiApplication.screens())
        self.focus_log.displays(len(self._screens))
        self.clear_clipboard()
        self._engage_windows(profile)

    def release(self) -> None:
        if not self.engaged:
            return
        self.engaged = False
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self.window.removeEventFilter(self)
        app.removeEventFilter(self.capture)
        for signal, slot in ((app.focusWindowChanged, self._on_focus_window),
                             (app.applicationStateChanged, self._on_application_state),
                             (app.screenAdded, self._on_screens),
                             (app.screenRemoved, self._on_screens),
                             (app.primaryScreenChanged, self._on_primary_changed),
                             (app.clipboard().dataChanged, self._on_clipboard)):
            signal.disconnect(slot)
        self._watch_primary(None)
        self.clear_clipboard()
        self._drain.stop()
        self._loss_check.stop()
        self._loss_started_ms = None
        if self._hook is not None:
            self._hook.stop()
            self._hook = None
        if self._session_filter is not None:
            from client.lockdown.windows.session_notify import unregister

            app.removeNativeEventFilter(self._session_filter)
            unregister(int(self.window.winId()))
            self._session_filter = None
        store = platform_store()
        data_dir = self._data_dir()
        if self._record is not None and store is not None and data_dir is not None:
            restore(store=store, path=record_path(data_dir), record=self._record)
            self._record = None
        log.info("lockdown released: %s focus losses, %s keys blocked",
                 self.focus_log.focus_losses, self.blocked_keys)

    def _engage_windows(self, profile: Profile) -> None:
        if sys.platform != "win32":
            return
        from client.lockdown.windows.keyboard_hook import KeyboardHook
        from client.lockdown.windows.session_notify import own_session_id, register
        from client.ui.session_events import SessionEventFilter

        self._session_filter = SessionEventFilter(self.session_changed,
                                                  own_session=own_session_id())
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.installNativeEventFilter(self._session_filter)
        if not register(int(self.window.winId())):
            log.error("no lock / user-switch messages: such a switch counts as 切屏")
        self._hook = KeyboardHook(KeyFilter(profile))
        if self._hook.start():
            self._drain.start()
        else:
            log.error("keyboard hook not installed: Alt+Tab and Win stay usable")
        store = platform_store()
        data_dir = self._data_dir()
        if store is not None and data_dir is not None:
            try:
                self._record = apply_policies(store=store, path=record_path(data_dir),
                                              profile=profile.value,
                                              policies=plan_for(profile).policies)
            except OSError as exc:  # a locked-down lab account may not write its policies
                log.error("desktop policies not set: %r", exc)

    # -- what the guard watches ---------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and self.engaged:
            # Every close is refused while the exam runs: the client's own ways out
            # (shutdown, the result page) release the lockdown first.
            if event.type() == QEvent.Type.Close:
                log.warning("closing the exam window refused during the exam")
                event.ignore()
                return True
            if event.type() == QEvent.Type.WindowStateChange and self.window.isMinimized():
                QTimer.singleShot(0, self.window, self.window.showFullScreen)
        return False

    def _exam_has_focus(self) -> bool:
        return _belongs_to(QGuiApplication.focusWindow(), self.window)

    def _on_focus_window(self, _window: QWindow | None) -> None:
        self._focus_changed(self._exam_has_focus())

    def _on_application_state(self, state: Qt.ApplicationState) -> None:
        # The platform putting the application to sleep and waking it is a suspend, not
        # 切屏: the same decision as Windows' power messages (session_changed), fed from
        # what Qt reports where there are no such messages.
        name = _STATE_NAMES.get(state, "inactive")
        previous, self._app_state = self._app_state, name
        change = from_application_state(previous=previous, current=name)
        if change is not None:
            self.session_changed(change, "qt")
            if change.begins:
                return
        self._focus_changed(state == Qt.ApplicationState.ApplicationActive
                            and self._exam_has_focus())

    def session_changed(self, change: SessionChange, via: str = "") -> None:
        """What the system said about the session (Windows: session_events.py). A lock,
        suspend or user switch is recorded as its own period, not as 切屏."""
        if not self.engaged:
            return
        log.warning("session: %s %s", change.value, via)
        if change.begins:
            # A loss still in its grace time is this lock's own deactivation (unless it is
            # the re-check of a loss during an earlier period, see _confirm_loss).
            pending, self._loss_started_ms = self._loss_started_ms, None
            if self.focus_log.interrupted:
                pending = None
            self._loss_check.stop()
            for event in self.focus_log.session(change, at_ms=pending, via=via):
                if event.kind == "focus_lost":  # withdrawn: closed, no notice of its own
                    self._on_event(event)
                else:
                    self._record_event(event)
            # Already elsewhere: who has the foreground is looked at (and again) from now
            # on. In front: the period stays open for the deactivation still to come.
            if not (QGuiApplication.applicationState() == Qt.ApplicationState.ApplicationActive
                    and self._exam_has_focus()):
                self._focus_changed(False)
            return
        for event in self.focus_log.session(change, via=via):
            self._record_event(event)
        if not self.focus_log.interrupted:
            self._loss_check.stop()  # a re-check from the period: a loss now starts now
            self._loss_started_ms = None
            # Back from the lock: from now on, being elsewhere is 切屏 again.
            self._on_application_state(QGuiApplication.applicationState())

    def _focus_changed(self, has_focus: bool) -> None:
        if not has_focus:
            # Also during a lock, suspend or switch: FocusLog.lost tells the lock screen
            # (not 切屏) from a program in front (a forged lock notice).
            # WORKAROUND: when the focus passes from the exam window to one of its own
            # dialogs (the proctor panel, the submit dialog) Qt reports "no focus window"
            # for a few milliseconds first; counted at once, the proctor opening the panel
            # was a 切屏 on the candidate's record. A loss counts when it lasts the grace
            # time, and then from its first moment.
            if not self.focus_log.away and not self._loss_check.isActive():
                self._loss_started_ms = self.focus_log.now_ms()
                self._loss_check.start()
            return
        self._loss_check.stop()
        self._loss_started_ms = None
        event = self.focus_log.regained()
        if event is not None:
            # Whatever was copied while away must not be pasted in.
            self.clear_clipboard()
            log.warning("focus back after %s ms", event.away_ms)
            self._on_event(event)  # closes the event in the record (ended_ms)
        for period in self.focus_log.back_in_front():
            self._record_event(period)

    def _confirm_loss(self) -> None:
        started, self._loss_started_ms = self._loss_started_ms, None
        app = QGuiApplication.instance()
        active = (isinstance(app, QGuiApplication)
                  and app.applicationState() == Qt.ApplicationState.ApplicationActive)
        if not self.engaged or (active and self._exam_has_focus()):
            return
        taken_by = self.foreground_program()
        event = self.focus_log.lost(taken_by=taken_by, at_ms=started)
        if event is not None:
            log.warning("focus lost (#%s) to %s", event.number, taken_by or "?")
            self._record_event(event)
        elif ((self.focus_log.interrupted or self.focus_log.settling)
              and not self.focus_log.away):
            # The lock screen has it, so far: look again while the period lasts (or while
            # the lock screen goes away after it), so that a program brought to the front
            # under a forged "lock", or found in front after it, is still seen (from then).
            self._loss_check.start()

    def _watch_primary(self, screen: QScreen | None) -> None:
        """Follow the primary screen's size: a projector switched to mirroring, or the
        resolution or scaling changed mid-exam, resizes the screen under the window."""
        if self._primary is not None:
            self._primary.geometryChanged.disconnect(self._on_geometry)
        self._primary = screen
        if screen is not None:
            screen.geometryChanged.connect(self._on_geometry)

    def _on_primary_changed(self, screen: QScreen | None) -> None:
        """Another monitor became the primary one: the exam moves there."""
        self._watch_primary(screen)
        if screen is not None:
            self._on_geometry(screen.geometry())

    def _on_geometry(self, geometry: QRect) -> None:
        """The window fits the screen again, as it is: the page, the answers typed and
        the zoom stay (only the geometry is set; nothing is rebuilt)."""
        log.warning("primary screen now %sx%s at (%s, %s): exam window re-fitted",
                    geometry.width(), geometry.height(), geometry.x(), geometry.y())
        present_full_screen(self.window, geometry)

    def _on_screens(self, _screen: QScreen) -> None:
        """A display was added or removed (Qt's screenAdded / screenRemoved; Qt lists a
        removed screen no more when it says so): the exam window goes (stays) full screen
        on the display client/lockdown/displays.py chooses, and the change is recorded."""
        current = QGuiApplication.screens()
        before, self._screens = self._screens, _described(current)
        change = display_change(before, self._screens)
        if change is None:
            return
        log.warning("displays changed: %s", change.detail())
        own = next((screen for screen, display in zip(current, self._screens, strict=True)
                    if display == change.exam_display), None)
        present_full_screen(self.window, screen=own)
        self._record_event(self.focus_log.display_changed(change))

    def _record_event(self, event: LockdownEvent) -> None:
        if self.notice is None:
            self.notice = QLabel()
            self.notice.setObjectName("notice")
            self.notice.setWordWrap(True)
            self.notice.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self._show_notice(self.notice)
        self.notice.setText(notice_text(event))
        self.notice.setAccessibleName(self.notice.text())
        self._on_event(event)

    # -- clipboard ----------------------------------------------------------------------

    def clear_clipboard(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            clipboard = app.clipboard()
            if QGuiApplication.platformName() == "xcb" and not clipboard.ownsClipboard():
                # X11: clear() only gives up the exam's own ownership; another program's
                # text stayed pasteable. The exam takes the clipboard instead, empty.
                clipboard.setText("")
            else:
                clipboard.clear()
        if sys.platform == "win32":
            from client.lockdown.windows.desktop import empty_clipboard

            empty_clipboard()  # also what other programs put there

    def _on_clipboard(self) -> None:
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        clipboard = app.clipboard()
        platform = QGuiApplication.platformName()
        if platform == "xcb":
            # X11 names the owner. Reading another program's text first is a round trip
            # that can time out on a busy PC (and then looked empty: nothing was done).
            # Ends after one step: emptying makes the exam the owner.
            if not clipboard.ownsClipboard():
                log.warning("clipboard taken by another program during the exam: emptied")
                QTimer.singleShot(0, self, self.clear_clipboard)
            return
        if not clipboard.text():
            return
        # Windows tells whether this process owns the clipboard; elsewhere (offscreen) a
        # change while the exam has the focus is the candidate copying inside the exam.
        owned = clipboard.ownsClipboard() if platform == "windows" else self._exam_has_focus()
        if not owned:
            log.warning("clipboard filled by another program during the exam: emptied")
            QTimer.singleShot(0, self, self.clear_clipboard)

    def _drain_hook(self) -> None:
        hook = self._hook
        while hook is not None and hook.blocked:
            _vk, decision = hook.blocked.popleft()
            if decision.detected:
                log.warning("detected %s (cannot be blocked)", decision.detected)
            else:
                self.blocked_keys += 1
                log.info("blocked key: %s", decision.reason)


def attach_lockdown(window: Any) -> LockdownGuard:
    """Engage the lockdown when *window* (client.ui.main_window.ExamWindow) shows the exam
    page and release it at the result page, at shutdown and when the application quits."""

    def record(event: LockdownEvent) -> None:
        review = window.review
        if review is not None:
            review.lockdown(event.finding(), event_id=event.event_id,
                            ended=event.ended_ms is not None,
                            at_ms=window.session.clock.now_ms())

    def show_notice(notice: QWidget) -> None:
        if window.exam_page is not None:
            window.exam_page.insert_notice(notice)

    def data_dir() -> Path | None:
        settings = window.settings
        return None if settings is None else Path(settings.data_dir)

    guard = LockdownGuard(window, now_ms=lambda: window.session.clock.now_ms() or 0,
                          on_event=record, show_notice=show_notice, data_dir=data_dir)

    def on_page(name: str) -> None:
        if name == "exam":
            guard.engage(exam_profile(window.session))
        elif name == "result":
            guard.release()

    window.phaseShown.connect(on_page)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.aboutToQuit.connect(guard.release)
    return guard


def exam_profile(session: Any) -> Profile:
    """The profile the signed package asks for (strict when it names none)."""
    from client.lockdown.policy import profile_from_extra

    try:
        header = session.attempt.header
    except RuntimeError:  # not logged in (screen tests show the exam page without a login)
        header = None
    return profile_from_extra(header.extra if header is not None else {})
