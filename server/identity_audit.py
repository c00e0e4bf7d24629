"""The server's own look at the identity checks: per-exam policy, re-computed match, holds.

The client's verdict is not taken on trust (issue 16). For every attempt this module
adds review reasons (待审核) when

- the client reports the check switched off (``outcome: disabled``);
- a passed check ran with weaker settings than the exam's policy (a lower match
  threshold, fewer challenges, passive PAD off) or from frames that did not come from a
  camera (a file, a test source);
- it passed only after at least ``max_attempts`` failures (the client allows that many
  and then sends the candidate to the proctor: more means a tampered client);
- the server, re-computing the 1:1 match with its own models on the uploaded captures
  against the base photo it holds, disagrees: no face in the captures, a score below the
  exam's threshold, or more than ``SCORE_TOLERANCE`` away from the client's.

The policy travels to the client in the signed package header (``camera_policy``, read
by client.config.camera.apply_package_policy); ``exam_policy`` is the default unless an
administrator stored another for the exam (``set_exam_policy``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Float, Integer, String, Table, select

from client.camera.review import ReviewReason
from client.i18n import _
from server import schema as t
from server.db import Database
from server.keys import ServerKeys
from server.lazy_tables import create_once

log = logging.getLogger(__name__)

POLICY_EXTRA_KEY = "camera_policy"
DEFAULT_POLICY: dict[str, Any] = {
    "match_threshold": 0.363,
    "max_attempts": 3,
    "challenge_min_count": 2,
    "challenge_max_count": 3,
    "challenge_timeout_s": 6.0,
}
# Client and server run the same SFace model on the same frames (the client's before
# JPEG encoding): their scores differ by JPEG loss only, measured < 0.03.
SCORE_TOLERANCE = 0.15

identity_policies = Table(
    "identity_policies", t.metadata,
    Column("exam_id", String(64), primary_key=True),
    Column("policy", JSON, nullable=False),
)
identity_rechecks = Table(
    "identity_rechecks", t.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attempt_id", Integer, nullable=False, index=True),
    Column("event_id", String(64), nullable=False),
    Column("server_score", Float, nullable=True),      # None: no face in any capture
    Column("client_score", Float, nullable=True),
    Column("captures", Integer, nullable=False),
    Column("checked_at_ms", BigInteger, nullable=False),
)

_analyzer_lock = threading.Lock()
_analyzer: Any = None


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[identity_policies, identity_rechecks])


# -- policy -------------------------------------------------------------------------------

def exam_policy(db: Database, exam_id: str) -> dict[str, Any]:
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(select(identity_policies.c.policy)
                           .where(identity_policies.c.exam_id == exam_id)).first()
    return {**DEFAULT_POLICY, **(dict(row.policy) if row is not None else {})}


def set_exam_policy(db: Database, exam_id: str, policy: Mapping[str, Any]) -> None:
    unknown = set(policy) - set(DEFAULT_POLICY)
    if unknown:
        raise ValueError(f"unknown camera policy keys: {sorted(unknown)}")
    ensure_tables(db)
    with db.write() as conn:
        conn.execute(identity_policies.delete().where(identity_policies.c.exam_id == exam_id))
        conn.execute(identity_policies.insert().values(exam_id=exam_id, policy=dict(policy)))


def policy_extra(db: Database, exam_id: str) -> dict[str, Any]:
    """For the package header (signed with the package)."""
    return {POLICY_EXTRA_KEY: exam_policy(db, exam_id)}


# -- re-computing the match ---------------------------------------------------------------

def _server_scores(base_jpeg: bytes, captures: Sequence[bytes]) -> list[float | None]:
    from client.camera.analyzer import FaceAnalyzer, decode_image
    from client.camera.errors import CameraError
    from client.camera.match import base_photo_reference

    global _analyzer
    with _analyzer_lock:
        if _analyzer is None:
            _analyzer = FaceAnalyzer(video_mode=False, landmarks=False)
        try:
            reference = base_photo_reference(_analyzer, base_jpeg)
        except CameraError:
            return []
        scores: list[float | None] = []
        for jpeg in captures:
            image = decode_image(jpeg)
            if image is None:
                scores.append(None)
                continue
            faces = _analyzer.detect(image, full_resolution=True)
            if len(faces) != 1:
                scores.append(None)
                continue
            embedding = _analyzer.embed(image, faces[0])
            scores.append(float((embedding * reference).sum()))
        return scores


def recheck(db: Database, keys: ServerKeys, *, attempt_id: int, candidate_id: int,
            event_id: str, passed: bool, client_score: float | None,
            captures: Sequence[bytes], now_ms: int) -> float | None:
    """Re-compute the match of a passed check on its uploaded captures (stored)."""
    from server.base_photos import get_base_photo

    if not passed or not captures:
        return None
    base = get_base_photo(db, keys, candidate_id)
    if base is None:
        return None        # nothing to compare with: the server cannot judge
    scores = _server_scores(base.jpeg, captures)
    if not scores:
        return None
    found = [s for s in scores if s is not None]
    server_score = min(found) if len(found) == len(scores) else None
    ensure_tables(db)
    with db.write() as conn:
        conn.execute(identity_rechecks.insert().values(
            attempt_id=attempt_id, event_id=event_id, server_score=server_score,
            client_score=client_score, captures=len(captures), checked_at_ms=now_ms))
    log.info("identity recheck attempt %d: server %s client %s", attempt_id, server_score,
             client_score)
    return server_score


# -- the reasons ----------------------------------------------------------------------------

Record = tuple[bool, bool, float | None, dict[str, Any]]


def _records(db: Database, attempt_id: int) -> list[Record]:
    from server.review_store import identity_results as r

    with db.read() as conn:
        rows = conn.execute(select(r.c.passed, r.c.approved_by_proctor, r.c.score, r.c.record)
                            .where(r.c.attempt_id == attempt_id).order_by(r.c.id)).all()
    return [(bool(p), bool(a), s, dict(rec or {})) for p, a, s, rec in rows]


def weaker_settings(settings: Mapping[str, Any], policy: Mapping[str, Any]) -> list[str]:
    """Which of the client's settings were weaker than the exam requires."""
    weaker = []
    threshold = settings.get("match_threshold")
    if isinstance(threshold, (int, float)) and threshold < policy["match_threshold"] - 1e-9:
        weaker.append("match_threshold")
    count = settings.get("challenge_min_count")
    if isinstance(count, int) and count < policy["challenge_min_count"]:
        weaker.append("challenge_min_count")
    if settings.get("pad_enabled") is False:
        weaker.append("pad_enabled")
    return weaker


def identity_reasons(*, records: Sequence[Record],
                     rechecks: Sequence[tuple[float | None, float | None]],
                     policy: Mapping[str, Any]) -> list[ReviewReason]:
    """Pure: the records as (passed, approved_by_proctor, client score, record)."""
    reasons: list[ReviewReason] = []
    if any(rec.get("outcome") == "disabled" for _p, _a, _s, rec in records):
        reasons.append(ReviewReason("identity.check_off", _("考生电脑关闭了人脸识别身份核验")))
    weaker: set[str] = set()
    not_camera = False
    failures = 0
    failures_before_pass: int | None = None
    for passed, approved, _score, rec in records:
        if passed:
            weaker.update(weaker_settings(rec.get("settings") or {}, policy))
            source = rec.get("source")
            if isinstance(source, Mapping) and source.get("kind") not in (None, "camera"):
                not_camera = True
            claimed = rec.get("failures_before")
            before = max(failures, claimed if isinstance(claimed, int) else 0)
            if failures_before_pass is None:
                failures_before_pass = before
        elif not approved and rec.get("outcome") not in ("cancelled", "disabled"):
            failures += 1
    if weaker:
        reasons.append(ReviewReason("identity.weaker_settings", _(
            "人脸核验使用了低于本场考试要求的设置：{names}").format(names="、".join(sorted(weaker)))))
    if not_camera:
        reasons.append(ReviewReason("identity.not_a_camera",
                                    _("人脸核验的画面不是来自摄像头")))
    if failures_before_pass is not None and failures_before_pass >= policy["max_attempts"]:
        reasons.append(ReviewReason("identity.many_failures", _(
            "人脸核验失败 {count} 次后才通过").format(count=failures_before_pass)))
    for server_score, client_score in rechecks:
        disagrees = (
            server_score is None
            or server_score < policy["match_threshold"]
            or (client_score is not None and abs(server_score - client_score) > SCORE_TOLERANCE)
        )
        if disagrees:
            reasons.append(ReviewReason("identity.server_disagrees",
                                        _("服务器复核人脸比对的结果与考生电脑不一致")))
            break
    return reasons


def attempt_identity_reasons(db: Database, attempt_id: int, exam_id: str) -> list[ReviewReason]:
    ensure_tables(db)
    with db.read() as conn:
        rows = conn.execute(select(identity_rechecks.c.server_score,
                                   identity_rechecks.c.client_score)
                            .where(identity_rechecks.c.attempt_id == attempt_id)).all()
    return identity_reasons(records=_records(db, attempt_id),
                            rechecks=[(a, b) for a, b in rows],
                            policy=exam_policy(db, exam_id))
