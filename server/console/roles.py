"""Who may see and do what in the console.

- proctor (监考教师): the seats of one room of one center;
- chief (主考): every room of their center;
- admin (管理员): every center.

Each check takes the account and the seat's (center, room) as plain values, so the rule
is one function and the routes never decide scope themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from client.i18n import _


class Role(StrEnum):
    PROCTOR = "proctor"
    CHIEF = "chief"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {Role.PROCTOR: _("监考教师"), Role.CHIEF: _("主考"),
                Role.ADMIN: _("管理员")}[self]


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: Role
    center_id: str | None
    room: str | None

    def sees(self, *, center_id: str, room: str) -> bool:
        """True when the seat at (center_id, room) is inside this account's scope."""
        if self.role is Role.ADMIN:
            return True
        if self.center_id != center_id:
            return False
        return self.role is Role.CHIEF or self.room == room

    def may(self, action: Action) -> bool:
        return self.role in _ALLOWED[action]

    @property
    def actor(self) -> str:
        """How the account appears in audit records and events (role:username)."""
        return f"{self.role.value}:{self.username}"


class Action(StrEnum):
    APPROVE_LOGIN = "approve_login"
    REFUSE_LOGIN = "refuse_login"
    ISSUE_CODE = "issue_code"
    RESET_PASSWORD = "reset_password"
    MARK_PRESENT = "mark_present"
    MARK_ABSENT = "mark_absent"
    END_ATTEMPT = "end_attempt"
    INCIDENT = "incident"
    EXTRA_TIME = "extra_time"
    MESSAGE = "message"
    PAUSE = "pause"
    RESUME = "resume"
    APPROVE_FACE = "approve_face"  # entry after a failed face check (人脸核验未通过)
    REFUSE_FACE = "refuse_face"
    EXPORT_DAY = "export_day"
    LOG_IN = "log_in"
    LOG_IN_FAILED = "log_in_failed"  # recorded by the server, never taken from the page
    LOG_OUT = "log_out"
    ACTION_REFUSED = "action_refused"  # recorded by the server, never taken from the page


_EVERYONE = frozenset(Role)
_CHIEF_UP = frozenset({Role.CHIEF, Role.ADMIN})

# The seeds: a proctor verifies and reports; letting a candidate in again, resetting a
# password or ending an attempt is the chief examiner's decision (主考审批).
_ALLOWED: dict[Action, frozenset[Role]] = {
    Action.APPROVE_LOGIN: _CHIEF_UP,
    Action.REFUSE_LOGIN: _CHIEF_UP,
    Action.ISSUE_CODE: _CHIEF_UP,
    Action.RESET_PASSWORD: _CHIEF_UP,
    Action.END_ATTEMPT: _CHIEF_UP,
    Action.EXPORT_DAY: _CHIEF_UP,
    Action.MARK_PRESENT: _EVERYONE,
    Action.MARK_ABSENT: _EVERYONE,
    Action.INCIDENT: _EVERYONE,
    # In the room, on the spot: the proctor gives the time a candidate lost (a PC that
    # froze, a documented allowance), stops a candidate's clock, speaks to the room.
    Action.EXTRA_TIME: _EVERYONE,
    Action.MESSAGE: _EVERYONE,
    Action.PAUSE: _EVERYONE,
    Action.RESUME: _EVERYONE,
    # The proctor of the room looks at the candidate and the ID card, as at the PC
    # (proctor mode already lets them in there); the console only saves the walk.
    Action.APPROVE_FACE: _EVERYONE,
    Action.REFUSE_FACE: _EVERYONE,
    Action.LOG_IN: _EVERYONE,
    Action.LOG_IN_FAILED: _EVERYONE,
    Action.ACTION_REFUSED: _EVERYONE,
    Action.LOG_OUT: _EVERYONE,
}
