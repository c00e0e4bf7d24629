"""Session callbacks (from worker threads) turned into Qt signals (on the UI thread)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from client.session.exam_session import Phase, SessionEvents, StartStatus
from client.session.staff_messages import StaffMessage
from client.store import Revision, WriterStatus
from client.sync.pusher import SyncStatus


class SessionBridge(QObject):
    syncStatus = Signal(object)   # SyncStatus
    answerSaved = Signal(object)  # Revision | BaseException
    phaseChanged = Signal(object)  # Phase
    storeStatus = Signal(object)  # client.store.WriterStatus (disk full, failures)
    startStatus = Signal(object)  # StartStatus: the session decides when the exam starts
    endEstimateChanged = Signal()  # clock corrected or end moved: re-arm the reminders
    messagesArrived = Signal(object)  # list[StaffMessage] from the console, oldest first
    pauseChanged = Signal(bool)  # a proctor paused (True) or resumed (False) the exam
    identityDecision = Signal(object)  # HoldDecision: the console on a failed face check

    def events(self) -> SessionEvents:
        # Emitting from another thread queues the signal to this object's (UI) thread.
        def on_sync(status: SyncStatus) -> None:
            self.syncStatus.emit(status)

        def on_saved(result: Revision | BaseException) -> None:
            self.answerSaved.emit(result)

        def on_phase(phase: Phase) -> None:
            self.phaseChanged.emit(phase)

        def on_store(status: WriterStatus) -> None:
            self.storeStatus.emit(status)

        def on_start(status: StartStatus) -> None:
            self.startStatus.emit(status)

        def on_end_estimate() -> None:
            self.endEstimateChanged.emit()

        def on_messages(messages: list[StaffMessage]) -> None:
            self.messagesArrived.emit(messages)

        def on_pause(paused: bool) -> None:
            self.pauseChanged.emit(paused)

        def on_identity_decision(decision: object) -> None:
            self.identityDecision.emit(decision)

        return SessionEvents(on_sync_status=on_sync, on_answer_saved=on_saved, on_phase=on_phase,
                             on_store_status=on_store, on_start_status=on_start,
                             on_end_estimate=on_end_estimate, on_messages=on_messages,
                             on_pause=on_pause, on_identity_decision=on_identity_decision)
