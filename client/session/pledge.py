"""The exam pledge gate (考试承诺书): read from the signed package, accepted before the
waiting room, kept in the encrypted store, synced to the server.

The acceptance is written to the store first (durable, survives a power cut and a
restart, so the candidate is not asked twice), then sent with ``POST /attempt/pledge``.
A PC with no network keeps it and sends it at the next ``sync`` (the waiting room and the
exam page call it now and then); the server keeps the first acceptance it receives.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from client.paper.exam_rules import Pledge, pledge_from_extra
from client.store import AnswerStore

log = logging.getLogger(__name__)

META_PLEDGE = "pledge_acceptance"
PLEDGE_PATH = "/attempt/pledge"


class PostJson(Protocol):
    def __call__(self, path: str, body: Mapping[str, Any], /) -> Any: ...


@dataclass(frozen=True)
class PledgeAcceptance:
    accepted_at_ms: int          # server-time estimate at acceptance (PC clock if unknown)
    text_sha256: str
    language: str
    synced: bool = False

    def to_json(self) -> str:
        return json.dumps({"accepted_at_ms": self.accepted_at_ms,
                           "text_sha256": self.text_sha256, "language": self.language,
                           "synced": self.synced})

    @classmethod
    def from_json(cls, text: str) -> PledgeAcceptance:
        raw = json.loads(text)
        return cls(accepted_at_ms=int(raw["accepted_at_ms"]), text_sha256=str(raw["text_sha256"]),
                   language=str(raw["language"]), synced=bool(raw.get("synced", False)))


def text_digest(pledge: Pledge) -> str:
    """The same digest as server/pledges.py: the Chinese text is the binding one."""
    return hashlib.sha256(pledge.text_zh.encode()).hexdigest()


class PledgeGate:
    """One attempt's pledge. *run_on_store* is ExamSession.run_on_store; *post_json* posts
    with the session's token and raises on any failure; *now_ms* the server-time estimate."""

    def __init__(self, *, extra: Mapping[str, Any],
                 run_on_store: Callable[[Callable[[AnswerStore], Any]], Future[Any]],
                 post_json: PostJson, now_ms: Callable[[], int | None],
                 wall_ms: Callable[[], int]) -> None:
        self.pledge = pledge_from_extra(extra)
        self._run_on_store = run_on_store
        self._post_json = post_json
        self._now_ms = now_ms
        self._wall_ms = wall_ms

    def accepted(self) -> PledgeAcceptance | None:
        """*Blocking* (store read). The acceptance of the CURRENT text, if any."""
        raw = self._run_on_store(lambda store: store.get_meta(META_PLEDGE)).result()
        if raw is None or self.pledge is None:
            return None
        acceptance = PledgeAcceptance.from_json(raw)
        return acceptance if acceptance.text_sha256 == text_digest(self.pledge) else None

    def must_show(self) -> bool:
        """*Blocking.* Whether the pledge page comes before the waiting room."""
        return self.pledge is not None and self.accepted() is None

    def must_accept(self) -> bool:
        return self.pledge is not None and self.pledge.required

    def accept(self, *, language: str) -> PledgeAcceptance:
        """*Blocking.* Store the acceptance durably, then try to send it."""
        assert self.pledge is not None, "no pledge in this exam's package"
        now = self._now_ms()
        acceptance = PledgeAcceptance(
            accepted_at_ms=now if now is not None else self._wall_ms(),
            text_sha256=text_digest(self.pledge), language=language)
        self._run_on_store(lambda store: store.set_meta(META_PLEDGE,
                                                        acceptance.to_json())).result()
        self.sync()
        return self.accepted() or acceptance

    def sync(self) -> bool:
        """*Blocking.* Send a stored, unsent acceptance; True when the server has it."""
        acceptance = self.accepted()
        if acceptance is None:
            return False
        if acceptance.synced:
            return True
        try:
            self._post_json(PLEDGE_PATH, {"accepted_at_ms": acceptance.accepted_at_ms,
                                          "text_sha256": acceptance.text_sha256,
                                          "language": acceptance.language})
        except Exception as exc:  # offline or refused: kept, sent again at the next sync
            log.warning("pledge acceptance not sent yet: %s", exc)
            return False
        synced = PledgeAcceptance(acceptance.accepted_at_ms, acceptance.text_sha256,
                                  acceptance.language, synced=True)
        self._run_on_store(lambda store: store.set_meta(META_PLEDGE, synced.to_json())).result()
        return True


def pledge_gate_for(session: Any, extra: Mapping[str, Any]) -> PledgeGate:
    """The gate of a logged-in client.session.exam_session.ExamSession."""
    import time

    from client.review.services import transport_for

    transport = transport_for(session)
    return PledgeGate(extra=extra, run_on_store=session.run_on_store,
                      post_json=transport.post_json, now_ms=session.clock.now_ms,
                      wall_ms=lambda: time.time_ns() // 1_000_000)
