"""Proctor mode as a state machine: LOCKED -> UNLOCKED(proctor) -> ... -> ENDED.

One ``ProctorMode`` lives for one opening of the proctor panel. Unlocking needs a proctor
name and password checked offline against the package's verifiers. While unlocked, every
action is authorized here and logged; after ``idle_timeout_s`` without activity the mode
locks itself again (a proctor walks away, a candidate must not find it open). Repeated
wrong passwords lock unlocking out for a growing time, so the panel cannot be used to
guess passwords faster than the argon2 cost already allows.

Thread-safe: the panel checks passwords on a worker thread (argon2 takes ~0.2 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import Enum

from client.errors import UserFacingError
from client.i18n import _
from client.proctor.proctor_log import ProctorAction, ProctorLog
from client.proctor.verifiers import ProctorIdentity, ProctorVerifierSet


class ProctorState(Enum):
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    ENDED = "ended"


class ProctorMode:
    def __init__(
        self,
        *,
        verifiers: ProctorVerifierSet,
        log: ProctorLog,
        idle_timeout_s: float = 120.0,
        max_failures: int = 5,
        lockout_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        face_check: Callable[[str, str], object] | None = None,
    ) -> None:
        # face_check(proctor_id, name): the exam's 1:1 face match after the password
        # (client/proctor/identity.py); raises UserFacingError when it fails.
        self._face_check = face_check
        self._verifiers = verifiers
        self._log = log
        self._idle_timeout_s = idle_timeout_s
        self._max_failures = max_failures
        self._lockout_s = lockout_s
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._state = ProctorState.LOCKED
        self._proctor: ProctorIdentity | None = None
        self._last_activity = monotonic()
        self._failures = 0
        self._lockouts = 0
        self._locked_out_until = 0.0
        # What the face check of the last unlock returned (a MatchResult: the panel shows
        # the similarity to the proctor who unlocked); None without a face check.
        self.last_face_match: object | None = None

    # -- reading -----------------------------------------------------------------------
    @property
    def state(self) -> ProctorState:
        with self._lock:
            self._expire_if_idle()
            return self._state

    @property
    def proctor(self) -> ProctorIdentity | None:
        with self._lock:
            self._expire_if_idle()
            return self._proctor

    def seconds_until_unlock_allowed(self) -> float:
        with self._lock:
            return max(0.0, self._locked_out_until - self._monotonic())

    # -- transitions -------------------------------------------------------------------
    def unlock(self, *, name: str, password: str) -> ProctorIdentity:
        """Check the credentials (slow: argon2) and unlock; raises UserFacingError."""
        with self._lock:
            self._refuse_if_ended()
            wait = self._locked_out_until - self._monotonic()
            if wait > 0:
                raise UserFacingError(
                    "proctor.too_many_attempts",
                    _("密码错误次数过多，请 {seconds} 秒后再试").format(seconds=int(wait) + 1),
                    retry_after_s=wait,
                )
        # The hash check runs outside the lock so that the idle timer and the UI are not
        # held up by it.
        identity = self._verifiers.check(name=name, password=password)
        face_error: UserFacingError | None = None
        face_match: object | None = None
        if identity is not None and self._face_check is not None:
            try:
                face_match = self._face_check(identity.proctor_id, identity.name)
            except UserFacingError as error:
                face_error = error
        with self._lock:
            self._refuse_if_ended()
            if identity is None:
                self._failures += 1
                self._log.record(ProctorAction.UNLOCK_FAILED, proctor_id=None,
                                 name=name.strip(), failures=self._failures)
                if self._failures >= self._max_failures:
                    self._lockouts += 1
                    self._failures = 0
                    self._locked_out_until = (self._monotonic()
                                              + self._lockout_s * 2 ** (self._lockouts - 1))
                raise UserFacingError("proctor.wrong_credentials",
                                      _("监考教师姓名或密码错误"))
            if face_error is not None:
                self._failures += 1
                self._log.record(ProctorAction.UNLOCK_FAILED, proctor_id=identity.proctor_id,
                                 name=identity.name, reason=face_error.code,
                                 failures=self._failures)
                raise face_error
            self._failures = 0
            self._state = ProctorState.UNLOCKED
            self._proctor = identity
            self.last_face_match = face_match
            self._last_activity = self._monotonic()
            self._log.record(ProctorAction.UNLOCKED, proctor_id=identity.proctor_id,
                             name=identity.name)
            return identity

    def authorize(self, action: ProctorAction) -> ProctorIdentity:
        """The proctor who may do *action* now; raises if locked (also after idling)."""
        with self._lock:
            self._refuse_if_ended()
            self._expire_if_idle()
            if self._state is not ProctorState.UNLOCKED or self._proctor is None:
                raise UserFacingError("proctor.locked", _("监考模式已锁定，请重新输入监考教师密码"),
                                      action=action.value)
            self._last_activity = self._monotonic()
            return self._proctor

    def record(self, action: ProctorAction, **detail: object) -> None:
        """Log the outcome of an action that :meth:`authorize` allowed."""
        with self._lock:
            proctor_id = self._proctor.proctor_id if self._proctor is not None else None
            self._log.record(action, proctor_id=proctor_id, **detail)

    def touch(self) -> None:
        """The proctor is still at the PC (keys, clicks): push the auto-lock back."""
        with self._lock:
            if self._state is ProctorState.UNLOCKED:
                self._expire_if_idle()
                if self._state is ProctorState.UNLOCKED:
                    self._last_activity = self._monotonic()

    def check_idle(self) -> bool:
        """Auto-lock if idle too long; True if this call locked it. The UI polls this."""
        with self._lock:
            return self._expire_if_idle()

    def lock(self) -> None:
        with self._lock:
            if self._state is ProctorState.UNLOCKED:
                self._lock_now(reason="manual")

    def end(self) -> None:
        """Leave proctor mode; this object cannot be unlocked again."""
        with self._lock:
            if self._state is ProctorState.ENDED:
                return
            proctor_id = self._proctor.proctor_id if self._proctor is not None else None
            self._state = ProctorState.ENDED
            self._proctor = None
            self._log.record(ProctorAction.ENDED, proctor_id=proctor_id)

    # -- internals ---------------------------------------------------------------------
    def _expire_if_idle(self) -> bool:
        if (self._state is ProctorState.UNLOCKED
                and self._monotonic() - self._last_activity >= self._idle_timeout_s):
            self._lock_now(reason="inactivity")
            return True
        return False

    def _lock_now(self, *, reason: str) -> None:
        proctor_id = self._proctor.proctor_id if self._proctor is not None else None
        self._state = ProctorState.LOCKED
        self._proctor = None
        self._log.record(ProctorAction.LOCKED, proctor_id=proctor_id, reason=reason)

    def _refuse_if_ended(self) -> None:
        if self._state is ProctorState.ENDED:
            raise UserFacingError("proctor.ended", _("监考模式已结束，请重新打开监考面板"))
