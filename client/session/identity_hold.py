"""Held after a failed face check: the console's decision (人脸核验未通过 → 监考台审批).

When the identity check (client/camera) failed as often as allowed, the PC asks the
server for a proctor's decision (``POST /attempt/identity-hold``, server/identity_holds.py)
with the failed check's result and its own frames, and names the hold it waits on in
every heartbeat. The decision comes only from the server's authenticated heartbeat
answer, and only for that hold: an answer about another hold id, an unknown status or
an absurd time is ignored, so nothing but a proctor's decision on this check lets the
candidate in. The proctor at the PC (proctor mode) can still decide there.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from client.i18n import _
from client.session.staff_messages import visible_text

if TYPE_CHECKING:
    from client.camera.identity_check import IdentityResult

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
REASON_MAX = 500  # the console allows 500 characters
_EPOCH_MS_MAX = 2 ** 53


@dataclass(frozen=True)
class HoldDecision:
    """The console's word on the hold *hold_id*: pending, approved or refused (why)."""

    hold_id: int
    status: str
    reason: str
    at_ms: int | None

    @property
    def decided(self) -> bool:
        return self.status != PENDING

    @property
    def approved(self) -> bool:
        return self.status == APPROVED

    def candidate_text(self) -> str:
        """What the held candidate reads on the identity page."""
        if self.status == APPROVED:
            return _("监考老师已在监控台核验你的身份，准予入场。开考后即可进入考试")
        if self.status == REFUSED:
            return _("监考老师未准予入场：{reason}。请举手联系监考老师").format(
                reason=self.reason or _("未说明原因"))
        return waiting_text(self.hold_id)


def waiting_text(hold_id: int) -> str:
    return _("已请监考老师在监控台核验你的身份（审批编号 {n}），请在座位上稍候").format(n=hold_id)


def parse_decision(raw: Any, *, waiting_on: int) -> HoldDecision | None:
    """The heartbeat answer's ``identity_hold`` for the hold *waiting_on*; None when it
    is missing, malformed or about another hold (never a decision by accident)."""
    if not isinstance(raw, Mapping) or waiting_on <= 0:
        return None
    hold_id, status, reason, at_ms = (raw.get("id"), raw.get("status"), raw.get("reason", ""),
                                      raw.get("at_ms"))
    if isinstance(hold_id, bool) or hold_id != waiting_on:
        return None
    if status not in (PENDING, APPROVED, REFUSED) or not isinstance(reason, str):
        return None
    if at_ms is not None and (isinstance(at_ms, bool) or not isinstance(at_ms, int)
                              or not 0 < at_ms < _EPOCH_MS_MAX):
        return None
    if status != PENDING and at_ms is None:
        return None  # a decision always has its time
    return HoldDecision(hold_id=waiting_on, status=str(status),
                        reason=visible_text(reason)[:REASON_MAX].strip(), at_ms=at_ms)


def hold_request(result: IdentityResult, *, event_id: str, client_id: str,
                 at_ms: int | None) -> dict[str, Any]:
    """The body of ``POST /attempt/identity-hold``: the failed check as the review outbox
    sends it (same *event_id*, so the server stores it once) and its frames."""
    return {
        "event_id": event_id, "client_id": client_id, "reason": result.reason or "unknown",
        "message": result.message[:300], "score": result.score,
        "threshold": result.threshold, "failures": result.failures_before + 1,
        "record": result.to_record(), "at_ms": at_ms,
        "captures": [base64.b64encode(jpeg).decode("ascii") for jpeg in result.captures[:4]],
    }
