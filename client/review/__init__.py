"""Identity results, camera events and integrity findings on their way to the server.

    outbox = ReviewOutbox(writer.call, on_queued=uploader.wake)
    outbox.queue(identity_item_from_result(result, at_ms=clock_ms()))
    outbox.queue(camera_event_item(event))                 # opened, and again when closed
    outbox.queue(integrity_item(finding, phase="exam", at_ms=clock_ms()))
    uploader = ReviewUploader(run_on_store=writer.call, post_json=..., client_id=...)
    photo = BasePhotoProvider(get_bytes=..., run_on_store=writer.call).fetch()

Everything waits in the encrypted answer store (blobs ``review-outbox/...``), never in
plain files; the server applies the review rule (docs/review.md). Qt-free.
"""

from client.review.base_photo import BasePhotoProvider, no_base_photo_error
from client.review.outbox import (
    OutboxItem,
    ReviewOutbox,
    camera_event_item,
    camera_event_item_from_json,
    identity_item,
    identity_item_from_result,
    integrity_item,
)
from client.review.uploader import Backoff, ReviewUploader, RoundReport

__all__ = [
    "Backoff",
    "BasePhotoProvider",
    "OutboxItem",
    "ReviewOutbox",
    "ReviewUploader",
    "RoundReport",
    "camera_event_item",
    "camera_event_item_from_json",
    "identity_item",
    "identity_item_from_result",
    "integrity_item",
    "no_base_photo_error",
]
