"""1:1 face match: SFace embeddings of live frames against the base photo (底照).

The score is the cosine similarity of L2-normalised SFace features. OpenCV zoo gives
0.363 as the threshold for SFace cosine (calibrated on LFW); docs/camera.md lists what we
measured on the test images and the margin on each side. Several live frames are
compared (the start and the end of the liveness check) and the LOWEST score decides, so
a person who swaps in after the liveness actions cannot pass on the first frame alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from client.camera.analyzer import Embedding, FaceAnalyzer, decode_image
from client.camera.errors import CameraError
from client.i18n import _


def cosine(a: Embedding, b: Embedding) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norm <= 0.0:
        return 0.0
    return float(np.dot(a, b) / norm)


@dataclass(frozen=True)
class MatchResult:
    score: float                  # the lowest of ``scores``
    scores: tuple[float, ...]
    threshold: float

    @property
    def matched(self) -> bool:
        return self.score >= self.threshold

    @property
    def margin(self) -> float:
        """How far above (positive) or below the threshold the decision was."""
        return self.score - self.threshold


def match(live: Sequence[Embedding], reference: Embedding, *, threshold: float) -> MatchResult:
    if not live:
        raise ValueError("no live embedding to match")
    scores = tuple(round(cosine(embedding, reference), 4) for embedding in live)
    return MatchResult(score=min(scores), scores=scores, threshold=threshold)


def best_similarity(embedding: Embedding, references: Sequence[Embedding]) -> float:
    """Similarity to the closest of several references (base photo, live check frames)."""
    return max((cosine(embedding, reference) for reference in references), default=0.0)


def missing_base_photo() -> CameraError:
    return CameraError(
        "camera.base_photo_missing",
        _("系统中没有你的底照，无法进行人脸比对。请举手联系监考老师核验身份证件"),
        admin_message=_("该考生没有底照：请考点管理员在平台上传底照，或由监考老师人工核验后提交入场审批"),
    )


def base_photo_reference(analyzer: FaceAnalyzer, data: bytes | None) -> Embedding:
    """The SFace embedding of the base photo; CameraError if it is missing or unusable."""
    if not data:
        raise missing_base_photo()
    image = decode_image(data)
    if image is None:
        raise CameraError(
            "camera.base_photo_unusable",
            _("底照无法读取，无法进行人脸比对。请举手联系监考老师核验身份证件"),
            admin_message=_("该考生的底照文件已损坏：请考点管理员重新上传底照"),
        )
    faces = analyzer.detect(image)
    if len(faces) != 1:
        raise CameraError(
            "camera.base_photo_unusable",
            _("底照不符合要求，无法进行人脸比对。请举手联系监考老师核验身份证件"),
            admin_message=_("该考生的底照中检测到 {count} 张人脸（应为1张）：请考点管理员重新上传底照")  # noqa: E501
            .format(count=len(faces)),
            face_count=len(faces),
        )
    return analyzer.embed(image, faces[0])
