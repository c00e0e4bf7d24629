"""Make resources/demo/photos/proctor.jpg: the demo proctor's photo (监考教师照片).

    python resources/demo/make_photos.py     # development only: needs scikit-image

scikit-image's ``astronaut`` (Eileen Collins, a NASA portrait, public domain) cropped to
head and shoulders. ``exam-client demo --camera-source FILE`` with a webcam-like frame of
the same portrait (tools/frozen_exam.py makes one) lets the demo proctor pass the 1:1
face match on unlock with real inference on both pictures.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage import data

OUT = Path(__file__).resolve().parent / "photos" / "proctor.jpg"


def main() -> None:
    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    portrait = np.ascontiguousarray(bgr[0:400, 56:376])  # 320 x 400, the ID-photo ratio
    OUT.parent.mkdir(parents=True, exist_ok=True)
    ok, jpeg = cv2.imencode(".jpg", portrait, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise SystemExit("JPEG encoding failed")
    OUT.write_bytes(jpeg.tobytes())
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
