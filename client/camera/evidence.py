"""Taking the evidence photo (水印照片) once the proctor has approved entry by hand."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from client.camera import diagnose
from client.camera.watermark import EvidencePhoto, WatermarkInfo, evidence_photo

if TYPE_CHECKING:
    from client.camera.sources import FrameSource

# Frames skipped after opening: a camera's auto exposure needs about half a second.
WARMUP_FRAMES = 12


def capture_evidence_photo(
    source: FrameSource,
    info: WatermarkInfo,
    *,
    font_path: Path | None = None,
    warmup_frames: int = WARMUP_FRAMES,
) -> EvidencePhoto:
    """Open *source*, let it settle, watermark one frame; JPEG bytes for the encrypted store.

    Raises CameraError when the camera gives no frame: the approval then goes on without
    a photo and the proctor says so in the approval (the caller decides).
    """
    source.open()
    try:
        latest = None
        for _index in range(max(1, warmup_frames)):
            frame = source.read()
            if frame is None:
                break
            latest = frame
        if latest is None:
            raise diagnose.no_frames(consent=diagnose.read_consent_state())
        return evidence_photo(latest.image, info, font_path=font_path)
    finally:
        source.close()
