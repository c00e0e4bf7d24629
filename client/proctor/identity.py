"""Proctors by real name (监考教师实名): ID number and face reference in the package header,
and the optional 1:1 face match when a proctor unlocks proctor mode.

The server adds, beside the password verifiers, ``extra["proctor_identities"]``: per
proctor the masked ID number (shown in proctor mode, never the full number: the header is
readable by anyone holding the package) and the SFace embedding of the proctor's photo (not
the photo itself). ``extra["proctor_face_match"]`` says whether this exam asks for the
face match on unlock; it is set per exam on the server and signed with the header.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from client.camera.analyzer import Embedding
from client.camera.match import MatchResult, match
from client.errors import UserFacingError
from client.i18n import _

if TYPE_CHECKING:
    from client.camera.sources import FrameSource

IDENTITIES_KEY = "proctor_identities"
FACE_MATCH_KEY = "proctor_face_match"


def mask_id_number(id_number: str) -> str:
    """``110101199001011234`` -> ``110101********1234``: region and last four only."""
    value = id_number.strip().upper()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def encode_embedding(embedding: Embedding) -> str:
    return base64.b64encode(np.asarray(embedding, dtype="<f4").tobytes()).decode()


def decode_embedding(text: str) -> Embedding:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float32)


@dataclass(frozen=True)
class ProctorCard:
    """What proctor mode shows and checks of one proctor."""

    proctor_id: str
    id_number_masked: str
    face: Embedding | None

    def to_json(self) -> dict[str, object]:
        return {"id_number_masked": self.id_number_masked,
                "face": None if self.face is None else encode_embedding(self.face)}


def identities_to_extra(cards: Mapping[str, ProctorCard], *,
                        face_match: bool) -> dict[str, object]:
    return {IDENTITIES_KEY: {pid: card.to_json() for pid, card in cards.items()},
            FACE_MATCH_KEY: face_match}


def identities_from_extra(extra: Mapping[str, object]) -> tuple[dict[str, ProctorCard], bool]:
    raw = extra.get(IDENTITIES_KEY) or {}
    cards: dict[str, ProctorCard] = {}
    if isinstance(raw, Mapping):
        for pid, value in raw.items():
            if not isinstance(value, Mapping):
                continue
            face = value.get("face")
            cards[str(pid)] = ProctorCard(
                proctor_id=str(pid), id_number_masked=str(value.get("id_number_masked") or ""),
                face=decode_embedding(face) if isinstance(face, str) and face else None)
    return cards, extra.get(FACE_MATCH_KEY) is True


class ProctorFaceCheck:
    """The second factor of an unlock: the proctor in front of the camera is the one whose
    name and password were typed. *live_embeddings()* captures frames and returns the SFace
    embeddings of the single face in them (blocking; raises CameraError)."""

    def __init__(self, *, cards: Mapping[str, ProctorCard],
                 live_embeddings: Callable[[], list[Embedding]], threshold: float) -> None:
        self._cards = dict(cards)
        self._live = live_embeddings
        self._threshold = threshold
        self.last_result: MatchResult | None = None

    def __call__(self, proctor_id: str, name: str) -> MatchResult:
        card = self._cards.get(proctor_id)
        if card is None or card.face is None:
            raise UserFacingError("proctor.no_face_reference", _(
                "本场考试要求监考教师人脸比对，但系统中没有监考教师 {name} 的照片，"
                "请主考在服务器上补录照片（exam-server add-proctor --photo）").format(name=name))
        live = self._live()
        if not live:
            raise UserFacingError("proctor.face_not_seen", _(
                "没有看到监考教师的脸，请正对摄像头后重试"))
        result = match(live, card.face, threshold=self._threshold)
        self.last_result = result
        if not result.matched:
            raise UserFacingError("proctor.face_mismatch", _(
                "监考教师人脸比对未通过（相似度 {score:.2f}，要求 {threshold:.2f}）："
                "请监考教师本人正对摄像头重试").format(score=result.score,
                                                     threshold=result.threshold),
                score=result.score)
        return result


def live_embeddings_from(source_factory: Callable[[], FrameSource], *, frames: int = 3,
                         warmup: int = 8) -> Callable[[], list[Embedding]]:
    """Capture a few frames from a camera source and embed the single face in each."""

    def capture() -> list[Embedding]:
        from client.camera.analyzer import FaceAnalyzer

        source = source_factory()
        source.open()
        try:
            images = []
            for index in range(warmup + frames * 4):
                frame = source.read()
                if frame is None:
                    break
                if index >= warmup:
                    images.append(frame.image)
        finally:
            source.close()
        embeddings: list[Embedding] = []
        with FaceAnalyzer(landmarks=False) as analyzer:
            for image in images[::4] or images:
                faces = analyzer.detect(image)
                if len(faces) == 1:
                    embeddings.append(analyzer.embed(image, faces[0]))
                if len(embeddings) >= frames:
                    break
        return embeddings

    return capture


def proctor_face_check(cards: Mapping[str, ProctorCard],
                       source_factory: Callable[[], FrameSource] | None, *,
                       threshold: float) -> Callable[[str, str], object]:
    """The unlock's face check for an exam that asks for one; without a camera on this PC
    it refuses with the reason (the chief examiner then turns the rule off or moves the
    proctor to a PC with a camera)."""
    if source_factory is None:
        def no_camera(proctor_id: str, name: str) -> object:
            raise UserFacingError("proctor.face_no_camera", _(
                "本场考试要求监考教师人脸比对，但本机没有可用的摄像头"))
        return no_camera
    return ProctorFaceCheck(cards=cards, live_embeddings=live_embeddings_from(source_factory),
                            threshold=threshold)
