"""What the operating system says about the candidate's session, as plain events.

A screen lock (Win+L), a suspend and a switch to another user (or a remote desktop taking
the session) take the foreground from the exam window without the candidate going to
another program. Safe Exam Browser is blamed for recording them all alike; here they are
periods of their own (client/lockdown/focus.py): recorded for the proctor with their
duration, and a focus loss inside one is not a 切屏. The Windows adapter
(client/lockdown/windows/session_notify.py) maps WTS session and power messages to these;
elsewhere the application state the platform reports through Qt does
(from_application_state), so the same decision runs, and is tested, on Linux.
"""

from __future__ import annotations

from enum import Enum


class SessionChange(Enum):
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    SWITCHED_AWAY = "switched_away"  # another user's session, or a remote desktop, took over
    SWITCHED_BACK = "switched_back"

    @property
    def begins(self) -> bool:
        return self in (SessionChange.LOCKED, SessionChange.SUSPENDED,
                        SessionChange.SWITCHED_AWAY)

    @property
    def period(self) -> str:
        """The kind of the recorded period this change opens or closes."""
        return _PERIODS[self]


_PERIODS = {
    SessionChange.LOCKED: "session_locked", SessionChange.UNLOCKED: "session_locked",
    SessionChange.SUSPENDED: "suspended", SessionChange.RESUMED: "suspended",
    SessionChange.SWITCHED_AWAY: "session_switched",
    SessionChange.SWITCHED_BACK: "session_switched",
}
# The recorded kinds of those periods, as LockdownEvent.kind.
INTERRUPTION_KINDS = frozenset(_PERIODS.values())


# Qt's application states (Qt.ApplicationState), named without Qt.
APPLICATION_STATES = ("active", "inactive", "hidden", "suspended")


def from_application_state(*, previous: str, current: str) -> SessionChange | None:
    """What a change of the application state says about the session. "suspended" is the
    platform putting the whole application to sleep (it reports it where it knows, before
    the system sleeps); leaving it is the wake-up. Active / inactive / hidden are the
    foreground, decided by the focus tracking, not a period of their own."""
    if current == "suspended" and previous != "suspended":
        return SessionChange.SUSPENDED
    if previous == "suspended" and current != "suspended":
        return SessionChange.RESUMED
    return None
