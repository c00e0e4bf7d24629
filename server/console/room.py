"""The room view: one tile per seat, computed from what the server already knows.

A tile's state follows the attempt (docs/lifecycle.md): not logged in, waiting for the
start, answering, no contact for a while ("offline since"), held for a second login,
submitted. Badges beside it say what a proctor should look at: identity not verified,
integrity findings that block now, held for review, absent. All values are plain data;
the page renders them (resources/console/console.js) and the tests read them as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, select

from client.lockdown.away_time import AwayTotals, away_totals
from client.paper.exam_rules import VersionFloor
from server import attempt_time, identity_holds, staff_messages
from server import review_store as rs
from server import schema as t
from server.base_photos import has_base_photo
from server.console import audit, pc_actions
from server.console import tables as ct
from server.console.roles import Account
from server.db import AUTO_SUBMITTED, SUBMITTED, Database, Exam
from server.version_floor import floor_for

# The client uploads every few seconds while it has answers to send and beats every ~12 s
# (POST /attempt/heartbeat) while logged in; two minutes of silence is worth a look.
OFFLINE_AFTER_MS = 120_000

NOT_LOGGED_IN = "not_logged_in"
WAITING = "waiting"
ANSWERING = "answering"
OFFLINE = "offline"
HELD = "held"
SUBMITTED_STATE = "submitted"
STATES = (NOT_LOGGED_IN, WAITING, ANSWERING, OFFLINE, HELD, SUBMITTED_STATE)


@dataclass(frozen=True)
class Tile:
    candidate_id: int
    center_id: str
    room: str
    seat: str
    student_no: str
    name: str
    has_photo: bool
    state: str
    since_ms: int | None  # offline: last contact; submitted: submission time
    last_save_ms: int | None
    last_sync_ms: int | None
    answered: int
    identity: str  # none|verified|failed|approved
    # Integrity episodes still open (a "found" record without its "resolved" one): only
    # blocking ones need a proctor; warnings (a 24H2 PC's unreadable driver list, OBS
    # installed, lab software under "warn") are shown in the detail, never as 需关注.
    integrity_blocking: int
    integrity_warnings: int
    # Of those warnings, the ones that leave the process check blind (processes or
    # process_images unavailable: a tool could run unseen), which do need a proctor.
    integrity_blind: int
    # 切屏: times the exam window lost the foreground to another program during the exam,
    # each counted once (client/lockdown/away_time.py), and the time away; of those, the
    # switches to another user or a remote session (切换用户, held for review). Screen
    # locks (锁屏) and sleep (睡眠唤醒) apart, each with its time: not 切屏.
    switches: int
    switched_away_ms: int
    user_switches: int
    session_locks: int
    locked_ms: int
    suspends: int
    suspended_ms: int
    pending_requests: list[int]
    review_pending: bool
    attendance: str | None  # present|absent|None
    attempt_status: str | None
    client_version: str | None  # from the PC's last login; None: never logged in
    version_too_old: bool  # below the exam's version floor (旧版本不再使用)
    # The candidate's own clock (server/attempt_time.py): extra time granted, the end it
    # makes (server time), and a pause under way.
    extra_ms: int = 0
    end_ms: int = 0
    paused: bool = False
    # A pause under way: since when (server time), and whether it has lasted the server's
    # pause_alarm_s (需关注: a pause forgotten by the proctor who set it).
    paused_since_ms: int | None = None
    pause_overdue: bool = False
    # Revisions this PC saved while the clock was paused (offline: it had not heard of the
    # pause), kept for the record and not counted as answers (server/merge.py).
    answered_during_pause: int = 0
    # Proctor actions taken on this seat's PC (proctor mode), newest first, as the PC
    # reported them (server/console/pc_actions.py): when done, when they arrived.
    pc_actions: list[dict[str, Any]] = field(default_factory=list)
    # The latest messages to this seat (newest first), each with 已送达 / 已读 times.
    messages: list[dict[str, Any]] = field(default_factory=list)
    # The newest face-check hold (server/identity_holds.py): a PC waiting for a proctor
    # after a failed face check, or how the last one was decided; None: never held.
    face_hold: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RoomView:
    exam_id: str
    rooms: list[tuple[str, str]]  # (center, room) pairs this account may choose from
    tiles: list[Tile]
    counts: dict[str, int]
    server_time_ms: int

    def to_json(self) -> dict[str, Any]:
        return {"exam_id": self.exam_id, "rooms": [list(r) for r in self.rooms],
                "tiles": [tile.to_json() for tile in self.tiles], "counts": self.counts,
                "server_time_ms": self.server_time_ms}


def visible_rooms(db: Database, account: Account, exam_id: str) -> list[tuple[str, str]]:
    ct.ensure_tables(db)
    with db.read() as conn:
        pairs = conn.execute(
            select(ct.seats.c.center_id, ct.seats.c.room).distinct()
            .where(ct.seats.c.exam_id == exam_id)
            .order_by(ct.seats.c.center_id, ct.seats.c.room)).all()
    return [(c, r) for c, r in pairs if account.sees(center_id=c, room=r)]


def _seat_key(seat: str) -> tuple[int, str]:
    return (int(seat), "") if seat.isdigit() else (1 << 30, seat)


DEFAULT_PAUSE_ALARM_MS = 10 * 60_000


def room_view(db: Database, account: Account, *, exam: Exam, center_id: str | None,
              room: str | None, now_ms: int,
              pause_alarm_ms: int = DEFAULT_PAUSE_ALARM_MS) -> RoomView:
    """Tiles of one room (or of every visible room when *room* is None)."""
    ct.ensure_tables(db)
    rs.ensure_tables(db)
    staff_messages.ensure_tables(db)
    identity_holds.ensure_tables(db)
    rooms = visible_rooms(db, account, exam.id)
    chosen = [(c, r) for c, r in rooms
              if (center_id is None or c == center_id) and (room is None or r == room)]
    tiles = _tiles(db, exam=exam, rooms=chosen, now_ms=now_ms, pause_alarm_ms=pause_alarm_ms)
    counts = {state: 0 for state in STATES}
    for tile in tiles:
        counts[tile.state] += 1
    counts["total"] = len(tiles)
    counts["absent"] = sum(tile.attendance == "absent" for tile in tiles)
    counts["attention"] = sum(_needs_attention(tile) for tile in tiles)
    return RoomView(exam_id=exam.id, rooms=rooms, tiles=tiles, counts=counts,
                    server_time_ms=now_ms)


def _needs_attention(tile: Tile) -> bool:
    return (tile.state in (HELD, OFFLINE) or tile.identity == "failed"
            or tile.integrity_blocking > 0 or tile.integrity_blind > 0
            or tile.review_pending or tile.version_too_old or tile.pause_overdue
            or tile.answered_during_pause > 0
            or (tile.face_hold is not None and tile.face_hold["status"] == "pending"))


def _tiles(db: Database, *, exam: Exam, rooms: Iterable[tuple[str, str]],
           now_ms: int, pause_alarm_ms: int) -> list[Tile]:
    wanted = set(rooms)
    if not wanted:
        return []
    with db.read() as conn:
        seat_rows = [row for row in conn.execute(
            select(ct.seats.c.candidate_id, ct.seats.c.center_id, ct.seats.c.room,
                   ct.seats.c.seat, t.candidates.c.student_no, t.candidates.c.name)
            .join(t.candidates, t.candidates.c.id == ct.seats.c.candidate_id)
            .where(ct.seats.c.exam_id == exam.id)).all()
            if (row.center_id, row.room) in wanted]
        candidate_ids = [row.candidate_id for row in seat_rows]
        attempts = {row.candidate_id: row for row in conn.execute(
            select(t.attempts).where(t.attempts.c.exam_id == exam.id,
                                     t.attempts.c.candidate_id.in_(candidate_ids))).all()}
        attempt_ids = [row.id for row in attempts.values()]
        answers = {row.attempt_id: row for row in conn.execute(
            select(t.answers.c.attempt_id,
                   func.sum(case((t.answers.c.value.is_not(None), 1), else_=0))
                   .label("answered"),
                   func.max(t.answers.c.client_time_ms).label("last_save"),
                   func.max(t.answers.c.received_at_ms).label("last_sync"))
            .where(t.answers.c.attempt_id.in_(attempt_ids))
            .group_by(t.answers.c.attempt_id)).all()}
        pending: dict[int, list[int]] = {}
        for row in conn.execute(
                select(t.login_requests.c.attempt_id, t.login_requests.c.id)
                .where(t.login_requests.c.attempt_id.in_(attempt_ids),
                       t.login_requests.c.status == "pending",
                       t.login_requests.c.client_id.is_not(None))
                .order_by(t.login_requests.c.id)):
            pending.setdefault(row.attempt_id, []).append(row.id)
        identity = _identity_by_attempt(conn, attempt_ids)
        holds = identity_holds.newest_by_attempt(conn, attempt_ids)
        integrity = _integrity_items(conn, attempt_ids)  # read once for both readings
        findings = _open_integrity_episodes(integrity)
        away = _away_by_attempt(integrity)
        marks = dict(conn.execute(
            select(ct.attendance.c.candidate_id, ct.attendance.c.status)
            .where(ct.attendance.c.exam_id == exam.id,
                   ct.attendance.c.candidate_id.in_(candidate_ids))).all())
        versions: dict[int, str] = {}
        for row in conn.execute(
                select(t.events.c.attempt_id, t.events.c.payload)
                .where(t.events.c.attempt_id.in_(attempt_ids), t.events.c.kind == "login")
                .order_by(t.events.c.id)):
            versions[row.attempt_id] = str(row.payload.get("client_version") or "?")
        clocks = {row.candidate_id: attempt_time.AttemptClock(
            base_end_ms=exam.end_ms, extra_ms=int(row.extra_ms), paused_ms=int(row.paused_ms),
            paused_since_ms=row.paused_since_ms) for row in conn.execute(
                select(t.attempt_times).where(
                    t.attempt_times.c.exam_id == exam.id,
                    t.attempt_times.c.candidate_id.in_(candidate_ids))).all()}
        messages = staff_messages.recent_by_candidate(conn, exam_id=exam.id,
                                                      candidate_ids=candidate_ids)
        pc_reported = _pc_actions_by_candidate(conn, exam_id=exam.id,
                                               candidate_ids=candidate_ids)
        held: dict[int, int] = dict(conn.execute(
            select(t.paused_revisions.c.attempt_id, func.count())
            .where(t.paused_revisions.c.attempt_id.in_(attempt_ids))
            .group_by(t.paused_revisions.c.attempt_id)).all())
    photos = has_base_photo(db, candidate_ids)
    floor = floor_for(db, exam.id)
    tiles = []
    for seat in seat_rows:
        attempt = attempts.get(seat.candidate_id)
        attempt_id = attempt.id if attempt is not None else None
        counted = answers.get(attempt_id) if attempt_id is not None else None
        requests = pending.get(attempt_id, []) if attempt_id is not None else []
        state, since = _state(attempt, exam=exam, held=bool(requests), now_ms=now_ms)
        clock = clocks.get(seat.candidate_id, attempt_time.AttemptClock(exam.end_ms))
        seat_away = away.get(attempt_id or -1, NO_AWAY)
        tiles.append(Tile(
            candidate_id=seat.candidate_id, center_id=seat.center_id, room=seat.room,
            seat=seat.seat, student_no=seat.student_no, name=seat.name,
            has_photo=seat.candidate_id in photos, state=state, since_ms=since,
            last_save_ms=counted.last_save if counted else None,
            last_sync_ms=counted.last_sync if counted else None,
            answered=int(counted.answered or 0) if counted else 0,
            identity=identity.get(attempt_id, "none") if attempt_id is not None else "none",
            integrity_blocking=findings.get(attempt_id or -1, OpenEpisodes()).blocking,
            integrity_warnings=findings.get(attempt_id or -1, OpenEpisodes()).warnings,
            integrity_blind=findings.get(attempt_id or -1, OpenEpisodes()).blind,
            switches=seat_away.losses, switched_away_ms=seat_away.away_ms,
            user_switches=seat_away.user_switches, session_locks=seat_away.locks,
            locked_ms=seat_away.locked_ms, suspends=seat_away.suspends,
            suspended_ms=seat_away.suspended_ms,
            pending_requests=requests,
            review_pending=attempt is not None and attempt.review_status == "pending_review",
            attendance=marks.get(seat.candidate_id),
            attempt_status=attempt.status if attempt is not None else None,
            client_version=versions.get(attempt_id) if attempt_id is not None else None,
            version_too_old=_too_old(floor, versions.get(attempt_id or -1)),
            extra_ms=clock.extra_ms, end_ms=clock.end_ms(now_ms=now_ms), paused=clock.paused,
            paused_since_ms=clock.paused_since_ms,
            pause_overdue=clock.paused_since_ms is not None
            and now_ms - clock.paused_since_ms >= pause_alarm_ms,
            answered_during_pause=int(held.get(attempt_id, 0)) if attempt_id else 0,
            pc_actions=pc_reported.get(seat.candidate_id, []),
            messages=[m.to_console() for m in messages.get(seat.candidate_id, [])],
            face_hold=(holds[attempt_id].to_console()
                       if attempt_id is not None and attempt_id in holds else None)))
    tiles.sort(key=lambda tile: (tile.center_id, tile.room, _seat_key(tile.seat)))
    return tiles


PC_ACTIONS_SHOWN = 5


def _pc_actions_by_candidate(conn: Any, *, exam_id: str,
                             candidate_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(select(ct.audit).where(
            ct.audit.c.exam_id == exam_id, ct.audit.c.role == pc_actions.ROLE,
            ct.audit.c.candidate_id.in_(candidate_ids)).order_by(ct.audit.c.id.desc())):
        shown = found.setdefault(row.candidate_id, [])
        if len(shown) < PC_ACTIONS_SHOWN:
            detail = dict(row.detail or {})
            shown.append({"action": row.action, "label": audit.action_label(row.action),
                          "actor": row.actor_name or row.actor, "done_at_ms": row.at_ms,
                          "arrived_at_ms": detail.get("arrived_at_ms"),
                          "time_trusted": bool(detail.get("time_trusted"))})
    return found


def _too_old(floor: VersionFloor | None, version: str | None) -> bool:
    return floor is not None and version is not None and not floor.accepts(version)


def _state(attempt: Any, *, exam: Exam, held: bool, now_ms: int) -> tuple[str, int | None]:
    if attempt is None or attempt.login_count == 0:
        return NOT_LOGGED_IN, None
    if attempt.status in (SUBMITTED, AUTO_SUBMITTED):
        return SUBMITTED_STATE, attempt.submitted_at_ms
    if held:
        return HELD, attempt.last_contact_ms
    if now_ms < exam.start_ms:
        return WAITING, None
    last = attempt.last_contact_ms
    if last is None or now_ms - last > OFFLINE_AFTER_MS:
        return OFFLINE, last
    return ANSWERING, None


@dataclass(frozen=True)
class OpenEpisodes:
    blocking: int = 0
    warnings: int = 0
    blind: int = 0  # warnings that the process check cannot see (BLINDING_SOURCES)


# Sources whose "source_unavailable" episode means the process check is effectively
# blind: a remote tool could run unseen (a stalled process list, or image files that
# cannot be read so renamed tools go unrecognised), so the seat is 需关注 although the
# finding is only a warning (a warning cannot block the exam).
BLINDING_SOURCES = frozenset({"processes", "process_images"})


def _integrity_items(conn: Any, attempt_ids: list[int]) -> list[Any]:
    """The integrity review records of these attempts, oldest first."""
    i = rs.review_items
    return list(conn.execute(
        select(i.c.attempt_id, i.c.event_id, i.c.payload, i.c.at_ms, i.c.received_at_ms)
        .where(i.c.attempt_id.in_(attempt_ids), i.c.kind == "integrity")
        .order_by(i.c.id)).all())


def _open_integrity_episodes(items: list[Any]) -> dict[int, OpenEpisodes]:
    """Per attempt, the integrity episodes whose last record is "found".

    The client sends one record when a finding starts and one when it ends, keyed as its
    episode tracker keys them (client/integrity/episodes.py: code, check, subject,
    severity), so the newest record of a key says whether the episode is still open.
    """
    # attempt -> episode key -> (last record is "found", its time)
    latest: dict[int, dict[tuple[str, ...], tuple[bool, int]]] = {}
    for row in items:
        finding = row.payload.get("finding") or {}
        key = tuple(str(finding.get(part, "")) for part in
                    ("code", "check", "subject", "severity"))
        at = row.at_ms if row.at_ms is not None else row.received_at_ms
        found = row.payload.get("state", "found") == "found"
        episodes = latest.setdefault(row.attempt_id, {})
        # Records may arrive out of order (the outbox retries): the later one wins.
        previous = episodes.get(key)
        if previous is None or at >= previous[1]:
            episodes[key] = (found, at)
    result = {}
    for attempt_id, episodes in latest.items():
        still_open = [key for key, (is_open, _at) in episodes.items() if is_open]
        result[attempt_id] = OpenEpisodes(
            blocking=sum(key[3] == "block" for key in still_open),
            warnings=sum(key[3] != "block" for key in still_open),
            blind=sum(key[1] == "source_unavailable" and key[2] in BLINDING_SOURCES
                      for key in still_open))
    return result


NO_AWAY = AwayTotals(losses=0, away_ms=0, unknown_returns=0)


def _away_by_attempt(items: list[Any]) -> dict[int, AwayTotals]:
    """Per attempt, 切屏 and lock/suspend/switch episodes from the lockdown's review records
    (one "found" and one "resolved" item each, an upload retried or sent twice counted
    once: the same reading as the proctor panel's on the PC)."""
    records: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for row in items:
        if (row.payload.get("finding") or {}).get("code") == "lockdown":
            records.setdefault(row.attempt_id, []).append((row.event_id, row.payload))
    return {attempt_id: away_totals(rows) for attempt_id, rows in records.items()}


def _identity_by_attempt(conn: Any, attempt_ids: list[int]) -> dict[int, str]:
    """The newest identity result per attempt: verified, approved by a proctor, or failed."""
    newest = (select(rs.identity_results.c.attempt_id,
                     func.max(rs.identity_results.c.id).label("id"))
              .where(rs.identity_results.c.attempt_id.in_(attempt_ids))
              .group_by(rs.identity_results.c.attempt_id).subquery())
    rows = conn.execute(
        select(rs.identity_results.c.attempt_id, rs.identity_results.c.passed,
               rs.identity_results.c.approved_by_proctor)
        .join(newest, and_(newest.c.id == rs.identity_results.c.id))).all()
    result = {}
    for row in rows:
        if row.approved_by_proctor:
            result[row.attempt_id] = "approved"
        else:
            result[row.attempt_id] = "verified" if row.passed else "failed"
    return result
