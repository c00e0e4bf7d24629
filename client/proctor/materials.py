"""Emergency materials (应急材料) from proctor mode on an exam PC.

The proctor takes watermarked room photos with this PC's webcam (exam time, center name
and address, room, proctor, server time in the watermark), marks the emergency candidates
and gives a reason. The submission is kept in the encrypted store first (a power cut or no
network loses nothing), then sent with ``POST /materials``; unsent ones are sent again by
``send_pending``. The server accepts them until the end of the exam's time unit
(server/materials.py) and refuses later: that refusal is final and shown with the deadline.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from client.camera.watermark import WatermarkInfo, watermark
from client.errors import UserFacingError
from client.i18n import _
from client.store import AnswerStore
from client.timefmt import beijing_datetime

META_MATERIALS = "emergency_materials_outbox"
MATERIALS_PATH = "/materials"


@dataclass(frozen=True)
class MaterialsWatermarkInfo(WatermarkInfo):
    """The evidence watermark, worded for a room photo instead of one candidate."""

    center_address: str = ""
    proctor: str = ""

    def lines(self) -> list[str]:
        # Always Chinese, whatever the UI language: the reviewers are the exam staff.
        room = f" 考场 {self.room}" if self.room else ""
        # The address on a line of its own: a full postal address is long.
        address = [f"地址 {self.center_address}"] if self.center_address else []
        return [f"考试时间 {self.exam_time}  应急材料",
                f"考点 {self.center_name}（{self.center_id}）{room}", *address,
                f"监考 {self.proctor}  拍摄 {self.taken_at}"]

    def ascii_lines(self) -> list[str]:
        room = self.room if self.room.isascii() else ""
        return [f"EXAM {self.exam_time}  EMERGENCY MATERIALS",
                f"CENTER {self.center_id} ROOM {room}".rstrip(),
                f"PROCTOR {self.proctor if self.proctor.isascii() else ''}  TAKEN {self.taken_at}"]


def room_photo(image: Any, info: MaterialsWatermarkInfo) -> bytes:
    """The watermarked room photo as JPEG bytes (full resolution: candidates must be
    recognisable in a panorama)."""
    from client.camera.analyzer import encode_jpeg

    marked, _cjk = watermark(image, info)
    return encode_jpeg(marked, quality=88)


class PostJson(Protocol):
    def __call__(self, path: str, body: Mapping[str, Any], /) -> Any: ...


@dataclass(frozen=True)
class Submission:
    proctor_id: str
    room: str
    reason: str
    candidates: tuple[str, ...]
    photos: tuple[bytes, ...]
    taken_at_ms: int | None
    submission_id: str = field(default_factory=lambda: secrets.token_hex(8))

    def validate(self) -> None:
        if not self.reason.strip():
            raise UserFacingError("materials.no_reason", _("请填写提交应急材料的原因"))
        if not self.photos:
            raise UserFacingError("materials.no_photo", _("请至少拍摄一张考场全景照片"))

    def to_body(self) -> dict[str, Any]:
        return {"proctor_id": self.proctor_id, "room": self.room, "reason": self.reason,
                "candidates": list(self.candidates),
                "photos": [base64.b64encode(p).decode() for p in self.photos],
                "taken_at_ms": self.taken_at_ms, "submission_id": self.submission_id}

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Submission:
        return cls(proctor_id=str(body["proctor_id"]), room=str(body["room"]),
                   reason=str(body["reason"]), candidates=tuple(body["candidates"]),
                   photos=tuple(base64.b64decode(p) for p in body["photos"]),
                   taken_at_ms=body.get("taken_at_ms"),
                   submission_id=str(body["submission_id"]))


def parse_candidates(text: str) -> tuple[str, ...]:
    """Student numbers typed one per line (or separated by commas/spaces)."""
    parts = text.replace("，", ",").replace(",", " ").split()
    return tuple(dict.fromkeys(p.strip().upper() for p in parts if p.strip()))


@dataclass(frozen=True)
class SendOutcome:
    sent: int
    pending: int
    closed_message: str | None   # the server's refusal after the deadline, if any


def closed_message(detail: Mapping[str, Any]) -> str:
    """The refusal after the time unit, naming the deadline in Beijing time (the server
    sends it in ms; its preformatted text is the fallback for an older server)."""
    when = detail.get("deadline_ms")
    deadline = (beijing_datetime(when) if isinstance(when, int)
                else str(detail.get("deadline") or ""))
    if not deadline:
        return _("应急材料提交已截止：考试时间单元已结束，服务器不再接收")
    return _("应急材料提交已截止（截止时间 {deadline}，北京时间）："
             "考试时间单元已结束，服务器不再接收").format(deadline=deadline)


class MaterialsOutbox:
    """Submissions waiting in the encrypted store until the server has them."""

    def __init__(self, *, run_on_store: Callable[[Callable[[AnswerStore], Any]], Future[Any]],
                 post_json: PostJson) -> None:
        self._run_on_store = run_on_store
        self._post_json = post_json

    def _load(self) -> list[dict[str, Any]]:
        raw = self._run_on_store(lambda store: store.get_meta(META_MATERIALS)).result()
        loaded: list[dict[str, Any]] = json.loads(raw) if raw else []
        return loaded

    def _save(self, items: Sequence[Mapping[str, Any]]) -> None:
        text = json.dumps(list(items))
        self._run_on_store(lambda store: store.set_meta(META_MATERIALS, text)).result()

    def pending(self) -> int:
        """*Blocking.*"""
        return len(self._load())

    def submit(self, submission: Submission) -> SendOutcome:
        """*Blocking.* Keep the submission durably, then send everything pending."""
        submission.validate()
        self._save([*self._load(), submission.to_body()])
        return self.send_pending()

    def send_pending(self) -> SendOutcome:
        """*Blocking.* Send what waits; keep what the network did not take."""
        items = self._load()
        kept: list[dict[str, Any]] = []
        sent = 0
        closed: str | None = None
        for body in items:
            try:
                self._post_json(MATERIALS_PATH, body)
                sent += 1
            except Exception as exc:
                code = getattr(exc, "code", None)
                if code == "materials_closed":
                    # Final: past the time unit nothing is accepted any more.
                    closed = closed_message(getattr(exc, "detail", {}))
                    continue
                kept.append(body)
        self._save(kept)
        return SendOutcome(sent=sent, pending=len(kept), closed_message=closed)
