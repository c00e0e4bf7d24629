"""Identity results, camera events and integrity findings from the exam PC, and the rule
that holds an attempt's result for review (待审核). docs/review.md describes all of it.

    POST /api/v1/attempt/identity           one identity check (record + JPEG captures)
    POST /api/v1/attempt/camera-events      proctoring events (+ small JPEG snapshots)
    POST /api/v1/attempt/integrity-events   e-01/e-02 findings with their evidence
    exam-server review EXAM [--all] [--clear CANDIDATE] [--purge-images]

Every item carries a client-generated ``event_id``; the first copy of an id is kept and
a replay changes nothing (a camera event is the one exception: its close, with
``ended_ms``, completes the open record). The tables, the request bodies and the sealed
images are in server/review_store.py.

The rule (one implementation, here; the camera part is client/camera/review.py's
``review_reasons``): the attempt is ``pending_review`` when

1. an identity check failed and the proctor approved entry (人脸识别认证未通过), or
2. camera events match the camera rule (covered, too dark, several people, another
   person, camera lost, or no face for >= 60 s in total), or
3. a blocking integrity finding (e-01/e-02) appeared during the exam, or
4. server/identity_audit.py finds the identity checks wanting (the check switched off,
   weaker settings than the exam's policy, frames not from a camera, a pass after too
   many failures, the server's own re-computed match disagreeing or impossible, or, in
   an exam whose policy requires the check, a submission without a passed one).

A reviewer's clearance covers what existed when it was given; anything new that would
hold the result (a new reason, or a new event of a holding kind) holds it again.
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from sqlalchemy import delete, select

from client.camera.review import ALWAYS_REVIEW, ReviewReason, review_reasons
from client.i18n import _
from server import attempt_time
from server import schema as t
from server.auth import CandidateAuth, Context
from server.db import PENDING_REVIEW, Attempt, Candidate, Database
from server.identity_audit import (
    attempt_identity_reasons,
    exam_policy,
    exams_requiring_identity,
    recheck,
)
from server.review_store import (
    MAX_IMAGE_BYTES,
    CameraEventsIn,
    IdentityIn,
    IdentityRow,
    ImageRef,
    IntegrityEventsIn,
    ItemRow,
    decode_jpeg,
    ensure_tables,
    identity_results,
    image_refs,
    load_material,
    review_blobs,
    review_items,
    review_states,
    store_camera_events,
    store_identity,
    store_integrity_events,
    write_state,
)

log = logging.getLogger(__name__)

# Evaluation reads everything and writes the verdict: one at a time per process.
_evaluate_lock = threading.RLock()


# -- the rule --------------------------------------------------------------------------

def identity_not_verified(identity: Iterable[IdentityRow]) -> bool:
    """A failed check after which the proctor let the candidate in (人脸识别认证未通过)."""
    return any(r.approved_by_proctor and not r.passed for r in identity)


def _blocking_in_exam(payload: Mapping[str, Any]) -> bool:
    finding = payload.get("finding") or {}
    return (payload.get("phase") == "exam" and payload.get("state", "found") == "found"
            and finding.get("severity") == "block")


def _integrity_reasons(payloads: Iterable[Mapping[str, Any]]) -> list[ReviewReason]:
    names: dict[str, list[str]] = {}
    for payload in payloads:
        if not _blocking_in_exam(payload):
            continue
        finding = payload["finding"]
        code = f"integrity.{finding.get('code')}.{finding.get('kind')}"
        name = str((finding.get("name") or {}).get("zh_CN") or finding.get("subject") or "")
        if name not in names.setdefault(code, []):
            names[code].append(name)
    return [
        ReviewReason(code, _("考试期间检测到违规环境（{code}）：{names}").format(
            code=code.split(".")[1], names="、".join(n for n in found if n) or "-"))
        for code, found in names.items()
    ]


def attempt_reasons(*, identity: Sequence[IdentityRow], items: Sequence[ItemRow],
                    end_ms: int) -> list[ReviewReason]:
    """Why the attempt must be reviewed (empty: it need not be). Pure."""
    reasons = review_reasons(
        identity_verified=not identity_not_verified(identity),
        events=[i.payload for i in items if i.kind == "camera"],
        end_ms=end_ms,
    )
    return reasons + _integrity_reasons(i.payload for i in items if i.kind == "integrity")


def _holds_on_its_own(item: ItemRow) -> bool:
    """An item that would hold the result by itself (used after a clearance)."""
    if item.kind == "camera":
        return item.payload.get("kind") in ALWAYS_REVIEW
    return item.kind == "integrity" and _blocking_in_exam(item.payload)


@dataclass(frozen=True)
class Verdict:
    attempt_id: int
    reasons: tuple[ReviewReason, ...]
    pending: bool          # the result is held now
    cleared_by: str | None = None
    cleared_at_ms: int | None = None

    @property
    def reason_text(self) -> str | None:
        return "；".join(r.text for r in self.reasons) or None


def _end_ms(attempt: Attempt, exam_end_ms: int, now_ms: int) -> int:
    # An event still open counts until the submission, or until now during the exam.
    if attempt.submitted_at_ms is not None:
        return attempt.submitted_at_ms
    return min(now_ms, exam_end_ms)


def evaluate_attempt(db: Database, attempt_id: int, *, now_ms: int) -> Verdict:
    """Apply the rule to everything stored for the attempt and set its review status."""
    ensure_tables(db)
    with _evaluate_lock:
        attempt = db.get_attempt(attempt_id)
        exam = db.get_exam(attempt.exam_id) if attempt else None
        if attempt is None or exam is None:
            raise ValueError(f"no attempt {attempt_id}")
        identity, items, state = load_material(db, attempt_id)
        reasons = attempt_reasons(identity=identity, items=items,
                                  end_ms=_end_ms(attempt, attempt_time.end_ms_for(
                                      db, exam=exam, candidate_id=attempt.candidate_id,
                                      now_ms=now_ms), now_ms))
        # The server's own look at the identity checks (server/identity_audit.py).
        reasons += attempt_identity_reasons(db, attempt_id, attempt.exam_id,
                                            submitted=attempt.submitted_at_ms is not None)
        codes = tuple(r.code for r in reasons)
        pending = bool(reasons)
        if pending and state is not None and state.cleared_codes is not None:
            new_codes = set(codes) - set(state.cleared_codes)
            new_identity = any(r.id > state.cleared_through_identity and r.approved_by_proctor
                               and not r.passed for r in identity)
            new_items = any(i.id > state.cleared_through_item and _holds_on_its_own(i)
                            for i in items)
            pending = bool(new_codes or new_identity or new_items)
        verdict = Verdict(attempt_id, tuple(reasons), pending,
                          state.cleared_by if state else None,
                          state.cleared_at_ms if state else None)
        written = state.reason_written if state else None
        if pending:
            if attempt.review_status != PENDING_REVIEW or attempt.review_reason != \
                    verdict.reason_text:
                db.set_review(attempt_id, pending=True, reason=verdict.reason_text)
            written = verdict.reason_text
        elif (attempt.review_status == PENDING_REVIEW and written is not None
              and attempt.review_reason == written):
            # Only undo a hold this module placed (e.g. a no-face event whose close came
            # later and made it short); someone else's hold stays.
            db.set_review(attempt_id, pending=False, reason=None)
            written = None
        write_state(db, attempt_id, codes=codes, reason_written=written, now_ms=now_ms)
    if pending:
        log.info("attempt %d held for review: %s", attempt_id, ", ".join(codes))
    return verdict


def clear_review(db: Database, attempt_id: int, *, by: str, now_ms: int) -> Verdict:
    """A reviewer has looked at everything stored so far: release the result."""
    ensure_tables(db)
    with _evaluate_lock:
        verdict = evaluate_attempt(db, attempt_id, now_ms=now_ms)
        identity, items, _state = load_material(db, attempt_id)
        codes = [r.code for r in verdict.reasons]
        write_state(db, attempt_id, now_ms=now_ms, cleared_codes=codes,
                     cleared_through_identity=max((r.id for r in identity), default=0),
                     cleared_through_item=max((i.id for i in items), default=0),
                     cleared_by=by, cleared_at_ms=now_ms, reason_written=None)
        db.set_review(attempt_id, pending=False, reason=None)
        db.add_event(attempt_id=attempt_id, kind="review_cleared",
                     payload={"by": by, "codes": codes}, at_ms=now_ms)
    log.info("attempt %d review cleared by %s (%s)", attempt_id, by, ", ".join(codes))
    return Verdict(attempt_id, verdict.reasons, False, by, now_ms)


# -- overview (CLI and admin page) -----------------------------------------------------

@dataclass(frozen=True)
class ReviewEntry:
    attempt: Attempt
    candidate: Candidate
    verdict: Verdict
    identity: tuple[IdentityRow, ...]
    items: tuple[ItemRow, ...]
    images: tuple[ImageRef, ...] = field(default=())

    @property
    def identity_failed(self) -> bool:
        return identity_not_verified(self.identity)


def reviewable_attempts(db: Database, *, exam_id: str, center_id: str | None) -> list[int]:
    """Attempts of the exam (in the center, if given) with anything the rule looks at."""
    ensure_tables(db)
    a, c = t.attempts, t.candidates
    has_material = (
        a.c.id.in_(select(identity_results.c.attempt_id))
        | a.c.id.in_(select(review_items.c.attempt_id))
        | a.c.id.in_(select(review_states.c.attempt_id))
        | (a.c.review_status == PENDING_REVIEW))
    query = (select(a.c.id).join(c, c.c.id == a.c.candidate_id)
             .where((a.c.exam_id == exam_id) & has_material).order_by(c.c.student_no))
    if center_id is not None:
        query = query.where(c.c.center_id == center_id)
    with db.read() as conn:
        return [int(x) for x in conn.execute(query).scalars()]


def review_entries(db: Database, *, exam_id: str, center_id: str | None,
                   now_ms: int) -> list[ReviewEntry]:
    """Every attempt with review material, evaluated now (open events grow with time)."""
    entries = []
    for attempt_id in reviewable_attempts(db, exam_id=exam_id, center_id=center_id):
        verdict = evaluate_attempt(db, attempt_id, now_ms=now_ms)
        attempt = db.get_attempt(attempt_id)
        candidate = db.get_candidate(attempt.candidate_id) if attempt else None
        if attempt is None or candidate is None:
            continue
        identity, items, _state = load_material(db, attempt_id)
        entries.append(ReviewEntry(attempt, candidate, verdict, tuple(identity), tuple(items),
                                   tuple(image_refs(db, attempt_id))))
    return entries


def reevaluate_submitted(db: Database, *, now_ms: int) -> int:
    """Evaluate again every attempt submitted since its last evaluation (for the sweeper).

    An event still open at the submission (a PC that crashed, an event whose close never
    came) counts until the submission, which is known only once it happened.
    """
    ensure_tables(db)
    a, s = t.attempts, review_states
    required = exams_requiring_identity(db)
    with db.read() as conn:
        ids = [int(x) for x in conn.execute(
            select(a.c.id).join(s, s.c.attempt_id == a.c.id)
            .where(a.c.submitted_at_ms.is_not(None)
                   & (s.c.evaluated_at_ms < a.c.submitted_at_ms))).scalars()]
        # Never evaluated (no upload at all) in an exam that requires the identity check:
        # exactly the attempt of a client that never sent one.
        if required:
            ids += [int(x) for x in conn.execute(
                select(a.c.id).where(a.c.exam_id.in_(required)
                                     & a.c.submitted_at_ms.is_not(None)
                                     & a.c.id.not_in(select(s.c.attempt_id)))).scalars()]
    for attempt_id in ids:
        evaluate_attempt(db, attempt_id, now_ms=now_ms)
    return len(ids)


def evaluate_submission(db: Database, attempt: Attempt, *, now_ms: int) -> None:
    """At submission: an exam that requires the identity check holds an attempt with no
    passed check on record (the sweeper covers auto-submitted ones)."""
    if exam_policy(db, attempt.exam_id)["identity_required"] is True:
        evaluate_attempt(db, attempt.id, now_ms=now_ms)


def purge_images(db: Database, *, exam_id: str) -> int:
    """Delete the images of the exam's attempts that are not held for review."""
    ensure_tables(db)
    a = t.attempts
    released = select(a.c.id).where((a.c.exam_id == exam_id)
                                    & (a.c.review_status != PENDING_REVIEW))
    with db.write() as conn:
        result = conn.execute(delete(review_blobs)
                              .where(review_blobs.c.attempt_id.in_(released)))
    return int(result.rowcount or 0)


# -- HTTP ------------------------------------------------------------------------------

router = APIRouter(prefix="/attempt")


@router.post("/identity")
def post_identity(body: IdentityIn, session: CandidateAuth, ctx: Context) -> dict[str, Any]:
    """One identity check (every result, failed ones too; the proctor's approval with its
    watermarked evidence photo is a result with ``approved_by_proctor``)."""
    now = ctx.clock.now_ms()
    stored = store_identity(ctx.db, ctx.keys, attempt_id=session.attempt.id, body=body,
                            now_ms=now)
    if stored and body.passed:
        recheck(ctx.db, ctx.keys, attempt_id=session.attempt.id,
                candidate_id=session.attempt.candidate_id, event_id=body.event_id,
                passed=body.passed, client_score=body.score,
                captures=[decode_jpeg(c, field_name="captures", limit=MAX_IMAGE_BYTES)
                          for c in body.captures], now_ms=now)
    if stored:
        evaluate_attempt(ctx.db, session.attempt.id, now_ms=now)
    return {"event_id": body.event_id, "duplicate": not stored, "epoch_ms": now}


@router.post("/camera-events")
def post_camera_events(body: CameraEventsIn, session: CandidateAuth,
                       ctx: Context) -> dict[str, Any]:
    now = ctx.clock.now_ms()
    acked = store_camera_events(ctx.db, ctx.keys, attempt_id=session.attempt.id, body=body,
                                now_ms=now)
    evaluate_attempt(ctx.db, session.attempt.id, now_ms=now)
    return {"acked": acked, "epoch_ms": now}


@router.post("/integrity-events")
def post_integrity_events(body: IntegrityEventsIn, session: CandidateAuth,
                          ctx: Context) -> dict[str, Any]:
    now = ctx.clock.now_ms()
    acked = store_integrity_events(ctx.db, attempt_id=session.attempt.id, body=body,
                                   now_ms=now)
    evaluate_attempt(ctx.db, session.attempt.id, now_ms=now)
    return {"acked": acked, "epoch_ms": now}


# -- command line ----------------------------------------------------------------------

def format_entry(entry: ReviewEntry) -> list[str]:
    if entry.verdict.pending:
        status = _("待审核")
    elif entry.verdict.cleared_by:
        status = _("已审核（{by}）").format(by=entry.verdict.cleared_by)
    else:
        status = _("无需审核")
    head = _("{no} {name}：{status}，图片 {images} 张").format(
        no=entry.candidate.student_no, name=entry.candidate.name, status=status,
        images=len(entry.images))
    return [head, *("  - " + r.text for r in entry.verdict.reasons)]


def cmd_review(args: argparse.Namespace) -> int:
    from client.errors import UserFacingError
    from server.api_admin import find_exam_candidate
    from server.cli import open_context

    ctx = open_context(args)
    ensure_tables(ctx.db)
    if ctx.db.get_exam(args.exam) is None:
        raise UserFacingError("exam.unknown", _("考试 {exam} 不存在").format(exam=args.exam))
    now = ctx.clock.now_ms()
    if args.clear:
        candidate = find_exam_candidate(ctx.db, exam_id=args.exam, who=args.clear)
        attempt = ctx.db.find_attempt(exam_id=args.exam, candidate_id=candidate.id)
        if attempt is None:
            raise UserFacingError("review.no_attempt",
                                  _("考生 {who} 没有参加这场考试").format(who=args.clear))
        verdict = clear_review(ctx.db, attempt.id, by=args.by, now_ms=now)
        print(_("{no} {name}：已标记为已审核（{count} 条原因）").format(
            no=candidate.student_no, name=candidate.name, count=len(verdict.reasons)))
        return 0
    if args.purge_images:
        removed = purge_images(ctx.db, exam_id=args.exam)
        print(_("已删除 {n} 张不再需要审核的图片").format(n=removed))
        return 0
    entries = review_entries(ctx.db, exam_id=args.exam, center_id=args.center, now_ms=now)
    shown = [e for e in entries if args.all or e.verdict.pending]
    for entry in shown:
        print("\n".join(format_entry(entry)))
    print(_("考试 {exam}：待审核 {pending} 人").format(
        exam=args.exam, pending=sum(1 for e in entries if e.verdict.pending)))
    return 0


def register_cli(subparsers: Any) -> None:
    from server.cli import add_data_argument

    parser = subparsers.add_parser("review", help=_("列出待审核的考生（人脸识别、监控、环境检测）"))
    add_data_argument(parser)
    parser.add_argument("exam")
    parser.add_argument("--all", action="store_true", help=_("也列出已审核和无需审核的考生"))
    parser.add_argument("--center", default=None, help=_("只列出这个考点的考生"))
    parser.add_argument("--clear", default=None, metavar="CANDIDATE",
                        help=_("将该考生（学号或身份证号）标记为已审核"))
    parser.add_argument("--by", default="cli", help=_("审核人（记录在审核记录中）"))
    parser.add_argument("--purge-images", action="store_true",
                        help=_("删除不再需要审核的考生的核验图片"))
    parser.set_defaults(func=cmd_review)
