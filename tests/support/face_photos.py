"""A real face as a webcam frame (skimage's astronaut), JPEG: evidence photos in tests."""

from __future__ import annotations


def face_jpeg(variant: int = 0) -> bytes:
    """640x480 JPEG of the astronaut's face; *variant* 1 is the mirrored frame (another
    frame of the same check)."""
    import cv2
    import numpy as np
    from skimage import data

    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    frame = cv2.resize(bgr[7:232, 73:373], (640, 480), interpolation=cv2.INTER_CUBIC)
    if variant:
        frame = np.ascontiguousarray(frame[:, ::-1])
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return bytes(encoded)
