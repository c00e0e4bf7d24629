"""When a PC lost its attempt to another PC: the limit on what its offline file may change.

One writer per attempt (docs/lifecycle.md): a writing login of another PC revokes the old
PC's token and records the event ``tokens_revoked`` with the client ids that held a
writing token until then. The old PC, cut off from the network, may go on answering
without knowing; those answers were not given by the candidate, who was at the other PC
by then. So a proctor's file from a PC that lost the attempt is merged only up to the
moment it lost it (docs/offline.md, "A file from a PC that was taken over").

The PC that holds the attempt now (its latest writing token) has no such limit, even if
it lost the attempt once and took it back; a PC never revoked (one that never reached the
server and certified its key in the file) has none either: the exam's end, or the
submission, limits them (server/merge.py).
"""

from __future__ import annotations

from server.db import Database

TAKE_OVER_EVENT = "tokens_revoked"


def seat_lost_ms(db: Database, *, attempt_id: int, client_id: str) -> int | None:
    """Server time at which *client_id* last lost the attempt to another PC, or None if
    it holds the attempt now or never lost it."""
    if not client_id or db.writer_client_id(attempt_id) == client_id:
        return None
    lost = [event.at_ms for event in db.events(attempt_id=attempt_id, kind=TAKE_OVER_EVENT)
            if client_id in event.payload.get("revoked_client_ids", ())]
    return max(lost, default=None)
