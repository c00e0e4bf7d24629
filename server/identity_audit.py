"""The server's own look at the identity checks: per-exam policy, re-computed match, holds.

The client's verdict is not taken on trust (issue 16). For every attempt this module
adds review reasons (待审核) when

- the client reports the check switched off (``outcome: disabled``);
- a passed check ran with weaker settings than the exam's policy (a lower match
  threshold, fewer or slower challenges, more retries) or than the client's fixed
  liveness and PAD settings (``_WEAKER_DIRECTION``; PAD or the wrong-action rule off), or
  from frames that did not come from a camera (a file, a test source);
- it passed only after at least ``max_attempts`` failures (the client allows that many
  and then sends the candidate to the proctor: more means a tampered client);
- the server, re-computing the 1:1 match with its own models on the uploaded captures
  against the base photo it holds, disagrees: no face in the captures, a score below the
  exam's threshold, or more than ``SCORE_TOLERANCE`` away from the client's;
- the server cannot re-compute it (``identity.unverifiable``): a pass uploaded without
  captures, no base photo on the server, or a base photo without a usable face. A
  tampered client would otherwise just leave the frames out;
- the exam requires the check (policy ``identity_required``) and the attempt was
  submitted with no passed check and no proctor's approval on record
  (``identity.missing``): an old or tampered client that never sends one.

The policy travels to the client in the signed package header (``camera_policy``, read
by client.config.camera.apply_package_policy); ``exam_policy`` is the default unless an
administrator stored another for the exam (``set_exam_policy``).
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

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
    # Whether a submission without a passed check (or the proctor's approval) is held.
    # Off by default: the server cannot know whether the lab has cameras; the operator
    # turns it on per exam (exam-server set-camera-policy EXAM --identity-required on).
    "identity_required": False,
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
    # Why the server could not re-compute the match (UNVERIFIABLE), None if it did.
    Column("unverifiable", String(40), nullable=True),
)

_analyzer_lock = threading.Lock()
_analyzer: Any = None


def ensure_tables(db: Database) -> None:
    create_once(db, tables=[identity_policies, identity_rechecks])


# -- policy -------------------------------------------------------------------------------

def exam_policy(db: Database, exam_id: str) -> dict[str, Any]:
    return {**DEFAULT_POLICY, **stored_policy(db, exam_id)}


def _policy_problem(key: str, value: Any) -> str | None:
    """Why *value* cannot be the exam's *key* (None: it can). The numeric ranges are the
    client's (client.config.camera), so the package never carries a value it would skip."""
    from client.config.camera import POLICY_FIELDS

    if key == "identity_required":
        return None if isinstance(value, bool) else "on or off"
    _name, kind, low, high = POLICY_FIELDS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            low <= value <= high) or (kind is int and not float(value).is_integer()):
        return f"{kind.__name__} in {low:g}..{high:g}"
    return None


def set_exam_policy(db: Database, exam_id: str, policy: Mapping[str, Any]) -> None:
    """Store the exam's policy (keys not given keep the default)."""
    unknown = set(policy) - set(DEFAULT_POLICY)
    if unknown:
        raise ValueError(f"unknown camera policy keys: {sorted(unknown)}")
    for key, value in policy.items():
        problem = _policy_problem(key, value)
        if problem is not None:
            raise ValueError(f"camera policy {key} = {value!r}: expected {problem}")
    merged = {**DEFAULT_POLICY, **policy}
    if merged["challenge_min_count"] > merged["challenge_max_count"]:
        raise ValueError("camera policy challenge_min_count > challenge_max_count")
    ensure_tables(db)
    with db.write() as conn:
        conn.execute(identity_policies.delete().where(identity_policies.c.exam_id == exam_id))
        conn.execute(identity_policies.insert().values(exam_id=exam_id, policy=dict(policy)))


def stored_policy(db: Database, exam_id: str) -> dict[str, Any]:
    """Only what an administrator set for the exam (no defaults)."""
    ensure_tables(db)
    with db.read() as conn:
        row = conn.execute(select(identity_policies.c.policy)
                           .where(identity_policies.c.exam_id == exam_id)).first()
    return dict(row.policy) if row is not None else {}


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


def _unverifiable_text(code: str) -> str:
    texts = {
        "no_captures": _("未上传核验照片"),
        "no_base_photo": _("服务器没有该考生的底照"),
        "base_photo_unusable": _("考生底照中找不到可用的人脸"),
    }
    return texts.get(code, code)


def recheck(db: Database, keys: ServerKeys, *, attempt_id: int, candidate_id: int,
            event_id: str, passed: bool, client_score: float | None,
            captures: Sequence[bytes], now_ms: int) -> float | None:
    """Re-compute the match of a passed check on its uploaded captures (stored).

    A pass the server cannot re-compute is stored too, with why (``unverifiable``): the
    reasons below hold it instead of taking the client's word.
    """
    from server.base_photos import get_base_photo

    if not passed:
        return None
    server_score: float | None = None
    unverifiable: str | None = None
    base = get_base_photo(db, keys, candidate_id) if captures else None
    if not captures:
        unverifiable = "no_captures"
    elif base is None:
        unverifiable = "no_base_photo"
    else:
        scores = _server_scores(base.jpeg, captures)
        if not scores:
            unverifiable = "base_photo_unusable"
        else:
            found = [s for s in scores if s is not None]
            server_score = min(found) if len(found) == len(scores) else None
    ensure_tables(db)
    with db.write() as conn:
        conn.execute(identity_rechecks.insert().values(
            attempt_id=attempt_id, event_id=event_id, server_score=server_score,
            client_score=client_score, captures=len(captures), checked_at_ms=now_ms,
            unverifiable=unverifiable))
    log.info("identity recheck attempt %d: server %s client %s%s", attempt_id, server_score,
             client_score, f" (cannot check: {unverifiable})" if unverifiable else "")
    return server_score


# -- the reasons ----------------------------------------------------------------------------

Record = tuple[bool, bool, float | None, dict[str, Any]]


class Recheck(NamedTuple):
    server_score: float | None
    client_score: float | None
    unverifiable: str | None = None


def _records(db: Database, attempt_id: int) -> list[Record]:
    from server.review_store import identity_results as r

    with db.read() as conn:
        rows = conn.execute(select(r.c.passed, r.c.approved_by_proctor, r.c.score, r.c.record)
                            .where(r.c.attempt_id == attempt_id).order_by(r.c.id)).all()
    return [(bool(p), bool(a), s, dict(rec or {})) for p, a, s, rec in rows]


# Which way each security setting the client records (client.camera.settings
# SECURITY_FIELDS) is weaker: +1 a higher value, -1 a lower one. The exam's policy sets
# the bar for its keys; the others are fixed in the client's code (no config file sets
# them), so any weaker value than the defaults this server ships with means a modified
# client. A key missing from the record (an older client) is not judged.
_WEAKER_DIRECTION: dict[str, int] = {
    "match_threshold": -1, "challenge_min_count": -1, "challenge_max_count": -1,
    "challenge_timeout_s": +1, "max_failures_before_proctor": +1,
    "turn_yaw_deg": -1, "turn_min_parallax": -1, "turn_max_step_share": +1,
    "turn_min_foreshortening": -1, "turn_min_head_vs_plane": -1,
    "rigid_max_residual": +1, "pad_min_live": -1,
}
_POLICY_OF_SETTING = {"max_failures_before_proctor": "max_attempts"}
_MUST_BE_ON = ("pad_enabled", "fail_on_wrong_action")


def _required_values(policy: Mapping[str, Any]) -> dict[str, float]:
    from client.camera.settings import DEFAULT_SETTINGS

    required: dict[str, float] = {}
    for name in _WEAKER_DIRECTION:
        key = _POLICY_OF_SETTING.get(name, name)
        value = policy.get(key, getattr(DEFAULT_SETTINGS, name))
        required[name] = float(value)
    return required


def weaker_settings(settings: Mapping[str, Any], policy: Mapping[str, Any]) -> list[str]:
    """Which of the client's settings were weaker than the exam requires."""
    weaker = []
    for name, required in _required_values(policy).items():
        value = settings.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if (value - required) * _WEAKER_DIRECTION[name] > 1e-9:
            weaker.append(name)
    weaker += [name for name in _MUST_BE_ON if settings.get(name) is False]
    return weaker


def _missing_reason(records: Sequence[Record]) -> ReviewReason | None:
    """An exam that requires the check, submitted without a pass or the proctor's word."""
    if any(passed or approved for passed, approved, _s, _rec in records):
        return None
    if any(rec.get("outcome") == "disabled" for _p, _a, _s, rec in records):
        return None        # held as identity.check_off already
    if not records:
        return ReviewReason("identity.missing", _("未进行身份核验（本场考试要求人脸识别身份核验）"))
    return ReviewReason("identity.missing", _(
        "身份核验未通过，也没有监考教师核验（本场考试要求人脸识别身份核验）"))


def identity_reasons(*, records: Sequence[Record], rechecks: Sequence[Recheck],
                     policy: Mapping[str, Any], submitted: bool = False) -> list[ReviewReason]:
    """Pure: the records as (passed, approved_by_proctor, client score, record)."""
    reasons: list[ReviewReason] = []
    if submitted and policy.get("identity_required") is True:
        missing = _missing_reason(records)
        if missing is not None:
            reasons.append(missing)
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
    why = sorted({r.unverifiable for r in rechecks if r.unverifiable is not None})
    if why:
        reasons.append(ReviewReason("identity.unverifiable", _(
            "身份核验无法复核：{why}").format(why="、".join(_unverifiable_text(w) for w in why))))
    for server_score, client_score, unverifiable in rechecks:
        if unverifiable is not None:
            continue
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


def attempt_identity_reasons(db: Database, attempt_id: int, exam_id: str, *,
                             submitted: bool) -> list[ReviewReason]:
    ensure_tables(db)
    with db.read() as conn:
        rows = conn.execute(select(identity_rechecks.c.server_score,
                                   identity_rechecks.c.client_score,
                                   identity_rechecks.c.unverifiable)
                            .where(identity_rechecks.c.attempt_id == attempt_id)).all()
    return identity_reasons(records=_records(db, attempt_id),
                            rechecks=[Recheck(a, b, c) for a, b, c in rows],
                            policy=exam_policy(db, exam_id), submitted=submitted)


def exams_requiring_identity(db: Database) -> list[str]:
    """The exams whose policy holds a submission without a passed check."""
    ensure_tables(db)
    with db.read() as conn:
        rows = conn.execute(select(identity_policies.c.exam_id,
                                   identity_policies.c.policy)).all()
    return [exam_id for exam_id, policy in rows
            if isinstance(policy, Mapping) and policy.get("identity_required") is True]


# -- command line ----------------------------------------------------------------------------

_CLI_OPTIONS: dict[str, tuple[str, type]] = {
    # policy key: (option, type); identity_required is on/off
    "match_threshold": ("--match-threshold", float),
    "max_attempts": ("--max-attempts", int),
    "challenge_min_count": ("--challenge-min-count", int),
    "challenge_max_count": ("--challenge-max-count", int),
    "challenge_timeout_s": ("--challenge-timeout-s", float),
}


def cmd_set_camera_policy(args: argparse.Namespace) -> int:
    from client.errors import UserFacingError
    from server.cli import open_context
    from server.papers import refresh_package

    ctx = open_context(args)
    if ctx.db.get_exam(args.exam) is None:
        raise UserFacingError("exam.unknown", _("考试 {exam} 不存在").format(exam=args.exam))
    policy = {} if args.reset else stored_policy(ctx.db, args.exam)
    for key in _CLI_OPTIONS:
        value = getattr(args, key)
        if value is not None:
            policy[key] = value
    if args.identity_required is not None:
        policy["identity_required"] = args.identity_required == "on"
    try:
        set_exam_policy(ctx.db, args.exam, policy)
    except ValueError as exc:
        raise UserFacingError("camera_policy.invalid", _(
            "人脸核验设置无效：{problem}").format(problem=exc)) from exc
    refresh_package(settings=ctx.settings, db=ctx.db, keys=ctx.keys, exam_id=args.exam)
    current = exam_policy(ctx.db, args.exam)
    for key, value in current.items():
        shown = (_("开") if value else _("关")) if isinstance(value, bool) else value
        print(f"{key} = {shown}")
    print(_("考试 {exam} 的人脸核验设置已保存，试卷包已重新签名，考生电脑需在考前重新下载试卷")
          .format(exam=args.exam))
    return 0


def register_cli(subparsers: Any) -> None:
    from server.cli import add_data_argument

    parser = subparsers.add_parser(
        "set-camera-policy",
        help=_("设置本场考试的人脸核验要求（比对阈值、动作数、重试次数、是否必须核验）"))
    add_data_argument(parser)
    parser.add_argument("exam")
    for key, (option, kind) in _CLI_OPTIONS.items():
        parser.add_argument(option, dest=key, type=kind, default=None,
                            help=_("默认 {value}").format(value=DEFAULT_POLICY[key]))
    parser.add_argument("--identity-required", choices=["on", "off"], default=None,
                        help=_("on：交卷时没有通过的人脸核验（也没有监考人工核验）即待审核"))
    parser.add_argument("--reset", action="store_true",
                        help=_("先恢复默认设置，再应用本次给出的选项"))
    parser.set_defaults(func=cmd_set_camera_policy)
