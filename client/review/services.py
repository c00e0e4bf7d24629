"""One attempt's review records: queued in the encrypted store, uploaded in the background.

Identity results (with captures and the proctor's evidence photo), camera proctoring
events and integrity findings all go through one outbox and one uploader, so they leave
the PC exactly once whenever the network allows (docs/review.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from client.lockdown.away_time import episode_id
from client.review.base_photo import BasePhotoProvider
from client.review.outbox import (
    ReviewOutbox,
    StoreRunner,
    camera_event_item,
    identity_item_from_result,
    integrity_item,
)
from client.review.transport import HttpTransport
from client.review.uploader import ReviewUploader

if TYPE_CHECKING:
    from client.camera.identity_check import IdentityResult
    from client.camera.proctor_monitor import ProctorEvent
    from client.integrity.episodes import EpisodeChanges

log = logging.getLogger(__name__)


class ReviewServices:
    def __init__(self, *, run_on_store: StoreRunner, transport: HttpTransport, client_id: str,
                 server_now_ms: Callable[[], int | None]) -> None:
        self._now = server_now_ms
        self.uploader = ReviewUploader(run_on_store=run_on_store,
                                       post_json=transport.post_json, client_id=client_id)
        self.outbox = ReviewOutbox(run_on_store, on_queued=self.uploader.wake)
        self.base_photos = BasePhotoProvider(get_bytes=transport.get_bytes,
                                             run_on_store=run_on_store)

    def start(self) -> None:
        self.uploader.start()

    def stop(self) -> None:
        self.uploader.stop()

    def fetch_base_photo(self) -> bytes | None:
        """*Blocking.* The base photo (server, else the encrypted copy); None if there is none."""
        from client.camera.errors import CameraError

        try:
            return self.base_photos.fetch()
        except CameraError as error:
            log.warning("no base photo: %s (%s)", error.code, error.message)
            return None

    def identity(self, result: IdentityResult, *, approved_by_proctor: bool = False,
                 proctor_id: str | None = None, evidence: bytes | None = None) -> str:
        """Queue one identity result; returns its event id (a console hold on the same
        failed check names it, so the server stores the check once)."""
        item = identity_item_from_result(
            result, at_ms=self._now(), approved_by_proctor=approved_by_proctor,
            proctor_id=proctor_id, evidence=evidence)
        self.outbox.queue(item)
        return item.event_id

    def camera_event(self, event: ProctorEvent) -> None:
        self.outbox.queue(camera_event_item(event))

    def integrity(self, changes: EpisodeChanges, *, phase: Any = "exam") -> None:
        """One record when a warning or block starts and one when it ends (episodes are
        debounced by client/integrity/episodes.py), each with its evidence."""
        now = self._now()
        for finding in changes.started:
            self.outbox.queue(integrity_item(finding, phase=phase, at_ms=now))
        for finding in changes.ended:
            self.outbox.queue(integrity_item(finding, phase=phase, at_ms=now, state="resolved"))


    def lockdown(self, finding: dict[str, object], *, event_id: str, ended: bool,
                 at_ms: int | None) -> None:
        """A focus loss or display change (client/lockdown/focus.py): queued as a warning
        finding when it starts ("found") and another when it ends ("resolved", with its end
        time), as integrity findings come and go (the server keeps the first copy of an id)."""
        state: Literal["found", "resolved"] = "resolved" if ended else "found"
        self.outbox.queue(integrity_item(finding, phase="exam", at_ms=at_ms, state=state,
                                         event_id=f"{episode_id(event_id)}-{state}"))


def transport_for(session: Any) -> HttpTransport:
    """JSON/bytes requests with the session's login token, TLS settings and connections."""
    api = session.api
    return HttpTransport(base_url=api.base_url, token=lambda: api.token, session=api.session,
                         verify=api.verify, timeout_s=api.timeout_s)


def review_services_for(session: Any) -> ReviewServices:
    """The services of a logged-in client.session.exam_session.ExamSession."""
    return ReviewServices(run_on_store=session.run_on_store, transport=transport_for(session),
                          client_id=session.api.client_id,
                          server_now_ms=session.clock.now_ms)
