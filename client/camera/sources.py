"""Where frames come from: a real camera, a file (video, image, folder of images), memory.

All sources hand out ``Frame``s with a timestamp in milliseconds. For a camera it is the
monotonic clock at capture; for files it is derived from the frame rate, so a recorded
sequence is judged by the liveness machine exactly as it was recorded (tests, support
replays of ``--camera-source PATH``) and as fast as the CPU allows.

cv2 is imported inside the methods that need it: building a source is free.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from client.camera import diagnose
from client.camera.errors import CameraError
from client.i18n import _

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Image = npt.NDArray[np.uint8]

log = logging.getLogger(__name__)

DEFAULT_FILE_FPS = 25.0
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".wmv", ".m4v"})


@dataclass(frozen=True)
class Frame:
    image: Image          # BGR uint8, HxWx3, unmirrored
    t_ms: int


class FrameSource(Protocol):
    """A stream of frames. Open, read until None (end), close; all on one thread."""

    @property
    def description(self) -> str: ...

    def open(self) -> None:
        """Start the stream; raise CameraError with a diagnosis if it cannot start."""

    def read(self) -> Frame | None:
        """The next frame, or None when the stream has ended or stopped delivering."""

    def close(self) -> None: ...


def _flip_if(image: Image, flip: bool) -> Image:
    if not flip:
        return image
    import numpy as np

    return np.ascontiguousarray(image[:, ::-1])


class MemorySequenceSource:
    """Frames held in memory (tests, benchmarks, a support replay decoded beforehand)."""

    def __init__(self, images: Sequence[Image], *, fps: float = 25.0, start_ms: int = 0) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        self._images = images
        self._fps = fps
        self._start_ms = start_ms
        self._index = 0
        self._open = False

    @property
    def description(self) -> str:
        return f"memory ({len(self._images)} frames at {self._fps:g} fps)"

    def open(self) -> None:
        self._index = 0
        self._open = True

    def read(self) -> Frame | None:
        if not self._open or self._index >= len(self._images):
            return None
        t_ms = self._start_ms + round(self._index * 1000.0 / self._fps)
        frame = Frame(image=self._images[self._index], t_ms=t_ms)
        self._index += 1
        return frame

    def close(self) -> None:
        self._open = False


class FileSequenceSource:
    """A video file, a single image (repeated), or a folder of images (sorted by name).

    ``realtime=True`` paces the frames to *fps* (a demo in the UI); otherwise frames come
    as fast as they are read, with timestamps as if they had been captured at *fps*.
    A single image is repeated for ``still_seconds``: it is a frozen frame, and the
    liveness check rejects it, which is the honest outcome for a photo.
    """

    def __init__(
        self,
        path: Path,
        *,
        fps: float | None = None,
        realtime: bool = False,
        loop: bool = False,
        still_seconds: float = 10.0,
    ) -> None:
        if fps is not None and fps <= 0:
            raise ValueError("fps must be positive")
        self.path = Path(path)
        # None: a video's own frame rate (images: 25 fps). Assuming 25 made a 15 fps
        # recording play 1.7x too fast, and the timeouts judged it wrongly.
        self._requested_fps = fps
        self._fps = fps or DEFAULT_FILE_FPS
        self._realtime = realtime
        self._loop = loop
        self._still_seconds = still_seconds
        self._frames: Iterator[Image] | None = None
        self._capture: Any = None
        self._index = 0
        self._started = 0.0

    @property
    def description(self) -> str:
        return f"file {self.path}"

    def open(self) -> None:
        path = self.path
        if not path.exists():
            raise CameraError(
                "camera.source_missing", _("找不到指定的摄像头替代文件"), path=str(path)
            )
        self._index = 0
        self._started = time.monotonic()
        if path.is_dir():
            files = sorted(
                child for child in path.iterdir() if child.suffix.lower() in IMAGE_SUFFIXES
            )
            if not files:
                raise CameraError(
                    "camera.source_unreadable", _("文件夹中没有图片"), path=str(path)
                )
            # Decoded once: re-reading on every loop let a script that rewrites a file
            # drive the "camera" (a reactive virtual camera).
            self._frames = self._image_files([_read_image(file) for file in files])
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            image = _read_image(path)
            count = max(1, round(self._still_seconds * self._fps))
            self._frames = iter([image] * count)
        else:
            self._frames = self._video_frames()

    @property
    def fps(self) -> float:
        return self._fps

    def _image_files(self, images: list[Image]) -> Iterator[Image]:
        while True:
            yield from images
            if not self._loop:
                return

    def _video_frames(self) -> Iterator[Image]:
        import cv2

        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise CameraError(
                "camera.source_unreadable", _("无法读取视频文件"), path=str(self.path)
            )
        self._capture = capture
        own_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if self._requested_fps is None and 1.0 <= own_fps <= 240.0:
            self._fps = own_fps
        while True:
            ok, image = capture.read()
            if ok:
                yield image  # type: ignore[misc]
                continue
            if not self._loop:
                return
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)

    def read(self) -> Frame | None:
        if self._frames is None:
            return None
        image = next(self._frames, None)
        if image is None:
            return None
        t_ms = round(self._index * 1000.0 / self._fps)
        self._index += 1
        if self._realtime:
            delay = self._started + t_ms / 1000.0 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return Frame(image=image, t_ms=t_ms)

    def close(self) -> None:
        self._frames = None
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _read_image(path: Path) -> Image:
    # Decoding from bytes: cv2.imread cannot open non-ASCII paths on Windows.
    import cv2
    import numpy as np

    try:
        data = np.frombuffer(path.read_bytes(), np.uint8)
    except OSError as exc:
        raise CameraError(
            "camera.source_unreadable", _("无法读取图片文件"), path=str(path), error=str(exc)
        ) from exc
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise CameraError("camera.source_unreadable", _("无法读取图片文件"), path=str(path))
    return image  # type: ignore[return-value]


class OpenCVCameraSource:
    """A real camera through cv2.VideoCapture (MSMF or DirectShow on Windows, V4L2 on Linux).

    ``open()`` turns OpenCV's silent failure into a diagnosis (client.camera.diagnose):
    no camera, busy in another application, blocked by the privacy setting.
    """

    def __init__(
        self,
        *,
        index: int,
        backend: int = 0,
        name: str = "",
        path: str = "",
        width: int = 640,
        height: int = 480,
        flip_horizontal: bool = False,
    ) -> None:
        self.index = index
        self.backend = backend
        self.name = name
        self.path = path   # the driver's device path (MSMF / DirectShow / V4L2)
        self._width = width
        self._height = height
        self._flip = flip_horizontal
        self._capture: Any = None
        self._failed_reads = 0

    @property
    def description(self) -> str:
        return f"camera {self.index} {self.name}".strip()

    def open(self) -> None:
        import cv2

        capture = cv2.VideoCapture(self.index, self.backend)
        if not capture.isOpened():
            capture.release()
            raise diagnose.open_failure(
                camera_count=None, consent=diagnose.read_consent_state(), name=self.name
            )
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self._width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self._height)
        # Small buffers keep the preview live instead of seconds behind.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture
        self._failed_reads = 0

    def read(self) -> Frame | None:
        capture = self._capture
        if capture is None:
            return None
        # A few failed reads in a row are normal while a camera starts up (MSMF).
        while self._failed_reads < 30:
            ok, image = capture.read()
            if ok and image is not None:
                self._failed_reads = 0
                return Frame(
                    image=_flip_if(image, self._flip), t_ms=time.monotonic_ns() // 1_000_000
                )
            self._failed_reads += 1
            time.sleep(0.03)
        return None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def backend_name(backend: int) -> str:
    import cv2

    names = {cv2.CAP_ANY: "any", cv2.CAP_MSMF: "msmf", cv2.CAP_DSHOW: "dshow",
             cv2.CAP_V4L2: "v4l2", cv2.CAP_AVFOUNDATION: "avfoundation"}
    return names.get(backend, str(backend))


def source_facts(source: object) -> dict[str, str]:
    """Where the frames came from, for the attempt record: the kind of source and, for a
    camera, its name, driver path and backend. A file or memory source is never a
    camera, and the record says so."""
    if isinstance(source, OpenCVCameraSource):
        return {"kind": "camera", "device": source.name, "index": str(source.index),
                "path": source.path, "backend": backend_name(source.backend)}
    if isinstance(source, FileSequenceSource):
        return {"kind": "file", "path": str(source.path)}
    if isinstance(source, MemorySequenceSource):
        return {"kind": "memory"}
    kind = getattr(source, "source_kind", None)
    return {"kind": str(kind) if kind else "other", "class": type(source).__name__}
