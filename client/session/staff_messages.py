"""Messages from the proctors' console (监考消息) as this PC keeps them.

They arrive in the server's heartbeat answer (server/staff_messages.py), only from that
authenticated answer; the PC keeps every one in its answer store (so the candidate can
reopen them after a restart) and tells the server on the next beats the highest id it
holds (已送达) and the highest one the candidate closed (已读).
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

META_MESSAGES = "staff_messages"
META_READ = "staff_messages_read"
TEXT_MAX = 1_000  # the server allows 500; anything longer is cut, never trusted blindly
KEEP_MAX = 200  # messages kept on the PC: far more than an exam sees, bounded for a flood
_EPOCH_MS_MAX = 2 ** 53
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


@dataclass(frozen=True)
class StaffMessage:
    id: int
    text: str
    sender: str  # e.g. 监考教师 王老师
    at_ms: int  # server time it was sent

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "from": self.sender, "at_ms": self.at_ms}


def parse(raw: Mapping[str, Any]) -> StaffMessage | None:
    """One message of a heartbeat answer (or of the store); None if malformed."""
    try:
        message_id, at_ms = int(raw["id"]), int(raw["at_ms"])
        text, sender = raw["text"], raw.get("from", "")
    except (KeyError, TypeError, ValueError):
        return None
    if message_id <= 0 or not isinstance(text, str) or not isinstance(sender, str):
        return None
    if not 0 < at_ms < _EPOCH_MS_MAX:
        return None  # beyond any calendar: the banner could not even show its time
    return StaffMessage(id=message_id, text=_visible(text)[:TEXT_MAX],
                        sender=_visible(sender)[:100], at_ms=at_ms)


def visible_text(text: str) -> str:
    """*text* without the characters that could disguise it (see _visible)."""
    return _visible(text)


def _visible(text: str) -> str:
    """Without control and format characters (RTL overrides, isolates, escape codes) that
    could disguise what the candidate reads; line breaks stay."""
    return "".join(c for c in text
                   if c == "\n" or unicodedata.category(c) not in _HIDDEN_CATEGORIES)


def keep_newest(messages: Iterable[StaffMessage]) -> list[StaffMessage]:
    """At most KEEP_MAX messages, the newest, oldest first (a flood cannot fill memory)."""
    return sorted(messages, key=lambda m: m.id)[-KEEP_MAX:]


def new_messages(known: Iterable[StaffMessage],
                 received: Iterable[Mapping[str, Any]]) -> list[StaffMessage]:
    """The received messages this PC does not hold yet, oldest first (a beat may repeat
    what an earlier one brought while its acknowledgement was on the way)."""
    have = {m.id for m in known}
    fresh: dict[int, StaffMessage] = {}
    for raw in received:
        message = parse(raw)
        if message is not None and message.id not in have:
            fresh[message.id] = message
    return [fresh[k] for k in sorted(fresh)]


def dumps(messages: Iterable[StaffMessage]) -> str:
    return json.dumps([m.to_json() for m in messages], ensure_ascii=False)


def loads(text: str | None) -> list[StaffMessage]:
    if not text:
        return []
    try:
        raw = json.loads(text)
    except ValueError:
        log.error("stored staff messages unreadable; starting an empty list")
        return []
    found = [parse(item) for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
    return keep_newest(m for m in found if m is not None)
