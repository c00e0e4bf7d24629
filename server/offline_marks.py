"""The candidate's marks (标记) carried by an offline answer file: when the import keeps them.

Marks travel with the attempt (server/api_attempt.py, ``PUT /attempt/flags``): the PC that
writes sends them, and a PC that takes the attempt over shows them. A PC that never got
them to the server (offline until the end, or until the candidate moved on) has them only
in its store; its proctor's file carries them with the PC's server-time estimate of their
last change (client/export/offline_file.py, ``Marks``). The import keeps the newest word
on the marks, with the same limits as the answers of that file:

- a PC that lost the attempt to another PC (server/take_over.py) contributes only marks
  changed before it lost it: afterwards the candidate was at the other PC;
- marks changed after the attempt closed (the end, or an earlier submission) are not kept;
- marks older than the ones the server has (sent later by a PC, or from a later file)
  never replace them: a stale file imported late must not undo a newer change;
- marks without a change time (a PC that never had a server time, or marks it only got
  from the server) are kept only when the server has none at all.

Marks do not count for the score; they show the candidate (on any PC) and the reviewing
staff which questions the candidate meant to look at again.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Connection, select

from client.export.offline_file import Marks
from server import schema as t
from server.api_attempt import FLAGS_EVENT


class MarksOutcome(StrEnum):
    ABSENT = "absent"                    # the file carries no marks
    APPLIED = "applied"                  # the file's marks are the attempt's marks now
    UNCHANGED = "unchanged"              # the server had these marks already
    OLDER = "older"                      # the server's marks are newer: kept
    AFTER_CLOSE = "after_close"          # changed after the attempt closed: not kept
    AFTER_TAKE_OVER = "after_take_over"  # changed after this PC lost the attempt


def latest_marks(conn: Connection, attempt_id: int) -> tuple[list[str], int] | None:
    """The marks the server holds and how new they are: the change time a file gave, or
    when a PC's online marks arrived (they were changed just before)."""
    e = t.events
    row = conn.execute(select(e.c.payload, e.c.at_ms)
                       .where((e.c.attempt_id == attempt_id) & (e.c.kind == FLAGS_EVENT))
                       .order_by(e.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    payload = dict(row.payload)
    changed = payload.get("changed_ms")
    return [str(q) for q in payload["flags"]], int(changed if changed is not None else row.at_ms)


def judge_marks(marks: Marks | None, *, server: tuple[list[str], int] | None,
                lost_ms: int | None, close_ms: int) -> MarksOutcome:
    """What the import does with a file's marks (the rules in the module docstring)."""
    if marks is None:
        return MarksOutcome.ABSENT
    wanted = sorted(set(marks.question_ids))
    if wanted == (server[0] if server is not None else []):
        return MarksOutcome.UNCHANGED
    changed = marks.changed_server_ms
    if changed is None:
        # Never changed on this PC with a server time: only a PC that never reached the
        # server (so never lost the attempt either) has a word the server lacks.
        return MarksOutcome.APPLIED if server is None and lost_ms is None \
            else MarksOutcome.OLDER
    if lost_ms is not None and changed > lost_ms:
        return MarksOutcome.AFTER_TAKE_OVER
    if changed > close_ms:
        return MarksOutcome.AFTER_CLOSE
    if server is not None and changed <= server[1]:
        return MarksOutcome.OLDER
    return MarksOutcome.APPLIED


def keep_marks(conn: Connection, *, attempt_id: int, marks: Marks, client_id: str,
               file_name: str, now_ms: int) -> None:
    """Record the file's marks as the attempt's (an event, like a PC's online marks)."""
    conn.execute(t.events.insert().values(
        attempt_id=attempt_id, kind=FLAGS_EVENT, at_ms=now_ms, payload={
            "flags": sorted(set(marks.question_ids)), "client_id": client_id,
            "changed_ms": marks.changed_server_ms, "source": "offline_file",
            "file_name": file_name}))
