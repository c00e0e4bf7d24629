"""The rule that holds an attempt's result for review ("待审核").

Shared by the client (the result page explains why) and the server (which sets the
attempt's status to ``pending_review``); it works on the synced JSON records, so the
server needs nothing else from the camera stack. The rule, as in the exam platform's
manual ("the camera sees too little light, is covered, sees another person, or a
different person"):

1. the identity check did not pass (entry approved by the proctor instead), or
2. any debounced event of kind covered, too_dark, multiple_faces, different_person or
   camera_lost, or
3. no face, or the head turned away or bowed, for ``review_no_face_total_s`` seconds or
   more in total over the exam (a glance away is normal; a long absence is not).

Events are already debounced (client.camera.proctor_monitor), so one dark frame or a
colleague walking past never counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from client.camera.settings import DEFAULT_SETTINGS, CameraSettings
from client.i18n import _

ALWAYS_REVIEW = frozenset(
    {"covered", "too_dark", "multiple_faces", "different_person", "camera_lost",
     "camera_unavailable"}
)


@dataclass(frozen=True)
class ReviewReason:
    code: str            # "identity.not_verified", "camera.covered", "camera.no_face_total"
    text: str            # translated, for the result page and the reviewer


def _kind_text(kind: str) -> str:
    return {
        "covered": _("摄像头被遮挡"),
        "too_dark": _("光线过暗"),
        "multiple_faces": _("画面中出现多人"),
        "different_person": _("检测到非考生本人"),
        "camera_lost": _("摄像头断开"),
        "camera_unavailable": _("摄像头无法使用"),
        "looking_away": _("转头看向别处"),
        "looking_down": _("低头"),
    }.get(kind, kind)


# Away from the screen: counted together against ``review_no_face_total_s``. Looking
# down until the face is lost used to count only once the face was gone.
AWAY_KINDS = frozenset({"no_face", "looking_away", "looking_down"})


def review_reasons(
    *,
    identity_verified: bool,
    events: Iterable[Mapping[str, object]],
    end_ms: int,
    settings: CameraSettings = DEFAULT_SETTINGS,
) -> list[ReviewReason]:
    """Why the attempt must be reviewed (empty: it need not be).

    *events* are ``ProctorEvent.to_json()`` records; an event still open counts until
    *end_ms* (the submission or the end of the exam).
    """
    reasons: list[ReviewReason] = []
    if not identity_verified:
        reasons.append(
            ReviewReason("identity.not_verified", _("人脸识别认证未通过（监考老师人工核验入场）"))
        )
    seen: set[str] = set()
    no_face_ms = 0
    for event in events:
        kind = str(event.get("kind", ""))
        started = _as_int(event.get("started_ms"))
        ended = _as_int(event.get("ended_ms"))
        if started is None:
            continue
        duration = max(0, (ended if ended is not None else end_ms) - started)
        if kind in ALWAYS_REVIEW and kind not in seen:
            seen.add(kind)
            reasons.append(ReviewReason("camera." + kind, _kind_text(kind)))
        elif kind in AWAY_KINDS:
            no_face_ms += duration
    if no_face_ms >= settings.review_no_face_total_s * 1000:
        reasons.append(
            ReviewReason(
                "camera.no_face_total",
                _("考试期间离开摄像头画面累计 {minutes} 分钟").format(
                    minutes=round(no_face_ms / 60000, 1)
                ),
            )
        )
    return reasons


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return None


def result_page_notice() -> str:
    """What the result page says while the attempt is held."""
    return _("成绩待审核：考试期间的身份核验或监控记录需要考务人员审核，审核后公布成绩")
